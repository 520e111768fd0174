// Issue 12's channel scenarios (docs/performance.md, "Channels: fan-out and resume").
//
// channel: one public channel of --members members. --connections of them are registered users
// with a connected device (they join through the API); the rest are made in bulk by SQL in the
// server's database (--db, bulk.hpp). --senders of the connected members send --rate messages/s
// in total for --duration s. Every connected device tracks the channel's cursor from its last seq
// at the start and checks each channel_event frame: seq must be cursor + 1 (device.cpp). Figures:
// send→ack, send→deliver (the frame reaching each connected member), deliveries/s, server CPU per
// delivery; violations: duplicates, gaps, reorders, lost deliveries, and devices whose cursor is
// not the channel's last seq at the end.
//
// channel_resume: a reader in --channels channels (made by a writer, joined through the API) and
// the writer's devices. Each of --rounds rounds: the reader's device drops, the writer sends
// --pending messages into each of --moved channels picked at random, the reader reconnects with
// its stream cursor and resumes as docs/protocol.md section 10 says (after `synced`:
// channel_heads pages, then one history fill per moved channel, the requests pipelined on the
// connection). Time to caught up = from the start of the TCP connect to the last fill's reply.
// Check: exactly the missed messages applied, each once, in seq order, and nothing else moved.
#include "bulk.hpp"
#include "common.hpp"
#include "setup.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace confab::bench {
namespace json = boost::json;
using clk = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Waits (bounded) until every device of f has had its `synced`.
bool all_synced(fleet& f, std::chrono::seconds limit) {
  const auto deadline = clk::now() + limit;
  while (clk::now() < deadline) {
    std::size_t n = 0;
    for (std::size_t t = 0; t < static_cast<std::size_t>(f.eng.threads()); ++t)
      f.eng.run_on(t, [&] {
        for (std::size_t i = t; i < f.devs.size(); i += f.eng.threads()) n += f.devs[i]->synced() ? 1 : 0;
      });
    if (n == f.devs.size()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

json::object channel(engine& eng, const options& o) {
  const int n = o.connections;
  if (o.members < n) throw std::runtime_error("channel: --members must be at least --connections");
  if (o.members > n && o.db.empty()) throw std::runtime_error("channel: members beyond --connections need --db");
  if (o.senders < 1 || o.senders > n) throw std::runtime_error("channel: --senders must be 1 .. --connections");
  const auto& server = o.targets[0];
  const auto tag = run_tag();
  const auto t0 = clk::now();
  auto accts = register_users(server, tag, n);
  const auto conv = post(server, "create_channel", {{"title", "bench " + tag}, {"visibility", "public"}}, accts[0].token).at("conv").as_int64();
  in_parallel(n - 1, 8, [&](int i) { post(server, "join_channel", {{"conv", conv}}, accts[static_cast<std::size_t>(i) + 1].token); });
  const double joined_s = std::chrono::duration<double>(clk::now() - t0).count();
  const double bulk_s = o.members > n ? bulk_members(o.db, conv, o.members - n, tag + "m") : 0.0;
  const auto ch = post(server, "channel", {{"conv", conv}}, accts[0].token);
  const auto member_count = ch.at("member_count").to_number<std::int64_t>();
  const auto start_seq = ch.at("last_seq").to_number<std::int64_t>();

  fleet f{eng, o, {}};
  f.add(accts);
  const auto ok = f.open(0, f.devs.size(), false);
  const bool synced = all_synced(f, 60s);
  std::this_thread::sleep_for(1s);  // the follow-ups of the hellos (a second `synced` each) settle
  for (std::size_t i = 0; i < f.devs.size(); ++i) eng.run_on(f.thread_of(i), [&] { f.devs[i]->track_channel(conv, start_seq); });
  std::cerr << "confab-bench: channel " << conv << ": " << member_count << " members, " << ok << " connected\n";

  thread_stats st;
  auto r = measure_groups(f, o, {conv}, n, o.senders, o.rate, o.duration, st);
  // Every connected member's cursor is the channel's last seq: nothing missing at the end.
  const auto end_seq = post(server, "channel", {{"conv", conv}}, accts[0].token).at("last_seq").to_number<std::int64_t>();
  std::size_t behind = 0;
  for (std::size_t i = 0; i < f.devs.size(); ++i)
    eng.run_on(f.thread_of(i), [&] { behind += f.devs[i]->channel_cursor(conv) != end_seq ? 1 : 0; });
  f.drop_all();
  const bool bad = violated(st) || r.at("lost").as_uint64() > 0 || behind > 0 || !synced || ok != f.devs.size() ||
                   end_seq - start_seq != static_cast<std::int64_t>(st.acks);
  r["members"] = member_count;
  r["connected"] = ok;
  r["senders"] = o.senders;
  r["messages_in_channel"] = end_seq - start_seq;
  r["devices_behind_at_end"] = behind;
  r["setup_register_join_s"] = joined_s;
  r["setup_bulk_members_s"] = bulk_s;
  r["violated"] = bad;
  return r;
}

namespace {

// The reader's resume, on its device's thread only (docs/protocol.md section 10, Channels).
struct resume_state {
  std::shared_ptr<device> dev;
  std::int64_t writer = 0;
  bool fresh = true;  // the first connection: cursors from the heads, no fills ("Recent state")
  std::unordered_map<std::int64_t, std::int64_t> cursor;
  std::unordered_set<std::int64_t> filling, refill;
  int outstanding = 0;
  bool started = false;
  // this round
  std::unordered_map<std::int64_t, int> applied_in;
  std::uint64_t applied = 0, live_duplicates = 0, gaps = 0, foreign = 0, errors = 0, requests = 0;
  std::int64_t t_synced = 0, t_heads = 0, t_done = 0;
  std::function<void()> finished;

  void new_round() {
    applied_in.clear();
    applied = live_duplicates = gaps = foreign = errors = requests = 0;
    t_synced = t_heads = t_done = 0;
    started = false;
    outstanding = 0;  // replies the last connection did not get are lost with it
    filling.clear();
    refill.clear();
  }
  void apply(std::int64_t conv, std::int64_t seq, const json::object& ev) {
    cursor[conv] = seq;
    if (ev.at("kind").get_string() != "message" || ev.at("sender").to_number<std::int64_t>() != writer) {
      ++foreign;  // nothing but the writer's messages moves these channels
      return;
    }
    ++applied_in[conv];
    ++applied;
  }
  void done_one() {
    if (--outstanding > 0 || !started || t_done) return;
    t_done = now_ns();
    if (finished) std::exchange(finished, nullptr)();
  }
  void heads(std::optional<std::int64_t> after) {
    ++outstanding;
    ++requests;
    const std::string fields = after ? ",\"after_conv\":" + std::to_string(*after) : std::string{};
    dev->request("channel_heads", fields, [this](bool ok, const json::object& d) {
      if (!ok) {
        ++errors;
      } else {
        for (const auto& h : d.at("heads").as_array()) {
          const auto conv = h.at("conv").to_number<std::int64_t>();
          const auto head = h.at("last_seq").to_number<std::int64_t>();
          if (fresh) cursor[conv] = head;
          else if (auto it = cursor.find(conv); it != cursor.end() && head > it->second) fill(conv);
        }
        if (const auto& next = d.at("next"); next.is_object()) heads(next.at("after_conv").to_number<std::int64_t>());
        else if (!t_heads) t_heads = now_ns();  // the first pass (a later `synced` runs another)
      }
      done_one();
    });
  }
  void fill(std::int64_t conv) {
    if (!filling.insert(conv).second) {
      refill.insert(conv);
      return;
    }
    ++outstanding;
    ++requests;
    dev->request("history", ",\"conv\":" + std::to_string(conv) + ",\"after\":" + std::to_string(cursor[conv]) + ",\"limit\":100",
                 [this, conv](bool ok, const json::object& d) {
                   filling.erase(conv);
                   bool more = refill.erase(conv) > 0;
                   if (!ok) {
                     ++errors;
                   } else {
                     for (const auto& e : d.at("events").as_array()) {
                       const auto seq = e.at("seq").to_number<std::int64_t>();
                       auto& c = cursor[conv];
                       if (seq <= c) continue;  // applied live meanwhile
                       if (seq != c + 1) {
                         ++gaps;
                         break;
                       }
                       apply(conv, seq, e.as_object());
                     }
                     more = more || d.at("has_more").as_bool();
                   }
                   if (more) fill(conv);
                   done_one();
                 });
  }
  void on_synced() {
    if (!t_synced) t_synced = now_ns();
    started = true;
    heads(std::nullopt);
  }
  void on_live(std::int64_t conv, std::int64_t seq, const json::object& ev) {
    auto it = cursor.find(conv);
    if (it == cursor.end()) return;
    if (seq <= it->second) ++live_duplicates;  // ignored, as a client does
    else if (seq == it->second + 1) apply(conv, seq, ev);
    else fill(conv);
  }
};

}  // namespace

json::object channel_resume(engine& eng, const options& o) {
  if (o.moved < 1 || o.moved > o.channels || o.pending < 1 || o.rounds < 1) throw std::runtime_error("channel_resume: bad --moved, --pending or --rounds");
  const auto& server = o.targets[0];
  const auto tag = run_tag();
  const auto t0 = clk::now();
  auto accts = register_users(server, tag, 2);  // the reader, the writer
  const auto& reader = accts[0];
  std::vector<account> writers{accts[1]};
  for (int i = 1; i < 8; ++i)  // a connection handles its requests one at a time: 8 writer devices
    writers.push_back({accts[1].user_id, std::string(post(server, "login", {{"username", tag + "1"}, {"password", "bench-password"},
                                                                             {"device_name", "w" + std::to_string(i)}})
                                                         .at("token")
                                                         .as_string())});
  std::vector<std::int64_t> convs(static_cast<std::size_t>(o.channels));
  in_parallel(o.channels, 8, [&](int i) {
    const auto c = post(server, "create_channel", {{"title", "resume " + tag + std::to_string(i)}, {"visibility", "public"}}, writers[0].token)
                       .at("conv")
                       .as_int64();
    post(server, "join_channel", {{"conv", c}}, reader.token);
    convs[static_cast<std::size_t>(i)] = c;
  });
  const double setup_s = std::chrono::duration<double>(clk::now() - t0).count();

  fleet f{eng, o, {}};
  f.add({reader});
  f.add(writers);
  auto st = std::make_shared<resume_state>();
  st->dev = f.devs[0];
  st->writer = accts[1].user_id;
  auto round_done = std::make_shared<std::promise<void>>();
  eng.run_on(f.thread_of(0), [&] {
    st->dev->on_synced = [st] { st->on_synced(); };
    st->dev->on_channel_event = [st](std::int64_t c, std::int64_t s, const json::object& e) { st->on_live(c, s, e); };
    st->finished = [round_done] { round_done->set_value(); };
  });
  if (f.open(0, f.devs.size(), false) != f.devs.size()) throw std::runtime_error("channel_resume: a device did not connect");
  if (round_done->get_future().wait_for(30s) != std::future_status::ready) throw std::runtime_error("channel_resume: no first heads");
  std::size_t tracked = 0;
  eng.run_on(f.thread_of(0), [&] {
    st->fresh = false;
    tracked = st->cursor.size();
  });
  eng.record_latency(false);

  histogram caught_up, to_synced, to_heads;
  std::uint64_t missed_total = 0, applied_total = 0, wrong_rounds = 0, requests_total = 0, timeouts = 0;
  thread_stats sum;
  std::mt19937_64 rng(12);
  for (int round = 0; round < o.rounds; ++round) {
    eng.run_on(f.thread_of(0), [&] { f.devs[0]->drop(); });
    std::this_thread::sleep_for(100ms);  // the server notices the drop
    // --moved channels, --pending messages each, over the writer's devices; all acked.
    std::vector<std::int64_t> moved = convs;
    std::shuffle(moved.begin(), moved.end(), rng);
    moved.resize(static_cast<std::size_t>(o.moved));
    std::unordered_map<std::int64_t, std::int64_t> before;
    eng.run_on(f.thread_of(0), [&] {
      for (auto c : moved) before[c] = st->cursor.at(c);
    });
    for (std::size_t k = 0; k < moved.size(); ++k) {
      const std::size_t w = 1 + k % writers.size();
      eng.run_on(f.thread_of(w), [&] {
        for (int m = 0; m < o.pending; ++m) f.devs[w]->send_message(moved[k]);
      });
    }
    for (int i = 0; i < 3000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(5ms);
    missed_total += moved.size() * static_cast<std::size_t>(o.pending);
    // Reconnect and time the resume.
    auto done = std::make_shared<std::promise<void>>();
    eng.run_on(f.thread_of(0), [&] {
      st->new_round();
      st->finished = [done] { done->set_value(); };
    });
    const auto t_open = now_ns();
    f.open(0, 1, true);
    if (done->get_future().wait_for(10s) != std::future_status::ready) {
      ++timeouts;
      continue;
    }
    eng.run_on(f.thread_of(0), [&] {
      caught_up.record((st->t_done - t_open) / 1000);
      to_synced.record((st->t_synced - t_open) / 1000);
      to_heads.record((st->t_heads - t_open) / 1000);
      applied_total += st->applied;
      requests_total += st->requests;
      // Exactly the missed messages: each moved channel moved by --pending, all applied; no other.
      bool right = st->applied == moved.size() * static_cast<std::size_t>(o.pending) && st->gaps == 0 && st->foreign == 0 && st->errors == 0;
      for (auto c : moved)
        right = right && st->cursor.at(c) == before.at(c) + o.pending && st->applied_in[c] == o.pending;
      wrong_rounds += right ? 0 : 1;
    });
    std::cerr << "confab-bench: resume round " << round << ": " << static_cast<double>(caught_up.max()) / 1000 << " ms max so far\n";
  }
  sum = eng.collect(false);
  f.drop_all();
  const bool bad = wrong_rounds > 0 || timeouts > 0 || violated(sum);
  return {{"channels", o.channels},
          {"tracked", tracked},
          {"moved_per_round", o.moved},
          {"messages_per_moved_channel", o.pending},
          {"rounds", o.rounds},
          {"setup_s", setup_s},
          {"caught_up", caught_up.to_json()},
          {"connect_to_synced", to_synced.to_json()},
          {"connect_to_heads", to_heads.to_json()},
          {"requests_per_resume", static_cast<double>(requests_total) / std::max(1, o.rounds)},
          {"missed_messages", missed_total},
          {"applied_messages", applied_total},
          {"wrong_rounds", wrong_rounds},
          {"timeouts", timeouts},
          {"writer_send_errors", sum.send_errors},
          {"violations", violations(sum)},
          {"violated", bad}};
}

}  // namespace confab::bench
