#include "gateway/hub.hpp"

#include "core/log.hpp"
#include "core/time.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

namespace confab::gateway {
namespace asio = boost::asio;
namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

// --- the relay payloads nodes exchange over the broker: "<header line>\n<body>".
//   E <node> <conv> <kind> <sender> <added csv|-> <removed csv|-> <user:pos,...|->   body: event JSON
//   T <node> <conv> <user> <0|1> <username>                                        body: -
//   R <node> <conv>                                                                body: receipt frame
//   P <node> <user> <0|1> <last_seen|->                                            body: -
//   K <node> <device>                                                              body: -

std::string conv_channel(id_t conv) { return "c:" + std::to_string(conv); }
std::string user_channel(id_t user) { return "u:" + std::to_string(user); }
std::string presence_channel(id_t user) { return "p:" + std::to_string(user); }
// Every node subscribes: "re-read storage for every session" (a commit with unknown outcome).
const std::string all_channel = "confab:all";

std::string csv(const std::vector<id_t>& v) {
  if (v.empty()) return "-";
  std::string s;
  for (auto x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

bool parse_i64(std::string_view s, std::int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

bool parse_csv(std::string_view s, std::vector<id_t>& out) {
  if (s == "-") return true;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::int64_t v = 0;
    if (!parse_i64(s.substr(0, comma), v)) return false;
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return true;
}

bool parse_recipients(std::string_view s, std::vector<recipient>& out) {
  if (s == "-") return true;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    auto colon = item.find(':');
    recipient r;
    if (colon == std::string_view::npos || !parse_i64(item.substr(0, colon), r.user_id) ||
        !parse_i64(item.substr(colon + 1), r.pos))
      return false;
    out.push_back(r);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return true;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> w;
  while (!line.empty()) {
    auto sp = line.find(' ');
    w.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return w;
}

std::shared_ptr<const std::string> typing_frame(id_t conv, id_t user, const std::string& username, bool active,
                                                std::chrono::milliseconds ttl) {
  json::object o{{"type", "typing"}, {"conv", conv}, {"user_id", user}, {"username", username}, {"active", active}};
  if (active) o["expires_in_ms"] = ttl.count();
  return std::make_shared<const std::string>(json::serialize(o));
}

std::shared_ptr<const std::string> presence_frame(id_t user, bool online, std::optional<std::int64_t> last_seen) {
  json::object o{{"type", "presence"}, {"user_id", user}, {"online", online}};
  if (last_seen)
    o["last_seen_ts"] = *last_seen;
  else
    o["last_seen_ts"] = nullptr;
  return std::make_shared<const std::string>(json::serialize(o));
}

using frames = std::vector<std::pair<std::shared_ptr<session_base>, std::shared_ptr<const std::string>>>;
void send_all(frames& out) {
  for (auto& [s, f] : out) s->deliver_ephemeral(f);
}

}  // namespace

hub::hub(asio::any_io_executor ex, storage::store& store, std::shared_ptr<broker::broker> b, hub_options o)
    : ex_(ex),
      strand_(asio::make_strand(ex)),
      store_(store),
      broker_(std::move(b)),
      opts_(o),
      sweep_timer_(strand_),
      flush_timer_(strand_) {
  opts_.typing_throttle = std::min(opts_.typing_throttle, opts_.typing_ttl / 2);  // refreshes must beat expiry
}

hub::~hub() = default;

void hub::start() {
  std::weak_ptr<hub> w = weak_from_this();
  broker::handlers h;
  h.on_message = [w](std::string_view ch, std::string_view payload) {
    if (auto s = w.lock()) s->on_message(ch, payload);
  };
  h.on_reset = [w] {
    if (auto s = w.lock()) s->on_reset();
  };
  h.on_orphaned_offline = [w](std::int64_t user) {
    if (auto s = w.lock()) s->went_offline(user, now_ms());
  };
  broker_->start(std::move(h));
  broker_->subscribe({all_channel}, nullptr);
  asio::post(strand_, [self = shared_from_this()] { self->sweep_typing(); });
}

void hub::stop() {
  broker_->stop();
  asio::post(strand_, [self = shared_from_this()] {
    self->sweep_timer_.cancel();
    self->flush_timer_.cancel();
  });
}

// --- sessions

bool hub::attach(id_t user, id_t device, const std::shared_ptr<session_base>& s, std::function<void()> ready) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    auto& l = by_user_[user];
    first = l.empty();
    l.push_back(s);
    by_device_[device].push_back(s);
    if (first) {
      convs_of_[user];
      loading_.insert(user);
    }
    // Subscriptions are sets: for a second session this only waits until the channel is live.
    broker_->subscribe({user_channel(user)}, std::move(ready));
    if (first) join_presence(user);
  }
  return true;
}

bool hub::stopping() const { return stopping_.load(std::memory_order_relaxed); }

void hub::remove(list& l, const session_base* s, std::vector<std::shared_ptr<session_base>>& graveyard) {
  std::erase_if(l, [&](const std::weak_ptr<session_base>& w) {
    auto p = w.lock();
    const bool gone = !p || p.get() == s;
    if (p) graveyard.push_back(std::move(p));
    return gone;
  });
}

void hub::detach(id_t user, id_t device, const session_base* s) {
  bool last = false;
  std::vector<std::shared_ptr<session_base>> graveyard;  // released after mu_
  {
    std::lock_guard lock(mu_);
    if (auto it = by_user_.find(user); it != by_user_.end()) {
      remove(it->second, s, graveyard);
      if (it->second.empty()) {
        by_user_.erase(it);
        last = true;
      }
    }
    if (auto it = by_device_.find(device); it != by_device_.end()) {
      remove(it->second, s, graveyard);
      if (it->second.empty()) by_device_.erase(it);
    }
    if (last) {
      if (auto it = convs_of_.find(user); it != convs_of_.end()) {
        auto convs = std::move(it->second);
        convs_of_.erase(it);
        for (auto c : convs) {
          auto& locals = locals_in_[c];
          locals.erase(user);
          if (locals.empty()) {
            locals_in_.erase(c);
            broker_->unsubscribe({conv_channel(c)});
          }
        }
      }
      loading_.erase(user);
      removed_while_loading_.erase(user);
      broker_->unsubscribe({user_channel(user)});
      // Under mu_, like the join in attach: a quick detach/attach pair keeps its order.
      std::weak_ptr<hub> w = weak_from_this();
      broker_->presence_leave(user, [w, user](bool became) {
        if (auto h = w.lock(); h && became) h->went_offline(user, now_ms());
      });
    }
  }
}

void hub::load_conversations(id_t user, const std::vector<id_t>& convs) {
  std::lock_guard lock(mu_);
  if (!by_user_.contains(user)) return;  // the user left meanwhile
  std::vector<id_t> keep;
  auto removed = removed_while_loading_.find(user);
  for (auto c : convs)
    if (removed == removed_while_loading_.end() || !removed->second.contains(c)) keep.push_back(c);
  loading_.erase(user);
  removed_while_loading_.erase(user);
  add_interest_locked(user, keep);
}

void hub::add_interest_locked(id_t user, const std::vector<id_t>& convs) {
  auto it = convs_of_.find(user);
  if (it == convs_of_.end()) return;
  std::vector<std::string> channels;
  for (auto c : convs) {
    if (!it->second.insert(c).second) continue;
    locals_in_[c].insert(user);
    // Every channel, not only new ones: one another local user subscribed a moment ago may not
    // be live yet (subscriptions are sets; ready waits for all of them).
    channels.push_back(conv_channel(c));
  }
  if (channels.empty()) return;
  // Until a new subscription is live, events on it are missed: re-read storage once it is.
  std::weak_ptr<hub> w = weak_from_this();
  broker_->subscribe(std::move(channels), [w, user] {
    auto h = w.lock();
    if (!h) return;
    std::vector<std::shared_ptr<session_base>> ss;
    {
      std::lock_guard lock(h->mu_);
      ss = h->sessions_of(user);
    }
    for (auto& s : ss) s->resync();
  });
}

void hub::remove_interest_locked(id_t user, id_t conv) {
  if (loading_.contains(user)) removed_while_loading_[user].insert(conv);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || it->second.erase(conv) == 0) return;
  auto l = locals_in_.find(conv);
  if (l == locals_in_.end()) return;
  l->second.erase(user);
  if (l->second.empty()) {
    locals_in_.erase(l);
    broker_->unsubscribe({conv_channel(conv)});
  }
}

std::vector<std::shared_ptr<session_base>> hub::sessions_of(id_t user) const {
  std::vector<std::shared_ptr<session_base>> out;
  if (auto it = by_user_.find(user); it != by_user_.end())
    for (auto& w : it->second)
      if (auto s = w.lock()) out.push_back(std::move(s));
  return out;
}

// --- committed events

void hub::route_event_locked(event_kind kind, id_t conv, id_t sender, const std::vector<id_t>& added,
                             const std::vector<id_t>& removed, std::span<const recipient> to,
                             std::vector<std::pair<std::shared_ptr<session_base>, std::int64_t>>& out) {
  for (const auto& r : to) {
    auto it = by_user_.find(r.user_id);
    if (it == by_user_.end()) continue;
    for (auto& w : it->second)
      if (auto s = w.lock()) out.emplace_back(std::move(s), r.pos);
  }
  for (auto u : added)
    if (by_user_.contains(u)) add_interest_locked(u, {conv});
  for (auto u : removed)
    if (by_user_.contains(u)) remove_interest_locked(u, conv);
  if (kind == event_kind::message) {
    frames f;
    typing_locked(conv, sender, {}, false, f);
    if (!f.empty()) asio::post(strand_, [f = std::move(f)]() mutable { send_all(f); });
  }
}

void hub::on_committed(const event& ev, std::span<const recipient> to) {
  try {
    auto [added, removed] = membership_change(ev);
    auto text = std::make_shared<const std::string>(protocol::event_json(ev));
    std::vector<std::pair<std::shared_ptr<session_base>, std::int64_t>> targets;
    {
      std::lock_guard lock(mu_);
      route_event_locked(ev.kind, ev.conv, ev.sender, added, removed, to, targets);
    }
    for (auto& [s, pos] : targets) s->deliver(pos, text);
    if (broker_->alone()) return;

    std::string rs;
    for (auto& r : to) {
      if (!rs.empty()) rs += ',';
      rs += std::to_string(r.user_id) + ':' + std::to_string(r.pos);
    }
    std::string payload = "E " + node_id() + ' ' + std::to_string(ev.conv) + ' ' + std::string(to_string(ev.kind)) + ' ' +
                          std::to_string(ev.sender) + ' ' + csv(added) + ' ' + csv(removed) + ' ' +
                          (rs.empty() ? "-" : rs) + '\n' + *text;
    // New members' nodes do not follow the conversation yet; removed members' nodes must drop it
    // even if they are not subscribed any more (a removal committed while a hello was loading).
    for (auto u : added) broker_->publish(user_channel(u), payload);
    for (auto u : removed) broker_->publish(user_channel(u), payload);
    broker_->publish(conv_channel(ev.conv), std::move(payload));
  } catch (const std::exception&) {
    // Out of memory: the event is committed, so sessions repair the gap from storage.
    resync_everywhere();
  }
}

void hub::on_uncertain() { resync_everywhere(); }

void hub::resync_everywhere() {
  for (auto& s : all_sessions()) s->resync();
  broker_->publish(all_channel, "X " + node_id() + '\n');
}

std::vector<std::shared_ptr<session_base>> hub::all_sessions() const {
  std::vector<std::shared_ptr<session_base>> out;
  std::lock_guard lock(mu_);
  for (auto& [d, l] : by_device_)
    for (auto& w : l)
      if (auto s = w.lock()) out.push_back(std::move(s));
  return out;
}

void hub::kick_local(id_t device, std::uint16_t code, const std::string& reason) {
  std::vector<std::shared_ptr<session_base>> targets;
  {
    std::lock_guard lock(mu_);
    if (auto it = by_device_.find(device); it != by_device_.end())
      for (auto& w : it->second)
        if (auto s = w.lock()) targets.push_back(std::move(s));
  }
  for (auto& s : targets) s->kick(code, reason);
}

void hub::disconnect_device(id_t user, id_t device, std::uint16_t code, const std::string& reason) {
  kick_local(device, code, reason);
  broker_->publish(user_channel(user), "K " + node_id() + ' ' + std::to_string(device) + '\n');
}

void hub::close_all(std::uint16_t code, const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  for (auto& s : all_sessions()) s->kick(code, reason);
}

std::size_t hub::session_count() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [d, l] : by_device_) n += l.size();
  return n;
}

