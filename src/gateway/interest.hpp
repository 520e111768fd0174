// Which conversations this node follows, and for which of its users: the hub's interest part.
//
// For each user with a session here it keeps the user's conversations (loaded from storage at
// hello, then kept up to date from membership events) and follows c:<conv> through the node link
// while at least one local user is in conv (reference counts; the broker's subscriptions are sets).
// When a new subscription is live, on_live(user) runs (on the broker's strand): events committed
// before that were missed, so the user's sessions re-read storage.
//
// Thread-safe: one mutex. The node link's ordered operations are called under it (they only
// queue, in order), so subscriptions follow the state changes in the order they happened.
#pragma once

#include "core/model.hpp"
#include "core/thread_annotations.hpp"
#include "gateway/node_link.hpp"

#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace confab::gateway {

class interest {
 public:
  explicit interest(node_link& link) : link_(link) {}
  // Set once before use (the hub's callback holds the hub weakly, so it exists only after the hub).
  void set_on_live(std::function<void(id_t user)> on_live) EXCLUDES(mu_);

  // The user's first session attached: the user is local, and its conversations are loading.
  void begin(id_t user) EXCLUDES(mu_);
  // The user's last session left: forget the user and unfollow what only it needed.
  void end(id_t user) EXCLUDES(mu_);
  // The conversations read from storage after begin; removals seen meanwhile win.
  void loaded(id_t user, const std::vector<id_t>& convs) EXCLUDES(mu_);
  // Replaces the user's conversations with convs (re-read after a broker reset); ignored while a
  // hello is loading the user.
  void reconcile(id_t user, const std::vector<id_t>& convs) EXCLUDES(mu_);
  // A membership event added users to conv / removed users from it (non-local users are ignored).
  void apply(id_t conv, const std::vector<id_t>& added, const std::vector<id_t>& removed) EXCLUDES(mu_);

  // Whether user is in conv, if this node knows (the user is local and loaded).
  std::optional<bool> member(id_t user, id_t conv) const EXCLUDES(mu_);
  // The local users in conv.
  std::vector<id_t> locals(id_t conv) const EXCLUDES(mu_);

 private:
  void add_locked(id_t user, const std::vector<id_t>& convs) REQUIRES(mu_);
  void remove_locked(id_t user, id_t conv) REQUIRES(mu_);

  node_link& link_;
  mutable mutex mu_;
  std::function<void(id_t)> on_live_ GUARDED_BY(mu_);
  std::unordered_map<id_t, std::unordered_set<id_t>> convs_of_ GUARDED_BY(mu_);   // local user -> conversations
  std::unordered_map<id_t, std::unordered_set<id_t>> locals_in_ GUARDED_BY(mu_);  // conversation -> local users
  std::unordered_set<id_t> loading_ GUARDED_BY(mu_);
  std::unordered_map<id_t, std::unordered_set<id_t>> removed_while_loading_ GUARDED_BY(mu_);
};

}  // namespace confab::gateway
