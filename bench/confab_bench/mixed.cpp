// The mixed workload: --groups groups of --group-size members, every member one device and one
// closed-loop sender (--inflight operations outstanding) for --duration seconds. Each operation is
// a message (64 %), a thread reply (20 %), a reaction toggled (10 %), an edit of one's own message
// (5 %) or a delete of one's own deletable message (1 %). Afterwards every device's final state of
// every message (message_fold, fold.hpp) must equal every other device's of that conversation and
// what `history` returns; any difference, loss, duplicate, reorder or refused operation is a
// violation (exit 1).
//
// Deletes only target messages sent as deletable ("d:" texts), which nobody reacts to, replies to
// or edits, so a delete never races another device's operation on the same message (the server
// would rightly refuse that operation, which the check would count as a failure).
#include "common.hpp"
#include "fold.hpp"
#include "setup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <future>
#include <random>
#include <thread>

namespace confab::bench {
namespace asio = boost::asio;
namespace json = boost::json;
using clk = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::array<std::string_view, 4> emoji{"👍", "🎉", "❤️", "😂"};

// One member's view, touched only on its device's thread.
struct member {
  std::int64_t conv = 0;
  std::int64_t me = 0;
  message_fold fold;
  std::int64_t last_seq = 0;
  std::vector<std::int64_t> targets;     // top-level, not deletable: thread roots and reaction targets
  std::vector<std::int64_t> mine;        // my top-level, not deletable: edit targets
  std::vector<std::int64_t> deletable;   // my deletable messages not deleted yet
  std::set<std::pair<std::int64_t, std::string>> reacted;  // (seq, emoji) I have asked to add
  std::mt19937_64 rng;
  std::uint64_t n = 0;
  std::array<std::uint64_t, 5> by_kind{};  // message, reply, reaction, edit, delete

  void seen(const json::object& ev) {
    fold.apply(ev);
    const auto seq = ev.at("seq").to_number<std::int64_t>();
    last_seq = std::max(last_seq, seq);
    if (ev.at("kind").get_string() != "message" || ev.contains("thread_root")) return;
    const auto& text = ev.at("text").get_string();
    const bool mine_now = ev.at("sender").to_number<std::int64_t>() == me;
    if (text.starts_with("d:")) {
      if (mine_now) deletable.push_back(seq);
      return;
    }
    targets.push_back(seq);
    if (mine_now) mine.push_back(seq);
  }

  std::int64_t pick(const std::vector<std::int64_t>& v) { return v[rng() % v.size()]; }

  void act(device& d) {
    const auto tag = std::to_string(++n) + "-" + std::to_string(me);
    const auto conv_field = R"(,"conv":)" + std::to_string(conv);
    const int r = static_cast<int>(rng() % 100);
    if (r >= 99 && !deletable.empty()) {
      const auto seq = deletable.back();
      deletable.pop_back();
      ++by_kind[4];
      d.send_op("delete_message", conv_field + R"(,"seq":)" + std::to_string(seq));
    } else if (r >= 94 && r < 99 && !mine.empty()) {
      ++by_kind[3];
      d.send_op("edit", conv_field + R"(,"seq":)" + std::to_string(pick(mine)) + R"(,"text":"e:)" + tag + '"');
    } else if (r >= 84 && r < 94 && !targets.empty()) {
      const auto seq = pick(targets);
      const std::string e(emoji[rng() % emoji.size()]);
      const bool add = reacted.insert({seq, e}).second;
      if (!add) reacted.erase({seq, e});
      ++by_kind[2];
      d.send_op(add ? "react" : "unreact", conv_field + R"(,"seq":)" + std::to_string(seq) + R"(,"emoji":")" + e + '"');
    } else if (r >= 64 && r < 84 && !targets.empty()) {
      ++by_kind[1];
      d.send_op("send", conv_field + R"(,"client_id":"t)" + tag + R"(","text":"r:)" + tag + R"(","thread_root":)" +
                            std::to_string(pick(targets)));
    } else {
      ++by_kind[0];
      const char* kind = r < 2 ? "d:" : "m:";
      d.send_op("send", conv_field + R"(,"client_id":"m)" + tag + R"(","text":")" + kind + tag + '"');
    }
  }
};

// Every message of conv as history returns it, folded into the same states as a device's.
std::map<std::int64_t, message_state> server_state(const options& o, std::int64_t conv, const std::string& token) {
  std::map<std::int64_t, message_state> out;
  std::optional<std::int64_t> before;
  for (int page = 0; page < 10000; ++page) {
    json::object q{{"conv", conv}, {"limit", 100}};
    if (before) q["before"] = *before;
    auto r = post(o.targets[0], "history", q, token);
    const auto& evs = r.at("events").as_array();
    for (const auto& v : evs) {
      const auto& e = v.as_object();
      const auto seq = e.at("seq").to_number<std::int64_t>();
      if (!before || seq < *before) before = seq;
      if (e.at("kind").get_string() != "message") continue;
      auto& m = out[seq];
      m.sender = e.at("sender").to_number<std::int64_t>();
      m.text = std::string(e.at("text").get_string());
      m.edited = e.contains("edited_ts") && !e.at("edited_ts").is_null();
      m.deleted = e.contains("deleted") && e.at("deleted").as_bool();
      if (const auto* t = e.if_contains("thread_root"); t && t->is_int64()) m.thread_root = t->get_int64();
      if (const auto* t = e.if_contains("thread"); t && t->is_object()) m.replies = t->as_object().at("replies").to_number<std::int64_t>();
      if (const auto* rs = e.if_contains("reactions"); rs && rs->is_array())
        for (const auto& x : rs->as_array()) {
          auto& who = m.reactions[std::string(x.at("emoji").get_string())];
          for (std::int64_t k = 0; k < x.at("count").to_number<std::int64_t>(); ++k) who.insert(k);
        }
    }
    if (!r.at("has_more").as_bool() || evs.empty()) break;
  }
  return out;
}

std::map<std::int64_t, message_state> of_conv(const message_fold& f, std::int64_t conv) {
  std::map<std::int64_t, message_state> out;
  for (const auto& [k, m] : f.messages())
    if (k.first == conv) out[k.second] = m;
  return out;
}

std::uint64_t differences(const std::map<std::int64_t, message_state>& a, const std::map<std::int64_t, message_state>& b) {
  std::uint64_t n = 0;
  for (const auto& [seq, m] : a) {
    auto it = b.find(seq);
    if (it == b.end() || !m.same_as(it->second)) ++n;
  }
  for (const auto& [seq, m] : b)
    if (!a.contains(seq)) ++n;
  return n;
}

}  // namespace