// --- typing and receipts

std::optional<bool> hub::local_member(id_t user, id_t conv) const {
  std::lock_guard lock(mu_);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || loading_.contains(user)) return std::nullopt;
  return it->second.contains(conv);
}

void hub::to_conv_locked(id_t conv, id_t except_user, const std::shared_ptr<const std::string>& frame, frames& out) const {
  auto it = locals_in_.find(conv);
  if (it == locals_in_.end()) return;
  for (auto u : it->second) {
    if (u == except_user) continue;
    for (auto& s : sessions_of(u)) out.emplace_back(std::move(s), frame);
  }
}

void hub::typing_locked(id_t conv, id_t user, const std::string& username, bool active, frames& out) {
  const auto key = std::make_pair(conv, user);
  if (active) {
    typing_[key] = {clock::now() + opts_.typing_ttl, username};
    to_conv_locked(conv, user, typing_frame(conv, user, username, true, opts_.typing_ttl), out);
    return;
  }
  auto it = typing_.find(key);
  if (it == typing_.end()) return;  // nobody here was shown it
  to_conv_locked(conv, user, typing_frame(conv, user, it->second.username, false, opts_.typing_ttl), out);
  typing_.erase(it);
}

void hub::typing(id_t user, const std::string& username, id_t conv, bool active) {
  frames out;
  {
    std::lock_guard lock(mu_);
    const auto key = std::make_pair(user, conv);
    const auto now = clock::now();
    if (active) {
      // Throttled while the others still show it; once it expired, a refresh shows it again.
      auto it = typing_sent_.find(key);
      if (it != typing_sent_.end() && now - it->second < opts_.typing_throttle && typing_.contains({conv, user})) return;
      typing_sent_[key] = now;
    } else {
      typing_sent_.erase(key);
    }
    typing_locked(conv, user, username, active, out);
  }
  send_all(out);
  broker_->publish(conv_channel(conv), "T " + node_id() + ' ' + std::to_string(conv) + ' ' + std::to_string(user) + ' ' +
                                           (active ? "1 " : "0 ") + username + '\n');
}

