// confabd: the one place that wires storage backends, the gateway and the process lifecycle.
#include "auth/auth.hpp"
#include "broker/inproc_broker.hpp"
#include "broker/redis_broker.hpp"
#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "gateway/metrics_listener.hpp"
#include "gateway/server.hpp"
#include "server/config.hpp"
#include "server/feed_file.hpp"
#include "server/push_setup.hpp"
#include "server/reindex.hpp"
#include "storage/feed.hpp"
#include "storage/migrate.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/push_store.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include <unistd.h>

using namespace confab;
namespace asio = boost::asio;

namespace {

// Opens the configured backend and runs its migrations; nullptr (logged) on failure.
std::unique_ptr<storage::executor> open_storage(const server::config& cfg) {
  storage::connection_factory factory;
  std::span<const std::string_view> steps;
  if (cfg.storage == server::storage_kind::sqlite) {
    std::error_code fec;
    auto dir = std::filesystem::path(cfg.sqlite_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, fec);
    factory = storage::sqlite::make_factory(cfg.sqlite_path);
    steps = storage::sqlite::migrations();
  } else {
    factory = storage::postgres::make_factory(cfg.pg_dsn);
    steps = storage::postgres::migrations();
  }
  auto ex = std::make_unique<storage::executor>(factory, cfg.executor);
  if (auto r = ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, steps); }); !r) {
    log::error("storage start-up failed", "\"error\":" + log::quote(r.error().message));
    return nullptr;
  }
  return ex;
}

void write_port_file(const std::string& path, unsigned short port) {
  auto tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::error_code fec;
  std::filesystem::rename(tmp, path, fec);
  if (fec) log::warn("cannot write --port-file", "\"error\":" + log::quote(fec.message()));
}

// The built-in feed consumers: "file" (--feed-file) and "search" (unless --no-search-index).
// And the push worker with its senders (issue 15).
struct feeds {
  std::unique_ptr<server::feed_file_consumer> file;
  std::vector<std::unique_ptr<storage::feed_runner>> runners;
  std::unique_ptr<server::push_worker> pusher;
  // After pusher: destroyed first, completing any send still pending while pusher exists.
  std::unique_ptr<push::sender> senders;
  // Each finishes (handles and commits) a batch in hand; the worker records its sends in flight.
  asio::awaitable<void> stop() {
    for (auto& r : runners) co_await r->stop();
    if (pusher) co_await pusher->stop();
  }
};

// Starts this node's push worker when a provider is configured and push is not off here.
void start_pusher(const server::config& cfg, asio::io_context& ioc, storage::store& store, const std::string& node,
                  const gateway::trace_recorder& traces, server::push_keys keys, feeds& fs) {
  if (cfg.push.disabled || !server::any_provider(keys)) return;  // as start_feeds' "push"
  server::push_worker_options o;
  o.providers.clear();  // only rows this node has a key for: nodes may differ
  if (keys.fcm) o.providers.emplace_back("fcm");
  if (keys.apns) o.providers.emplace_back("apns");
  if (keys.vapid) o.providers.emplace_back("webpush");
  fs.senders = std::make_unique<push::sender>(server::sender_config_of(cfg.push, std::move(keys), cfg.gw.push.endpoints));
  o.node = node;
  o.previews = cfg.push.previews;
  o.endpoints = cfg.gw.push.endpoints;
  o.trace_of = [&traces](confab::id_t conv, std::int64_t seq) { return traces.active() ? traces.of(conv, seq) : 0; };
  fs.pusher = std::make_unique<server::push_worker>(ioc.get_executor(), store.push(), server::transport_of(*fs.senders), o);
  fs.pusher->start();
}

// On SIGINT/SIGTERM: the server's shutdown (answer the requests already read, close the
// WebSockets), bounded by --shutdown-grace-ms; then the io_context stops. No polling: the
// shutdown completes when its gates are empty, the deadline when it expires; the first stops.
asio::awaitable<void> stop_on_signal(asio::io_context& ioc, gateway::server& srv, feeds& fs, std::chrono::milliseconds grace) {
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  log::info("shutting down", "\"signal\":" + std::to_string(sig));
  auto deadline = std::make_shared<asio::steady_timer>(ioc, grace);
  deadline->async_wait([&ioc, deadline](boost::system::error_code e) {
    if (e) return;
    log::warn("shutdown grace expired: stopping with work in progress");
    ioc.stop();
  });
  co_await srv.shutdown();
  co_await fs.stop();
  deadline->cancel();
  ioc.stop();
}

