// confab-bench: a load generator that speaks Confab's protocol, measures latency, throughput and
// the server's CPU and memory, and checks exactly-once, in-order delivery while it loads.
//
//   confab-bench <scenario> --target 127.0.0.1:8080 [--target ...] [--pid N ...] [options]
//
// Scenarios: idle, chat, fanout, persist, writers, storm, history, check, mixed, channel,
// channel_resume (see --help and docs/performance.md).
// With --protocol ws-relay|socketio, idle, chat and fanout drive one of the in-memory relays of
// bench/peers/ instead of confabd, through the peer adapter (peer.hpp), with the same measurement.
// Loopback only: targets and source addresses must be in 127.0.0.0/8. Every run is bounded in
// count and time (--max-seconds, default 600, ends the process with exit code 3). Prints one JSON
// object (also written to --json); exit code 1 if any guarantee was violated.
#include "common.hpp"
#include "engine.hpp"
#include "peer.hpp"
#include "setup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <sys/resource.h>
#include <map>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

namespace asio = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
using asio::ip::tcp;
using namespace confab::bench;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

namespace {

bool parse_endpoint(const std::string& s, tcp::endpoint& ep) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(s.substr(0, colon) == "localhost" ? "127.0.0.1" : s.substr(0, colon), ec);
  unsigned port = 0;
  auto p = s.substr(colon + 1);
  if (ec || std::from_chars(p.data(), p.data() + p.size(), port).ec != std::errc{} || port == 0 || port > 65535) return false;
  if (!addr.is_v4() || addr.to_v4().to_bytes()[0] != 127) return false;  // loopback only
  ep = {addr, static_cast<unsigned short>(port)};
  return true;
}

// n accounts: registered users on confabd, names only on a peer (peer.hpp).
std::vector<account> accounts_for(const options& o, int n) {
  return device::proto == protocol::confab ? register_users(o.targets[0], run_tag(), n) : peer_accounts(n);
}

// --- scenarios

json::object idle(engine& eng, const options& o) {
  auto accts = accounts_for(o, o.connections);
  fleet f{eng, o, {}};
  f.add(accts);
  const auto before = usage(o);
  // With --marginal-from N: N connections, a sample, then the rest; the memory between the two
  // samples over the connections between them is the marginal cost, free of fixed costs (caches
  // warmed by the first connections, thread stacks) that a figure from zero spreads over them.
  const std::size_t first = o.marginal_from > 0 && o.marginal_from < o.connections ? static_cast<std::size_t>(o.marginal_from) : 0;
  std::size_t ok_first = 0;
  server_usage mid;
  auto t0 = clk::now();
  if (first) {
    ok_first = f.open(0, first, false);
    const double s = std::chrono::duration<double>(clk::now() - t0).count();
    std::this_thread::sleep_for(2s);  // let allocations settle
    mid = usage(o);
    t0 = clk::now() - std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(s));
  }
  const auto ok = ok_first + f.open(first, f.devs.size(), false);
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  std::this_thread::sleep_for(2s);  // let allocations settle
  const auto after = usage(o);
  auto st = eng.collect(false);
  json::object r{{"connections", ok},
                 {"connect_failures", st.connect_failures},
                 {"connect_seconds", secs},
                 {"connects_per_sec", static_cast<double>(ok) / secs},
                 {"server_rss_before_kib", before.rss_kib},
                 {"server_rss_after_kib", after.rss_kib},
                 {"rss_per_connection_kib", ok ? static_cast<double>(after.rss_kib - before.rss_kib) / static_cast<double>(ok) : 0.0}};
  if (first) {
    r["marginal_from"] = ok_first;
    r["server_rss_at_marginal_from_kib"] = mid.rss_kib;
    r["rss_marginal_per_connection_kib"] =
        ok > ok_first ? static_cast<double>(after.rss_kib - mid.rss_kib) / static_cast<double>(ok - ok_first) : 0.0;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));  // held open
  f.drop_all();
  return r;
}