void hub::sweep_typing() {
  if (stopping()) return;
  frames out;
  {
    std::lock_guard lock(mu_);
    const auto now = clock::now();
    for (auto it = typing_.begin(); it != typing_.end();) {
      if (it->second.expires > now) {
        ++it;
        continue;
      }
      auto [conv, user] = it->first;
      to_conv_locked(conv, user, typing_frame(conv, user, it->second.username, false, opts_.typing_ttl), out);
      it = typing_.erase(it);
    }
    std::erase_if(typing_sent_, [&](const auto& kv) { return now - kv.second > opts_.typing_ttl * 2; });
  }
  send_all(out);
  sweep_timer_.expires_after(std::chrono::milliseconds(250));
  sweep_timer_.async_wait([w = weak_from_this()](boost::system::error_code e) {
    if (auto h = w.lock(); h && !e) h->sweep_typing();
  });
}

void hub::receipt(id_t conv, const receipt_record& r) {
  auto frame = std::make_shared<const std::string>(json::serialize(json::object{
      {"type", "receipt"}, {"conv", conv}, {"user_id", r.user_id}, {"delivered_seq", r.delivered_seq}, {"read_seq", r.read_seq}}));
  frames out;
  {
    std::lock_guard lock(mu_);
    to_conv_locked(conv, 0, frame, out);
  }
  send_all(out);
  broker_->publish(conv_channel(conv), "R " + node_id() + ' ' + std::to_string(conv) + '\n' + *frame);
}

