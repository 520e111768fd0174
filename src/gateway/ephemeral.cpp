#include "gateway/ephemeral.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace confab::gateway {
namespace json = boost::json;

std::shared_ptr<const std::string> typing_frame(id_t conv, id_t user, const std::string& username, bool active,
                                                std::chrono::milliseconds ttl, std::optional<std::int64_t> thread) {
  json::object o{{"type", "typing"}, {"conv", conv}, {"user_id", user}, {"username", username}, {"active", active}};
  if (active) o["expires_in_ms"] = ttl.count();
  if (active && thread) o["thread"] = *thread;
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

std::shared_ptr<const std::string> receipt_frame(id_t conv, const receipt_record& r) {
  return std::make_shared<const std::string>(json::serialize(json::object{{"type", "receipt"},
                                                                          {"conv", conv},
                                                                          {"user_id", r.user_id},
                                                                          {"delivered_seq", r.delivered_seq},
                                                                          {"read_seq", r.read_seq}}));
}

// --- typing

typing_tracker::typing_tracker(const clock& c, std::chrono::milliseconds ttl, std::chrono::milliseconds throttle)
    : clock_(c), ttl_(ttl), throttle_(std::min(throttle, ttl / 2)) {}

bool typing_tracker::local_start(id_t conv, id_t user, const std::string& username, std::optional<std::int64_t> thread) {
  const auto key = std::make_pair(conv, user);
  const auto now = clock_.steady();
  lock_guard lock(mu_);
  // Throttled while the others still show it; once it expired, a refresh shows it again.
  auto it = last_sent_.find(key);
  auto sh = shown_.find(key);
  if (it != last_sent_.end() && now - it->second < throttle_ && sh != shown_.end() && sh->second.thread == thread) return false;
  last_sent_[key] = now;
  shown_[key] = {now + ttl_, username, thread};
  return true;
}

void typing_tracker::remote_start(id_t conv, id_t user, const std::string& username, std::optional<std::int64_t> thread) {
  const auto now = clock_.steady();
  lock_guard lock(mu_);
  shown_[{conv, user}] = {now + ttl_, username, thread};
}

std::optional<std::string> typing_tracker::stop(id_t conv, id_t user, bool local) {
  const auto key = std::make_pair(conv, user);
  lock_guard lock(mu_);
  if (local) last_sent_.erase(key);
  auto it = shown_.find(key);
  if (it == shown_.end()) return std::nullopt;  // nobody here was shown it
  auto name = std::move(it->second.username);
  shown_.erase(it);
  return name;
}

std::vector<typing_tracker::expired> typing_tracker::expire() {
  std::vector<expired> out;
  const auto now = clock_.steady();
  lock_guard lock(mu_);
  for (auto it = shown_.begin(); it != shown_.end();) {
    if (it->second.until > now) {
      ++it;
      continue;
    }
    out.push_back({it->first.first, it->first.second, std::move(it->second.username)});
    it = shown_.erase(it);
  }
  std::erase_if(last_sent_, [&](const auto& kv) { return now - kv.second > ttl_ * 2; });
  return out;
}

// --- presence

void presence_watch::unwatch_locked(const session_base* s, const std::vector<id_t>& users,
                                    std::vector<session_ptr>& graveyard) {
  std::vector<id_t> gone;
  for (auto u : users) {
    auto it = watchers_.find(u);
    if (it == watchers_.end()) continue;
    std::erase_if(it->second, [&](const std::weak_ptr<session_base>& w) {
      auto p = w.lock();
      const bool drop = !p || p.get() == s;
      if (p) graveyard.push_back(std::move(p));
      return drop;
    });
    if (it->second.empty()) {
      watchers_.erase(it);
      shown_.erase(u);
      gone.push_back(u);
    }
  }
  link_.unwatch_presence(gone);
}

void presence_watch::watch(const session_ptr& s, const std::vector<id_t>& before, const std::vector<id_t>& after) {
  std::vector<session_ptr> graveyard;  // declared first: released after the lock
  lock_guard lock(mu_);
  unwatch_locked(s.get(), before, graveyard);
  std::vector<id_t> fresh;
  for (auto u : after) {
    auto& l = watchers_[u];
    if (l.empty()) fresh.push_back(u);
    l.push_back(s);
  }
  link_.watch_presence(fresh);
}

void presence_watch::unwatch(const session_base* s, const std::vector<id_t>& users) {
  std::vector<session_ptr> graveyard;
  lock_guard lock(mu_);
  unwatch_locked(s, users, graveyard);
}

bool presence_watch::queue(id_t user, state st) {
  lock_guard lock(mu_);
  if (!watchers_.contains(user)) return false;
  pending_[user] = st;
  if (flush_armed_) return false;
  flush_armed_ = true;
  return true;
}

framed presence_watch::flush() {
  framed out;
  lock_guard lock(mu_);
  flush_armed_ = false;
  for (auto& [user, st] : pending_) {
    auto known = shown_.find(user);
    if (known != shown_.end() && known->second == st) continue;  // no change to show
    shown_[user] = st;
    auto frame = presence_frame(user, st.online, st.last_seen);
    if (auto it = watchers_.find(user); it != watchers_.end())
      for (auto& w : it->second)
        if (auto s = w.lock()) out.emplace_back(std::move(s), frame);
  }
  pending_.clear();
  return out;
}

}  // namespace confab::gateway