json::object mixed(engine& eng, const options& o) {
  const int size = o.group_size;
  auto accts = register_users(o.targets[0], run_tag(), o.groups * size);
  std::vector<std::int64_t> convs;
  for (int g = 0; g < o.groups; ++g) {
    json::array others;
    for (int m = 1; m < size; ++m) others.push_back(accts[static_cast<std::size_t>(g * size + m)].user_id);
    convs.push_back(post(o.targets[0], "create_group", {{"title", "mixed"}, {"members", others}}, accts[static_cast<std::size_t>(g * size)].token)
                        .at("conv")
                        .as_int64());
  }
  fleet f{eng, o, {}};
  f.add(accts);
  std::vector<std::shared_ptr<member>> ms;
  for (std::size_t i = 0; i < f.devs.size(); ++i) {
    auto m = std::make_shared<member>();
    m->conv = convs[i / static_cast<std::size_t>(size)];
    m->me = accts[i].user_id;
    m->rng.seed(0x5eed + i);
    f.devs[i]->on_event = [m](const json::object& ev) { m->seen(ev); };
    ms.push_back(std::move(m));
  }
  const auto opened = f.open(0, f.devs.size(), false);

  eng.collect(true);
  const auto before = usage(o);
  const auto t0 = clk::now();
  const auto end = t0 + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(o.duration));
  std::vector<std::future<void>> fs;
  for (std::size_t i = 0; i < f.devs.size(); ++i)
    fs.push_back(asio::co_spawn(
        eng.ctx(f.thread_of(i)),
        [](std::shared_ptr<device> d, std::shared_ptr<member> m, int window, clk::time_point stop,
           asio::io_context& io) -> asio::awaitable<void> {
          asio::steady_timer t(io);
          while (clk::now() < stop) {
            while (d->in_flight() < static_cast<std::size_t>(window) && d->open_now()) m->act(*d);
            t.expires_after(200us);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          }
        }(f.devs[i], ms[i], o.inflight, end, eng.ctx(f.thread_of(i))),
        asio::use_future));
  for (auto& x : fs) x.get();
  for (int i = 0; i < 3000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const auto after = usage(o);
  auto st = eng.collect(false);

  // Settled: every device of a conversation has seen its last seq (bounded wait).
  auto settled = [&] {
    std::map<std::int64_t, std::int64_t> top;
    std::vector<std::int64_t> last(ms.size());
    for (std::size_t i = 0; i < ms.size(); ++i) eng.run_on(f.thread_of(i), [&] { last[i] = ms[i]->last_seq; });
    for (std::size_t i = 0; i < ms.size(); ++i) top[ms[i]->conv] = std::max(top[ms[i]->conv], last[i]);
    for (std::size_t i = 0; i < ms.size(); ++i)
      if (last[i] < top[ms[i]->conv]) return false;
    return true;
  };
  for (int i = 0; i < 600 && !settled(); ++i) std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(300ms);

  std::uint64_t between = 0, with_history = 0, messages = 0;
  std::array<std::uint64_t, 5> kinds{};
  for (std::size_t g = 0; g < convs.size(); ++g) {
    std::vector<std::map<std::int64_t, message_state>> views;
    for (int k = 0; k < size; ++k) {
      const auto i = g * static_cast<std::size_t>(size) + static_cast<std::size_t>(k);
      eng.run_on(f.thread_of(i), [&] {
        views.push_back(of_conv(ms[i]->fold, convs[g]));
        for (std::size_t j = 0; j < kinds.size(); ++j) kinds[j] += ms[i]->by_kind[j];
      });
    }
    for (std::size_t k = 1; k < views.size(); ++k) between += differences(views[0], views[k]);
    with_history += differences(views[0], server_state(o, convs[g], accts[g * static_cast<std::size_t>(size)].token));
    messages += views[0].size();
  }
  f.drop_all();
  const bool bad = violated(st) || between > 0 || with_history > 0 || opened != f.devs.size();
  return {{"groups", o.groups},
          {"group_size", size},
          {"devices_opened", opened},
          {"operations", st.sends},
          {"acks", st.acks},
          {"operations_per_sec", static_cast<double>(st.acks) / secs},
          {"by_kind", json::object{{"message", kinds[0]}, {"thread_reply", kinds[1]}, {"reaction", kinds[2]}, {"edit", kinds[3]}, {"delete", kinds[4]}}},
          {"messages_checked", messages},
          {"state_differences_between_devices", between},
          {"state_differences_with_history", with_history},
          {"ack_latency", st.ack.to_json()},
          {"server_cpu_s", after.cpu_s - before.cpu_s},
          {"server_cpu_us_per_operation", st.acks ? (after.cpu_s - before.cpu_s) * 1e6 / static_cast<double>(st.acks) : 0.0},
          {"violations", violations(st)},
          {"violated", bad}};
}

}  // namespace confab::bench