// Starts the configured feed consumers; false (logged) when one cannot start. "search" is shared
// by every node (one index): it runs under a lease, on one node at a time (feed.hpp); "file" is
// this node's own.
// The search consumer's handler: indexes the batch, then records an "indexed" hop for each
// message this node knows to be traced (issue 17). A plain function: the coroutine's arguments
// live in its frame.
asio::awaitable<result<nothing>> index_batch(storage::store& store, gateway::trace_recorder& traces, const storage::feed_batch& b) {
  auto r = co_await store.index_for_search(b.events);
  if (r && traces.active())
    for (const auto& ev : b.events)
      if (auto t = ev.kind == event_kind::message ? traces.of(ev.conv, ev.seq) : 0)
        traces.hop(t, "indexed", {{"conv", ev.conv}, {"seq", ev.seq}, {"batch_events", b.events.size()}});
  co_return r;
}

// The push consumer's handler (issue 15): queues the batch's messages' pushes, due after the grace
// period. A repeat of a batch queues nothing twice (the queue's rows are unique).
asio::awaitable<result<nothing>> queue_pushes(storage::store& store, std::int64_t grace_ms, const storage::feed_batch& b) {
  auto n = co_await store.push().enqueue(b.events, grace_ms);
  if (!n) co_return n.error();
  if (*n > 0) metrics::node().push_queued.labels({"message"}).inc(static_cast<std::uint64_t>(*n));
  co_return nothing{};
}

bool start_feeds(const server::config& cfg, asio::io_context& ioc, storage::feed& feed, storage::store& store,
                 const std::string& node, gateway::trace_recorder& traces, bool pushing, feeds& fs) {
  storage::feed_runner::options o;
  o.poll = cfg.feed_poll;
  if (pushing) {  // shared by every node that sends pushes, under a lease like "search"
    auto po = o;
    po.lease_holder = node;
    const std::int64_t grace = cfg.push.grace.count();
    auto runner = std::make_unique<storage::feed_runner>(
        ioc.get_executor(), feed, "push", [&store, grace](const storage::feed_batch& b) { return queue_pushes(store, grace, b); }, po);
    runner->start();
    fs.runners.push_back(std::move(runner));
  }
  if (!cfg.no_search_index) {
    auto so = o;
    so.lease_holder = node;
    auto runner = std::make_unique<storage::feed_runner>(
        ioc.get_executor(), feed, "search", [&store, &traces](const storage::feed_batch& b) { return index_batch(store, traces, b); },
        so);
    runner->start();
    fs.runners.push_back(std::move(runner));
  }
  if (cfg.feed_file.empty()) return true;
  auto opened = server::feed_file_consumer::open(cfg.feed_file);
  if (!opened) {
    log::error("cannot start the feed consumer 'file'", "\"error\":" + log::quote(opened.error().message));
    return false;
  }
  fs.file = std::move(*opened);
  // Test hook (tests/e2e/feed_test.cpp): die like SIGKILL after handling a batch, before its
  // cursor is committed.
  if (const char* v = std::getenv("CONFABD_TEST_FEED_EXIT_AFTER_HANDLE"); v && std::string_view(v) == "1")
    o.after_handle = [] { ::_exit(137); };
  auto* consumer = fs.file.get();
  auto runner = std::make_unique<storage::feed_runner>(
      ioc.get_executor(), feed, "file", [consumer](const storage::feed_batch& b) { return consumer->handle(b); }, std::move(o));
  runner->start();
  fs.runners.push_back(std::move(runner));
  return true;
}

