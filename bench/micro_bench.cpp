// Micro-benchmarks (Google Benchmark) of Confab's hot paths:
//  - frame decode: parsing and validating a client's send frame;
//  - event encode: serialising a committed event once and splicing it into an event frame;
//  - fan-out: the hub routing one committed event to N local sessions;
//  - sequence assignment: a committed send (seq + one stream position per member) on SQLite.
// Run: build/release/bench/micro_bench (see docs/performance.md).
#include "broker/inproc_broker.hpp"
#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "gateway/trace.hpp"
#include "gateway/hub.hpp"
#include "protocol/codec.hpp"
#include "storage/migrate.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <filesystem>
#include <random>

#include "protocol/decode.hpp"

using namespace confab;
namespace asio = boost::asio;

namespace {

void BM_frame_decode(benchmark::State& state) {
  const std::string frame =
      R"({"op":"send","id":1234,"conv":42,"client_id":"c-1234-98765","text":"hello there, this is a message of about a hundred bytes of text."})";
  for (auto _ : state) {
    auto r = protocol::parse_frame(frame, 64 * 1024);
    auto text = protocol::get_string(r->args, "text");
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_frame_decode);

// A send's fields, as the operation table reads them (chat/messages.cpp declares the same).
struct send_fields {
  std::int64_t conv;
  protocol::bytes<1, 64> client_id;
  std::string text;
  std::optional<protocol::bytes<1, 128>> content_type;
  std::optional<std::int64_t> reply_to;
};
BOOST_DESCRIBE_STRUCT(send_fields, (), (conv, client_id, text, content_type, reply_to))

const std::string send_frame =
    R"({"op":"send","id":1234,"conv":42,"client_id":"c-1234-98765","text":"hello there, this is a message of about a hundred bytes of text."})";

// The frame parsed, then its fields read into the typed request (protocol/decode.hpp).
void BM_send_request_typed(benchmark::State& state) {
  for (auto _ : state) {
    auto r = protocol::parse_frame(send_frame, 64 * 1024);
    auto req = protocol::decode<send_fields>(r->args);
    benchmark::DoNotOptimize(req);
  }
}
BENCHMARK(BM_send_request_typed);

// The same fields read one by one with the accessors (how operations read them before the table).
void BM_send_request_by_hand(benchmark::State& state) {
  for (auto _ : state) {
    auto r = protocol::parse_frame(send_frame, 64 * 1024);
    auto conv = protocol::get_int(r->args, "conv");
    auto cid = protocol::get_string(r->args, "client_id");
    auto text = protocol::get_string(r->args, "text");
    auto ctype = protocol::get_opt_string(r->args, "content_type");
    auto reply = protocol::get_opt_int(r->args, "reply_to");
    benchmark::DoNotOptimize(conv);
    benchmark::DoNotOptimize(cid);
    benchmark::DoNotOptimize(text);
    benchmark::DoNotOptimize(ctype);
    benchmark::DoNotOptimize(reply);
  }
}
BENCHMARK(BM_send_request_by_hand);

event sample_event() {
  event e;
  e.conv = 42;
  e.seq = 123456;
  e.kind = confab::event_kind::message;
  e.sender = 7;
  e.device = 9;
  e.client_id = "c-1234-98765";
  e.ts_ms = 1732790000000;
  e.text = "hello there, this is a message of about a hundred bytes of text.";
  e.content_type = "text/plain";
  return e;
}

void BM_event_encode(benchmark::State& state) {
  const auto e = sample_event();
  for (auto _ : state) {
    auto json = protocol::event_json(e);
    auto frame = protocol::event_frame(1000, json);
    benchmark::DoNotOptimize(frame);
  }
}
BENCHMARK(BM_event_encode);

// A session that only counts what it is handed.
struct counting_session final : gateway::session_base {
  std::int64_t n = 0;
  void deliver(std::int64_t, std::shared_ptr<const std::string>, std::int64_t) override { ++n; }
  void deliver_ephemeral(std::shared_ptr<const std::string>) override {}
  void kick(std::uint16_t, std::string) override {}
  void resync() override {}
};

void BM_fanout(benchmark::State& state) {
  const auto members = static_cast<int>(state.range(0));
  asio::io_context ioc;
  auto dir = std::filesystem::temp_directory_path() / "confab-micro-fanout";
  std::filesystem::create_directories(dir);
  auto ex = std::make_unique<storage::executor>(storage::sqlite::make_factory((dir / "db").string()), storage::executor::options{1, 16});
  storage::store st(std::move(ex));
  auto hub = std::make_shared<gateway::hub>(ioc.get_executor(), st,
                                            std::make_shared<broker::inproc_broker>(ioc.get_executor(), std::make_shared<broker::inproc_bus>()));
  std::vector<std::shared_ptr<counting_session>> sessions;
  std::vector<recipient> to;
  for (int i = 0; i < members; ++i) {
    sessions.push_back(std::make_shared<counting_session>());
    hub->attach(i + 1, i + 1, sessions.back(), nullptr);
    to.push_back({i + 1, 1});
  }
  auto e = sample_event();
  for (auto _ : state) hub->on_committed(e, to);
  state.SetItemsProcessed(state.iterations() * members);  // deliveries
  st.stop();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_fanout)->Arg(2)->Arg(10)->Arg(100)->Arg(1000);

void BM_sequence_assignment_sqlite(benchmark::State& state) {
  const auto members = static_cast<int>(state.range(0));
  auto dir = std::filesystem::temp_directory_path() / "confab-micro-seq";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto ex = std::make_unique<storage::executor>(storage::sqlite::make_factory((dir / "db").string()), storage::executor::options{1, 16});
  (void)ex->run_exclusive([](storage::connection& c) { return storage::migrate(c, storage::sqlite::migrations()); });
  storage::store st(std::move(ex));
  asio::io_context ioc;
  auto run = [&](auto task) {
    auto f = asio::co_spawn(ioc, std::move(task), asio::use_future);
    ioc.restart();
    ioc.run();
    return f.get();
  };
  std::vector<confab::id_t> users;
  for (int i = 0; i < members; ++i) users.push_back(*run(st.create_user("u" + std::to_string(i), "x")));
  const confab::id_t conv = *run(st.create_group(users[0], 1, "g", std::vector<confab::id_t>(users.begin() + 1, users.end())));
  std::int64_t i = 0;
  for (auto _ : state) {
    send_request req{users[0], 1, conv, "m" + std::to_string(i++), "text", "text/plain", std::nullopt};
    auto ack = run(st.send(req));
    benchmark::DoNotOptimize(ack);
  }
  state.SetItemsProcessed(state.iterations());
  st.stop();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_sequence_assignment_sqlite)->Arg(2)->Arg(10)->Arg(100)->UseRealTime();

// Issue 17: what recording the metrics costs one one-to-one message on its node, done as the
// code does it: the send's operation counter and commit latency, the sender's delivered and read
// receipts (two more operations), the broker's publish and receive, and for each of the two
// devices that get the event (the recipient and the sender's other device) the outbox gauge's add
// and sub and the live-delivery latency; the writer's three batch histograms, shared by a batch of
// 8. The clock reads that feed the latencies are counted too. Run with 1 and 2 threads: the
// second shows what two cores updating the same counters cost.
void BM_metrics_one_to_one_message(benchmark::State& state) {
  auto& m = confab::metrics::node();
  auto& send_ok = m.operations.labels({"send", "ok"});
  auto& receipt_ok = m.operations.labels({"read", "ok"});
  int n = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    send_ok.inc();
    m.send_commit.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (++n % 8 == 0) {
      m.commit_seconds.observe(0.0008);
      m.batch_seconds.observe(0.0012);
      m.batch_writes.observe(8);
    }
    m.broker_published.inc();
    m.broker_received.inc();
    for (int device = 0; device < 2; ++device) {
      m.outbox_bytes.add(400);
      m.live_delivery.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      m.outbox_bytes.sub(400);
    }
    receipt_ok.inc();
    receipt_ok.inc();
  }
}
BENCHMARK(BM_metrics_one_to_one_message)->Threads(1)->Threads(2);

// Issue 17: the metrics one live delivery of a fan-out records, at most: the outbox gauge's add
// when the frame is queued and sub when it is written, and the live-delivery latency with its
// clock read (the code observes it once per drained batch and subtracts once per write, so this
// is an upper bound).
void BM_metrics_per_delivery(benchmark::State& state) {
  auto& m = confab::metrics::node();
  const auto committed = std::chrono::steady_clock::now();
  for (auto _ : state) {
    m.outbox_bytes.add(400);
    m.live_delivery.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - committed).count());
    m.outbox_bytes.sub(400);
  }
}
BENCHMARK(BM_metrics_per_delivery)->Threads(1)->Threads(2);

// Issue 17: what a send pays for tracing when it is not traced: the sampling draw
// (--trace-sample 0.0001) and the hot paths' check of the recorder.
void BM_trace_untraced_send(benchmark::State& state) {
  confab::gateway::trace_recorder r;
  std::minstd_rand rng{1};  // as chat/messages.cpp's sampled()
  std::int64_t traced = 0;
  for (auto _ : state) {
    if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.0001) ++traced;
    benchmark::DoNotOptimize(r.active());
    benchmark::DoNotOptimize(r.active());
  }
  benchmark::DoNotOptimize(traced);
}
BENCHMARK(BM_trace_untraced_send);

}  // namespace

int main(int argc, char** argv) {
  confab::log::set_level(confab::log::level::warn);  // no migration chatter between results
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