// Groups of o.group_size members; member 0 creates each. Returns (conv per group).
std::vector<std::int64_t> make_groups(const options& o, const std::vector<account>& accts, int groups, int size) {
  std::vector<std::int64_t> convs;
  for (int g = 0; g < groups; ++g) {
    json::array members;
    for (int m = 1; m < size; ++m) members.push_back(accts[static_cast<std::size_t>(g * size + m)].user_id);
    const auto& owner = accts[static_cast<std::size_t>(g * size)];
    if (size == 2)
      convs.push_back(post(o.targets[0], "create_direct", {{"user_id", members[0]}}, owner.token).at("conv").as_int64());
    else
      convs.push_back(post(o.targets[0], "create_group", {{"title", "bench"}, {"members", members}}, owner.token).at("conv").as_int64());
  }
  return convs;
}

json::object groups_scenario(engine& eng, const options& o, int size, bool stepped) {
  const int groups = stepped ? o.pairs : o.groups;
  auto accts = accounts_for(o, groups * size);
  auto convs = device::proto == protocol::confab ? make_groups(o, accts, groups, size) : peer_rooms(accts, groups, size);
  fleet f{eng, o, {}};
  f.add(accts);
  const auto ok = f.open(0, f.devs.size(), false);
  std::this_thread::sleep_for(500ms);
  eng.collect(true);
  json::array steps;
  bool bad = false;
  double best = 0;
  std::vector<double> rates = stepped || o.rates_given ? o.rates : std::vector<double>{o.rate};
  for (double r : rates) {
    thread_stats st;
    auto step = measure_groups(f, o, convs, size, stepped ? size : o.senders, r, o.duration, st);
    const bool step_bad = violated(st) || step.at("lost").as_uint64() > 0;
    bad = bad || step_bad;
    if (st.deliver.percentile(99) < 50000 && !step_bad) best = std::max(best, step.at("sends_per_sec").as_double());
    std::cerr << "confab-bench: rate " << r << " -> " << json::serialize(step) << "\n";
    steps.push_back(std::move(step));
    if (st.deliver.percentile(99) > 500000) break;  // far past saturation: stop stepping
  }
  f.drop_all();
  return {{"group_size", size}, {"groups", groups}, {"senders_per_group", stepped ? size : o.senders},
          {"connections", ok}, {"steps", std::move(steps)},
          {"best_rate_p99_under_50ms", best}, {"violated", bad}};
}

// Closed loop: device i keeps o.inflight sends outstanding into conv_of[i] for o.duration, then
// waits (bounded) for the last acks. Returns the measured figures.
json::object closed_loop(engine& eng, const options& o, fleet& f, const std::vector<std::int64_t>& conv_of) {
  eng.collect(true);
  const auto before = usage(o);
  const auto t0 = clk::now();
  const auto end = t0 + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.duration));
  std::vector<std::future<void>> fs;
  for (std::size_t i = 0; i < f.devs.size(); ++i) {
    fs.push_back(asio::co_spawn(
        eng.ctx(f.thread_of(i)),
        [](std::shared_ptr<device> d, std::int64_t conv, int window, clk::time_point stop, asio::io_context& io) -> asio::awaitable<void> {
          asio::steady_timer t(io);
          while (clk::now() < stop) {
            while (d->in_flight() < static_cast<std::size_t>(window)) d->send_message(conv);
            t.expires_after(200us);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          }
        }(f.devs[i], conv_of[i], o.inflight, end, eng.ctx(f.thread_of(i))),
        asio::use_future));
  }
  for (auto& x : fs) x.get();
  for (int i = 0; i < 3000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const auto after = usage(o);
  auto st = eng.collect(false);
  return {{"acks", st.acks},
          {"send_errors", st.send_errors},
          {"durable_sends_per_sec", static_cast<double>(st.acks) / secs},
          {"ack_latency", st.ack.to_json()},
          {"server_cpu_s", after.cpu_s - before.cpu_s},
          {"violations", violations(st)},
          {"violated", violated(st) || st.send_errors > 0}};
}

json::object persist(engine& eng, const options& o) {
  // Direct pairs; only the senders connect. Closed loop: each keeps --inflight sends outstanding.
  auto accts = register_users(o.targets[0], run_tag(), o.senders * 2);
  auto convs = make_groups(o, accts, o.senders, 2);
  fleet f{eng, o, {}};
  std::vector<account> senders;
  for (int s = 0; s < o.senders; ++s) senders.push_back(accts[static_cast<std::size_t>(s * 2)]);
  f.add(senders);
  f.open(0, f.devs.size(), false);
  auto r = closed_loop(eng, o, f, convs);
  f.drop_all();
  r["senders"] = o.senders;
  r["inflight_per_sender"] = o.inflight;
  return r;
}