// Runs the gateway until a signal stopped it; then releases the broker and the hub, and stops the
// store before the io_context goes.
int serve(const server::config& cfg, storage::store& store, storage::feed& feed, server::push_keys keys) {
  // One io_context per network thread, each run by that thread alone (concurrency hint 1):
  // a connection lives on one of them, so its reads, writes and strand hops never wake or
  // contend with another network thread (on one shared io_context, those wake-ups cost more CPU
  // than the rest of a one-to-one message's gateway work: docs/performance.md, issue 18). ioc
  // also runs the listener, the hub, the broker and the signal handling.
  asio::io_context ioc(1);
  std::vector<std::unique_ptr<asio::io_context>> extra;
  for (int i = 1; i < cfg.threads; ++i) extra.push_back(std::make_unique<asio::io_context>(1));
  std::shared_ptr<broker::broker> brk;
  if (cfg.broker == server::broker_kind::redis)
    brk = std::make_shared<broker::redis_broker>(ioc.get_executor(), cfg.redis);
  else
    brk = std::make_shared<broker::inproc_broker>(ioc.get_executor(), std::make_shared<broker::inproc_bus>());
  if (cfg.no_metrics) metrics::recording.store(false);
  gateway::hub_options ho;
  ho.typing_ttl = cfg.typing_ttl;
  gateway::server srv(ioc, store, cfg.gw, brk, ho);
  std::vector<asio::io_context*> conn_ctxs{&ioc};
  for (auto& c : extra) conn_ctxs.push_back(c.get());
  srv.set_connection_contexts(std::move(conn_ctxs));
  feeds fs;
  // Push is queued and sent by the nodes with a provider configured (and not --no-push).
  const bool pushing = !cfg.push.disabled && server::any_provider(keys);
  if (!start_feeds(cfg, ioc, feed, store, brk->node_id(), srv.the_hub().traces(), pushing, fs)) return 1;
  start_pusher(cfg, ioc, store, brk->node_id(), srv.the_hub().traces(), std::move(keys), fs);
  if (auto ec = srv.start(cfg.endpoint)) {
    log::error("cannot listen", "\"address\":" + log::quote(cfg.listen) + ",\"error\":" + log::quote(ec.message()));
    return 1;
  }
  gateway::metrics_listener metrics_http(ioc);
  if (cfg.metrics_endpoint) {
    if (auto ec = metrics_http.start(*cfg.metrics_endpoint)) {
      log::error("cannot listen for metrics", "\"address\":" + log::quote(cfg.metrics_listen) + ",\"error\":" + log::quote(ec.message()));
      return 1;
    }
    log::info("serving /metrics", "\"address\":\"" + metrics_http.local_endpoint().address().to_string() + "\",\"port\":" +
                                      std::to_string(metrics_http.local_endpoint().port()));
  }
  const auto port = srv.local_endpoint().port();
  const char* storage_name = cfg.storage == server::storage_kind::sqlite ? "sqlite" : "postgres";
  const char* broker_name = cfg.broker == server::broker_kind::redis ? "redis" : "inproc";
  log::info("listening", "\"address\":\"" + srv.local_endpoint().address().to_string() + "\",\"port\":" +
                             std::to_string(port) + ",\"storage\":\"" + storage_name + "\",\"broker\":\"" + broker_name +
                             "\",\"node\":\"" + brk->node_id() + "\"");
  if (!cfg.port_file.empty()) write_port_file(cfg.port_file, port);

  asio::co_spawn(ioc, stop_on_signal(ioc, srv, fs, cfg.shutdown_grace), asio::detached);
  std::vector<std::thread> pool;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;  // idle until connections come
  for (auto& c : extra) {
    busy.push_back(asio::make_work_guard(*c));
    pool.emplace_back([c = c.get()] { c->run(); });
  }
  ioc.run();
  ioc.stop();
  busy.clear();
  for (auto& c : extra) c->stop();
  for (auto& t : pool) t.join();
  // Close the broker's connections and timers (their handlers hold it), then let those finish.
  srv.stop_hub();
  ioc.restart();
  for (int i = 0; i < 20 && ioc.poll() > 0; ++i) {
  }
  for (auto& c : extra) {
    c->restart();
    for (int i = 0; i < 20 && c->poll() > 0; ++i) {
    }
  }
  // Commits every write storage already accepted, while the io_context that its jobs post their
  // results to still exists (their handlers are then destroyed with it, unrun).
  store.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = server::parse(argc, argv);
  if (!parsed.output.empty()) std::cout << parsed.output;
  for (const auto& e : parsed.errors) std::cerr << "confabd: " << e << "\n";
  if (!parsed.errors.empty()) std::cerr << "(see confabd --help)\n";
  if (!parsed.cfg) return parsed.exit_code;
  server::config cfg = *parsed.cfg;
  log::set_level(cfg.log_level);
  auto push_keys = server::load_push_keys(cfg.push);
  if (!push_keys) {
    log::error("cannot start push", "\"error\":" + log::quote(push_keys.error().message));
    return 1;
  }
  server::describe_push(cfg.push, *push_keys, cfg.gw.push);
  if (!auth::init()) {
    log::error("libsodium failed to initialise");
    return 1;
  }
  auto ex = open_storage(cfg);
  if (!ex) return 1;
  storage::feed feed(*ex);  // the store owns the executor and outlives the feed's use of it
  storage::store store(std::move(ex));
  const int code = cfg.reindex ? server::reindex(store, feed, cfg.reindex_batch) : serve(cfg, store, feed, std::move(*push_keys));
  store.stop();  // (done by serve after a normal run; here for its early returns)
  if (code == 0) log::info("stopped");
  return code;
}