// --- presence

void hub::unwatch_locked(const session_base* s, const std::vector<id_t>& users,
                         std::vector<std::shared_ptr<session_base>>& graveyard) {
  std::vector<std::string> unsub;
  for (auto u : users) {
    auto it = watchers_.find(u);
    if (it == watchers_.end()) continue;
    remove(it->second, s, graveyard);
    if (it->second.empty()) {
      watchers_.erase(it);
      presence_known_.erase(u);
      unsub.push_back(presence_channel(u));
    }
  }
  if (!unsub.empty()) broker_->unsubscribe(std::move(unsub));
}

void hub::watch(const std::shared_ptr<session_base>& s, const std::vector<id_t>& before, const std::vector<id_t>& after) {
  std::vector<std::shared_ptr<session_base>> graveyard;  // released after mu_
  std::lock_guard lock(mu_);
  unwatch_locked(s.get(), before, graveyard);
  std::vector<std::string> sub;
  for (auto u : after) {
    auto& l = watchers_[u];
    if (l.empty()) sub.push_back(presence_channel(u));
    l.push_back(s);
  }
  if (!sub.empty()) broker_->subscribe(std::move(sub), nullptr);
}

void hub::unwatch(const session_base* s, const std::vector<id_t>& users) {
  std::vector<std::shared_ptr<session_base>> graveyard;  // released after mu_
  std::lock_guard lock(mu_);
  unwatch_locked(s, users, graveyard);
}