// Writers on several nodes into conversations whose members overlap, over HTTP (as the issue's
// load: senders that only send, so the figure is the write path's, not delivery's): --senders
// threads, each a closed loop of one `send` at a time to target k mod targets; --groups groups;
// sender k is a member of groups k mod G and k+1 mod G and sends into the first; group g is
// created by sender g, so no user is in every group. Every append touches members that the other
// nodes' appends touch too. A failed send (e.g. 503 unavailable) is counted, not retried.
json::object writers(engine&, const options& o) {
  const int groups = std::max(1, o.groups);
  if (o.senders < groups) throw std::runtime_error("writers: --senders must be at least --groups");
  auto accts = register_users(o.targets[0], run_tag(), o.senders);
  std::vector<json::array> members(static_cast<std::size_t>(groups));
  for (int k = 0; k < o.senders; ++k) {
    const auto id = accts[static_cast<std::size_t>(k)].user_id;
    if (k % groups != k) members[static_cast<std::size_t>(k % groups)].push_back(id);  // creators join their own group
    if (groups > 1 && (k + 1) % groups != k) members[static_cast<std::size_t>((k + 1) % groups)].push_back(id);
  }
  std::vector<std::int64_t> convs;
  for (int g = 0; g < groups; ++g)
    convs.push_back(post(o.targets[0], "create_group", {{"title", "writers"}, {"members", members[static_cast<std::size_t>(g)]}},
                         accts[static_cast<std::size_t>(g)].token)
                        .at("conv")
                        .as_int64());
  const auto before = usage(o);
  const auto t0 = clk::now();
  const auto end = t0 + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.duration));
  std::vector<histogram> lat(static_cast<std::size_t>(o.senders));
  std::vector<std::uint64_t> acks(static_cast<std::size_t>(o.senders)), errors(static_cast<std::size_t>(o.senders));
  std::vector<std::string> first_error(static_cast<std::size_t>(o.senders));
  std::vector<std::thread> threads;
  for (int k = 0; k < o.senders; ++k)
    threads.emplace_back([&, k] {
      const auto i = static_cast<std::size_t>(k);
      const auto& target = o.targets[i % o.targets.size()];
      for (std::uint64_t n = 0; clk::now() < end; ++n) {
        const auto t = now_ns();
        try {
          post(target, "send", {{"conv", convs[i % static_cast<std::size_t>(groups)]}, {"client_id", "w" + std::to_string(n)}, {"text", "x"}},
               accts[i].token);
          lat[i].record((now_ns() - t) / 1000);
          ++acks[i];
        } catch (const std::exception& e) {
          if (errors[i]++ == 0) first_error[i] = e.what();
        }
      }
    });
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const auto after = usage(o);
  histogram all;
  std::uint64_t total = 0, failed = 0;
  std::string error;
  for (std::size_t i = 0; i < lat.size(); ++i) {
    all.merge(lat[i]);
    total += acks[i];
    failed += errors[i];
    if (error.empty()) error = first_error[i];
  }
  return {{"senders", o.senders},
          {"groups", groups},
          {"nodes", static_cast<std::int64_t>(o.targets.size())},
          {"acks", total},
          {"send_errors", failed},
          {"first_error", error},
          {"durable_sends_per_sec", static_cast<double>(total) / secs},
          {"ack_latency", all.to_json()},
          {"server_cpu_s", after.cpu_s - before.cpu_s},
          {"violated", failed > 0}};
}

