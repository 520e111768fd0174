#include "gateway/interest.hpp"

namespace confab::gateway {

void interest::set_on_live(std::function<void(id_t)> on_live) {
  lock_guard lock(mu_);
  on_live_ = std::move(on_live);
}

void interest::begin(id_t user) {
  lock_guard lock(mu_);
  convs_of_[user];
  loading_.insert(user);
}

void interest::end(id_t user) {
  lock_guard lock(mu_);
  loading_.erase(user);
  removed_while_loading_.erase(user);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end()) return;
  auto convs = std::move(it->second);
  convs_of_.erase(it);
  for (auto c : convs) {
    auto l = locals_in_.find(c);
    if (l == locals_in_.end()) continue;
    l->second.erase(user);
    if (l->second.empty()) {
      locals_in_.erase(l);
      link_.unfollow_conv(c);
    }
  }
}

void interest::loaded(id_t user, const std::vector<id_t>& convs) {
  lock_guard lock(mu_);
  if (!convs_of_.contains(user)) return;  // the user left meanwhile
  std::vector<id_t> keep;
  auto removed = removed_while_loading_.find(user);
  for (auto c : convs)
    if (removed == removed_while_loading_.end() || !removed->second.contains(c)) keep.push_back(c);
  loading_.erase(user);
  removed_while_loading_.erase(user);
  add_locked(user, keep);
}

void interest::reconcile(id_t user, const std::vector<id_t>& convs) {
  lock_guard lock(mu_);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || loading_.contains(user)) return;  // gone, or a hello is loading it
  std::unordered_set<id_t> want(convs.begin(), convs.end());
  std::vector<id_t> drop;
  for (auto c : it->second)
    if (!want.contains(c)) drop.push_back(c);
  for (auto c : drop) remove_locked(user, c);
  add_locked(user, convs);  // follows what is missing; on_live re-reads the stream
}

void interest::apply(id_t conv, const std::vector<id_t>& added, const std::vector<id_t>& removed) {
  if (added.empty() && removed.empty()) return;
  lock_guard lock(mu_);
  for (auto u : added) add_locked(u, {conv});
  for (auto u : removed) remove_locked(u, conv);
}

void interest::add_locked(id_t user, const std::vector<id_t>& convs) {
  auto it = convs_of_.find(user);
  if (it == convs_of_.end()) return;
  std::vector<id_t> follow;
  for (auto c : convs) {
    if (!it->second.insert(c).second) continue;
    locals_in_[c].insert(user);
    // Every new one, not only those no local user followed: a subscription another local user
    // asked for a moment ago may not be live yet (ready waits for all of them).
    follow.push_back(c);
  }
  if (follow.empty()) return;
  link_.follow_convs(follow, [on_live = on_live_, user] {
    if (on_live) on_live(user);
  });
}

void interest::remove_locked(id_t user, id_t conv) {
  if (loading_.contains(user)) removed_while_loading_[user].insert(conv);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || it->second.erase(conv) == 0) return;
  auto l = locals_in_.find(conv);
  if (l == locals_in_.end()) return;
  l->second.erase(user);
  if (l->second.empty()) {
    locals_in_.erase(l);
    link_.unfollow_conv(conv);
  }
}

std::optional<bool> interest::member(id_t user, id_t conv) const {
  lock_guard lock(mu_);
  auto it = convs_of_.find(user);
  if (it == convs_of_.end() || loading_.contains(user)) return std::nullopt;
  return it->second.contains(conv);
}

std::vector<id_t> interest::locals(id_t conv) const {
  lock_guard lock(mu_);
  auto it = locals_in_.find(conv);
  if (it == locals_in_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace confab::gateway