void hub::presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb) {
  broker_->presence_query(std::move(users), std::move(cb));
}

void hub::join_presence(id_t user) {
  std::weak_ptr<hub> w = weak_from_this();
  broker_->presence_join(user, [w, user](bool became) {
    if (auto h = w.lock(); h && became) h->went_online(user);
  });
}

void hub::went_online(id_t user) { announce(user, {true, std::nullopt}); }

void hub::went_offline(id_t user, std::int64_t ms) {
  announce(user, {false, ms});
  // Durable last seen, in the background (the announcement does not wait for it).
  asio::co_spawn(ex_, [](storage::store& st, id_t u, std::int64_t t) -> asio::awaitable<void> {
    auto r = co_await st.set_last_seen(u, t);
    if (!r) log::warn("cannot store last seen", "\"user\":" + std::to_string(u));
  }(store_, user, ms), asio::detached);
}

void hub::announce(id_t user, presence_state st) {
  queue_presence(user, st);
  broker_->publish(presence_channel(user), "P " + node_id() + ' ' + std::to_string(user) + ' ' + (st.online ? "1 " : "0 ") +
                                               (st.last_seen ? std::to_string(*st.last_seen) : "-") + '\n');
}

void hub::queue_presence(id_t user, presence_state st) {
  std::lock_guard lock(mu_);
  if (!watchers_.contains(user)) return;
  presence_pending_[user] = st;
  if (flush_armed_) return;
  flush_armed_ = true;
  asio::post(strand_, [w = weak_from_this()] {
    auto h = w.lock();
    if (!h) return;
    h->flush_timer_.expires_after(h->opts_.presence_coalesce);
    h->flush_timer_.async_wait([w](boost::system::error_code e) {
      if (auto hh = w.lock(); hh && !e) hh->flush_presence();
    });
  });
}

void hub::flush_presence() {
  frames out;
  {
    std::lock_guard lock(mu_);
    flush_armed_ = false;
    for (auto& [user, st] : presence_pending_) {
      auto known = presence_known_.find(user);
      if (known != presence_known_.end() && known->second == st) continue;  // no change to show
      presence_known_[user] = st;
      auto frame = presence_frame(user, st.online, st.last_seen);
      if (auto it = watchers_.find(user); it != watchers_.end())
        for (auto& w : it->second)
          if (auto s = w.lock()) out.emplace_back(std::move(s), frame);
    }
    presence_pending_.clear();
  }
  send_all(out);
}