json::object storm(engine& eng, const options& o) {
  const int size = o.group_size, groups = std::max(1, o.devices / size);
  auto accts = register_users(o.targets[0], run_tag(), groups * size);
  auto convs = make_groups(o, accts, groups, size);
  fleet f{eng, o, {}};
  f.add(accts);
  const auto ok = f.open(0, f.devs.size(), false);
  std::this_thread::sleep_for(1s);
  std::vector<std::uint64_t> base(f.devs.size());
  for (std::size_t i = 0; i < f.devs.size(); ++i) eng.run_on(f.thread_of(i), [&] { base[i] = f.devs[i]->messages_received(); });
  f.drop_all();
  std::this_thread::sleep_for(500ms);
  // While everyone is away, each group's owner posts --pending messages over HTTP.
  for (int g = 0; g < groups; ++g)
    for (int m = 0; m < o.pending; ++m)
      post(o.targets[0], "send",
           {{"conv", convs[static_cast<std::size_t>(g)]}, {"client_id", "storm-" + std::to_string(m)},
            {"text", "b:" + std::to_string(now_ns())}},
           accts[static_cast<std::size_t>(g * size)].token);
  eng.collect(true);
  eng.record_latency(false);  // the pending messages' age is not a delivery latency
  const auto t0 = clk::now();
  const auto reopened = f.open(0, f.devs.size(), true);
  const bool all = f.wait_messages(0, f.devs.size(), [&](std::size_t i) { return base[i] + static_cast<std::uint64_t>(o.pending); }, 60s);
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  std::this_thread::sleep_for(300ms);
  auto st = eng.collect(false);
  eng.record_latency(true);
  const std::uint64_t expected = static_cast<std::uint64_t>(groups) * static_cast<std::uint64_t>(size) * static_cast<std::uint64_t>(o.pending);
  f.drop_all();
  return {{"devices", ok},
          {"reconnected", reopened},
          {"pending_per_device", o.pending},
          {"caught_up", all},
          {"seconds_to_catch_up", secs},
          {"deliveries", st.deliveries},
          {"deliveries_expected", expected},
          {"violations", violations(st)},
          {"violated", violated(st) || !all || st.deliveries != expected}};
}

// The first user's 32 devices (a connection handles its requests one at a time; many connections
// fill a commit batch), added to f and connected, without latency recording.
void open_writers(engine& eng, const options& o, const account& a, fleet& f) {
  std::vector<account> writers{a};
  const auto name = post(o.targets[0], "me", {}, a.token).at("username").as_string();
  for (int i = 1; i < 32; ++i) {
    auto r = post(o.targets[0], "login", {{"username", name}, {"password", "bench-password"}, {"device_name", "w" + std::to_string(i)}});
    writers.push_back({a.user_id, std::string(r.at("token").as_string())});
  }
  f.add(writers);
  f.open(0, f.devs.size(), false);
  eng.record_latency(false);
}

json::object history(engine& eng, const options& o) {
  // One direct conversation filled with --messages messages, sent over 32 devices of its first
  // user (a connection handles its requests one at a time; many connections fill a commit
  // batch), then --pages history reads at random depths, timed one at a time over HTTP.
  auto accts = register_users(o.targets[0], run_tag(), 2);
  auto convs = make_groups(o, accts, 1, 2);
  fleet f{eng, o, {}};
  open_writers(eng, o, accts[0], f);
  std::int64_t sent = 0;
  while (sent < o.messages) {
    for (std::size_t d = 0; d < f.devs.size(); ++d)
      eng.run_on(f.thread_of(d), [&] {
        while (f.devs[d]->in_flight() < 4 && sent < o.messages) {
          f.devs[d]->send_message(convs[0]);
          ++sent;
        }
      });
    std::this_thread::sleep_for(1ms);
  }
  for (int i = 0; i < 6000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  eng.record_latency(true);
  f.drop_all();
  std::mt19937_64 rng(42);
  histogram h;
  const auto last = static_cast<std::int64_t>(o.messages) + 1;
  int bad = 0;
  // Reads over one kept-alive WebSocket would be closer to a client; HTTP keeps this simple and
  // adds the same fixed connection cost to every read.
  for (int i = 0; i < o.pages; ++i) {
    const std::int64_t before = 2 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(last));
    const auto t = now_ns();
    auto r = post(o.targets[0], "history", {{"conv", convs[0]}, {"before", before}, {"limit", 50}}, accts[0].token);
    h.record((now_ns() - t) / 1000);
    const auto& evs = r.at("events").as_array();
    // In order, just below `before`.
    if (evs.empty() || evs.back().at("seq").as_int64() != std::min(before - 1, last)) ++bad;
    for (std::size_t k = 1; k < evs.size(); ++k)
      if (evs[k].at("seq").as_int64() != evs[k - 1].at("seq").as_int64() + 1) ++bad;
  }
  return {{"messages", o.messages}, {"pages", o.pages}, {"page_latency", h.to_json()}, {"wrong_pages", bad}, {"violated", bad > 0}};
}