// --- the broker

void hub::on_reset() {
  std::vector<id_t> users;
  {
    std::lock_guard lock(mu_);
    for (auto& [u, l] : by_user_) users.push_back(u);
  }
  // Redis may have restarted empty: announce this node's users again.
  for (auto u : users) join_presence(u);
  for (auto& s : all_sessions()) {
    s->resync();
    s->recheck_device();  // a revocation kick from another node may have been lost
  }
  // Membership events may have been lost too: re-read each local user's conversations and
  // follow exactly those (one storage read per user, in the background).
  asio::co_spawn(ex_, [](std::weak_ptr<hub> w, storage::store& st, std::vector<id_t> us) -> asio::awaitable<void> {
    for (auto u : us) {
      auto convs = co_await st.conversation_ids(u);
      auto h = w.lock();
      if (!h) co_return;
      if (convs) h->reconcile(u, *convs);
    }
  }(weak_from_this(), store_, std::move(users)), asio::detached);
}

void hub::reconcile(id_t user, const std::vector<id_t>& convs) {
  std::lock_guard lock(mu_);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || loading_.contains(user)) return;  // gone, or a hello is loading it
  std::unordered_set<id_t> want(convs.begin(), convs.end());
  std::vector<id_t> drop;
  for (auto c : it->second)
    if (!want.contains(c)) drop.push_back(c);
  for (auto c : drop) remove_interest_locked(user, c);
  add_interest_locked(user, convs);  // subscribes what is missing; its ready re-reads the stream
}

void hub::on_message(std::string_view channel, std::string_view payload) {
  (void)channel;
  auto nl = payload.find('\n');
  if (nl == std::string_view::npos) return;
  auto w = split_words(payload.substr(0, nl));
  auto body = payload.substr(nl + 1);
  if (w.size() < 2 || w[1] == node_id()) return;  // malformed, or our own
  std::int64_t a = 0, b = 0;
  if (w[0] == "E" && w.size() == 8) {
    std::vector<id_t> added, removed;
    std::vector<recipient> to;
    auto kind = parse_event_kind(w[3]);
    if (!kind || !parse_i64(w[2], a) || !parse_i64(w[4], b) || !parse_csv(w[5], added) || !parse_csv(w[6], removed) ||
        !parse_recipients(w[7], to))
      return;
    auto text = std::make_shared<const std::string>(body);
    std::vector<std::pair<std::shared_ptr<session_base>, std::int64_t>> targets;
    {
      std::lock_guard lock(mu_);
      route_event_locked(*kind, a, b, added, removed, to, targets);
    }
    for (auto& [s, pos] : targets) s->deliver(pos, text);
  } else if (w[0] == "T" && w.size() == 6) {
    if (!parse_i64(w[2], a) || !parse_i64(w[3], b)) return;
    frames out;
    {
      std::lock_guard lock(mu_);
      typing_locked(a, b, std::string(w[5]), w[4] == "1", out);
    }
    send_all(out);
  } else if (w[0] == "R" && w.size() == 3) {
    if (!parse_i64(w[2], a)) return;
    auto frame = std::make_shared<const std::string>(body);
    frames out;
    {
      std::lock_guard lock(mu_);
      to_conv_locked(a, 0, frame, out);
    }
    send_all(out);
  } else if (w[0] == "P" && w.size() == 5) {
    if (!parse_i64(w[2], a)) return;
    presence_state st{w[3] == "1", std::nullopt};
    if (w[4] != "-") {
      if (!parse_i64(w[4], b)) return;
      st.last_seen = b;
    }
    queue_presence(a, st);
  } else if (w[0] == "X" && w.size() == 2) {
    for (auto& s : all_sessions()) s->resync();
  } else if (w[0] == "K" && w.size() == 3) {
    if (parse_i64(w[2], a)) kick_local(a, 4001, "device revoked");
  }
}

}  // namespace confab::gateway