json::object search_lag(engine& eng, const options& o) {
  // Issue 13: how long after its send a message is findable, under load. 32 devices of one user
  // send into a group at --rate messages/s in total (WebSocket) for the whole run, while the
  // other member sends --pages probes over HTTP, one at a time at random moments, each with a word
  // of its own, and searches for it every 10 ms until it is found (at most 10 s): lag = first
  // found - send acked.
  auto accts = register_users(o.targets[0], run_tag(), 2);
  auto convs = make_groups(o, accts, 1, 2);
  fleet f{eng, o, {}};
  open_writers(eng, o, accts[0], f);
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> sent{0}, skipped{0};
  std::thread load([&] {  // paced: the messages due by now, round robin over the devices
    const auto start = now_ns();
    std::int64_t posted = 0;
    std::size_t d = 0;
    while (!done) {
      const auto want = static_cast<std::int64_t>(o.rate * static_cast<double>(now_ns() - start) / 1e9);
      for (; posted < want; ++posted, d = (d + 1) % f.devs.size())
        eng.run_on(f.thread_of(d), [&, d] {
          if (f.devs[d]->in_flight() >= 64) {
            ++skipped;  // the server is behind: the load is past saturation
            return;
          }
          f.devs[d]->send_message(convs[0]);
          ++sent;
        });
      std::this_thread::sleep_for(2ms);
    }
  });
  histogram h;
  int missing = 0;
  const std::string tag = "lag" + run_tag();
  std::mt19937_64 rng(7);
  for (int i = 0; i < o.pages; ++i) {
    // A random pause first: a probe sent right after the previous one was found would fall just
    // after the indexer's read every time, and measure its poll interval, not a random moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 700));
    const std::string word = tag + "x" + std::to_string(i);
    post(o.targets[0], "send", {{"conv", convs[0]}, {"client_id", word}, {"text", "probe " + word}}, accts[1].token);
    const auto acked = now_ns();
    bool found = false;
    while (!found && now_ns() - acked < 10'000'000'000) {
      auto r = post(o.targets[0], "search", {{"q", word}, {"limit", 1}}, accts[1].token);
      found = !r.at("results").as_array().empty();
      if (!found) std::this_thread::sleep_for(10ms);
    }
    if (found) h.record((now_ns() - acked) / 1000);
    else ++missing;
  }
  done = true;
  load.join();
  for (int i = 0; i < 6000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  f.drop_all();
  return {{"rate", o.rate}, {"load_messages", sent.load()}, {"load_skipped", skipped.load()}, {"probes", o.pages}, {"lag", h.to_json()},
          {"not_found_in_10s", missing}, {"violated", missing > 0}};
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  std::vector<std::string> targets;
  std::string rates, proto = "confab";
  po::options_description desc(
      "confab-bench <scenario> [options]\n\nScenarios:\n"
      "  idle     hold --connections authenticated WebSockets: connect rate, server memory per connection\n"
      "  chat     --pairs direct conversations, both sides sending; --rates steps the total messages/s\n"
      "  fanout   --groups groups of --group-size, --senders per group, total --rate messages/s (or steps\n"
      "           through --rates)\n"
      "  persist  --senders closed-loop senders with --inflight sends outstanding: durable sends/s\n"
      "  writers  --senders HTTP senders (one send at a time each) spread over every --target, into\n"
      "           --groups groups whose members overlap (each sender in two): durable sends/s\n"
      "  storm    --devices in groups of --group-size drop, --pending messages each arrive, all reconnect\n"
      "  history  a conversation of --messages messages, then --pages reads at random depths\n"
      "  search_lag  --rate messages/s into a group while --pages probes each wait until search finds them\n"
      "  check    a small fanout and storm; exit 1 on any loss, duplicate or reorder\n"
      "  mixed    --groups groups of --group-size, every member a closed-loop sender (--inflight each) for\n"
      "           --duration s: 64 % messages, 20 % thread replies, 10 % reactions, 5 % edits, 1 % deletes;\n"
      "           exit 1 unless every device ends with the same state of every message as history\n"
      "  channel  a channel of --members members (beyond --connections made in bulk in --db), --connections\n"
      "           connected, --senders of them sending --rate messages/s in total for --duration s\n"
      "  channel_resume  a device in --channels channels reconnects --rounds times, --moved channels having\n"
      "           moved by --pending messages each while it was offline: time to caught up\n\nOptions");
  desc.add_options()("help,h", "this help")
      ("scenario", po::value(&o.scenario), "scenario (or the first positional argument)")
      ("target", po::value(&targets)->composing(), "confabd (or haproxy) host:port in 127.0.0.0/8; repeat to spread devices")
      ("pid", po::value(&o.pids)->composing(), "server process id to sample from /proc (repeatable)")
      ("aux-pid", po::value(&o.aux_pids)->composing(), "a helper process (e.g. the PostgreSQL postmaster): its and its children's CPU is reported apart (aux_cpu_*)")
      ("protocol", po::value(&proto)->default_value(proto),
       "confab, or a relay of bench/peers/: ws-relay, socketio (idle, chat and fanout only)")
      ("marginal-from", po::value(&o.marginal_from)->default_value(o.marginal_from),
       "idle: sample the server after this many connections too (rss_marginal_per_connection_kib)")
      ("sources", po::value(&o.sources)->default_value(o.sources), "local source addresses 127.0.0.1 .. 127.0.0.N")
      ("threads", po::value(&o.threads)->default_value(o.threads), "generator threads (one io_context each)")
      ("json", po::value(&o.json_out), "also write the result here")
      ("no-batch", "do not ask the server to batch frames (hello without \"batch\":true)")
      ("max-seconds", po::value(&o.max_seconds)->default_value(o.max_seconds), "watchdog: exit 3 after this long")
      ("connections", po::value(&o.connections)->default_value(o.connections), "idle: connections")
      ("pairs", po::value(&o.pairs)->default_value(o.pairs), "chat: conversations")
      ("groups", po::value(&o.groups)->default_value(o.groups), "fanout, writers: groups")
      ("group-size", po::value(&o.group_size)->default_value(o.group_size), "fanout/storm: members per group")
      ("senders", po::value(&o.senders)->default_value(o.senders), "fanout: senders per group; persist, writers: senders")
      ("rate", po::value(&o.rate)->default_value(o.rate), "fanout: total messages/s")
      ("rates", po::value(&rates), "chat, fanout: comma-separated total messages/s steps")
      ("duration", po::value(&o.duration)->default_value(o.duration), "seconds per measurement (idle: hold time)")
      ("inflight", po::value(&o.inflight)->default_value(o.inflight), "persist, writers: outstanding sends per sender")
      ("devices", po::value(&o.devices)->default_value(o.devices), "storm: devices")
      ("pending", po::value(&o.pending)->default_value(o.pending), "storm: messages each device misses")
      ("messages", po::value(&o.messages)->default_value(o.messages), "history: conversation length")
      ("pages", po::value(&o.pages)->default_value(o.pages), "history: page reads")
      ("members", po::value(&o.members)->default_value(o.members), "channel: members in all")
      ("db", po::value(&o.db), "channel: the server's database, sqlite:PATH or postgres:DSN, for members made in bulk")
      ("channels", po::value(&o.channels)->default_value(o.channels), "channel_resume: the device's channels")
      ("moved", po::value(&o.moved)->default_value(o.moved), "channel_resume: channels that move while it is offline")
      ("rounds", po::value(&o.rounds)->default_value(o.rounds), "channel_resume: reconnects measured");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "confab-bench: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help") || o.scenario.empty()) {
    std::cout << desc << "\n";
    return o.scenario.empty() && !vm.count("help") ? 2 : 0;
  }
  device::use_batch = !vm.count("no-batch");
  if (auto p = parse_protocol(proto)) {
    device::proto = *p;
  } else {
    std::cerr << "confab-bench: --protocol must be confab, ws-relay or socketio, got " << proto << "\n";
    return 2;
  }
  if (device::proto != protocol::confab && o.scenario != "idle" && o.scenario != "chat" && o.scenario != "fanout") {
    std::cerr << "confab-bench: a relay (--protocol " << proto << ") runs idle, chat and fanout only\n";
    return 2;
  }
  for (auto& t : targets) {
    tcp::endpoint ep;
    if (!parse_endpoint(t, ep)) {
      std::cerr << "confab-bench: --target must be host:port in 127.0.0.0/8, got " << t << "\n";
      return 2;
    }
    o.targets.push_back(ep);
  }
  if (o.targets.empty()) o.targets.push_back({asio::ip::make_address("127.0.0.1"), 8080});
  for (std::size_t s = rates.empty() ? std::string::npos : 0; s != std::string::npos;) {
    auto comma = rates.find(',', s);
    const std::string one = rates.substr(s, comma - s);
    double v = 0;
    auto [end, ec] = std::from_chars(one.data(), one.data() + one.size(), v);
    if (ec != std::errc() || end != one.data() + one.size() || !(v > 0) || v > 1e7) {
      std::cerr << "confab-bench: --rates must be comma-separated positive numbers, got " << rates << "\n";
      return 2;
    }
    o.rates.push_back(v);
    s = comma == std::string::npos ? comma : comma + 1;
  }
  o.rates_given = !o.rates.empty();
  if (o.rates.empty()) o.rates = {100, 200, 400};
  if (o.sources < 1 || o.sources > 250 || o.threads < 1 || o.threads > 64 || o.group_size < 2 || o.group_size > 1000 ||
      o.rate <= 0 || o.duration < 0 || o.duration > 3600 || o.connections < 1 || o.connections > 20000) {
    std::cerr << "confab-bench: an option is out of range (see --help)\n";
    return 2;
  }
  std::thread([limit = o.max_seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(limit));
    std::fprintf(stderr, "confab-bench: watchdog: run exceeded %d s\n", limit);
    std::_Exit(3);
  }).detach();

  json::object result{{"scenario", o.scenario}, {"protocol", proto}, {"threads", o.threads}, {"batch", device::use_batch}, {"targets", targets.empty() ? json::array{"127.0.0.1:8080"} : json::array(targets.begin(), targets.end())}};
  bool bad = false;
  try {
    engine eng(o.threads);
    json::object r;
    if (o.scenario == "idle") r = idle(eng, o);
    else if (o.scenario == "chat") r = groups_scenario(eng, o, 2, true);
    else if (o.scenario == "fanout") r = groups_scenario(eng, o, o.group_size, false);
    else if (o.scenario == "persist") r = persist(eng, o);
    else if (o.scenario == "writers") r = writers(eng, o);
    else if (o.scenario == "storm") r = storm(eng, o);
    else if (o.scenario == "history") r = history(eng, o);
    else if (o.scenario == "search_lag") r = search_lag(eng, o);
    else if (o.scenario == "mixed") r = mixed(eng, o);
    else if (o.scenario == "channel") r = channel(eng, o);
    else if (o.scenario == "channel_resume") r = channel_resume(eng, o);
    else if (o.scenario == "check") {
      options small = o;
      small.groups = 3, small.group_size = 10, small.senders = 3, small.rate = 300, small.duration = 2;
      auto fan = groups_scenario(eng, small, small.group_size, false);
      small.devices = 40, small.group_size = 10, small.pending = 20;
      auto st = storm(eng, small);
      bad = fan.at("violated").as_bool() || st.at("violated").as_bool();
      r = {{"fanout", std::move(fan)}, {"storm", std::move(st)}};
    } else {
      std::cerr << "confab-bench: unknown scenario " << o.scenario << "\n";
      return 2;
    }
    if (auto* v = r.if_contains("violated"); v && v->is_bool()) bad = bad || v->as_bool();
    result["result"] = std::move(r);
  } catch (const std::exception& e) {
    std::cerr << "confab-bench: " << e.what() << "\n";
    return 4;
  }
  result["ok"] = !bad;
  const auto text = json::serialize(result);
  std::cout << text << "\n";
  if (!o.json_out.empty()) std::ofstream(o.json_out) << text << "\n";
  return bad ? 1 : 0;
}
