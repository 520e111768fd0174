// The hub's ephemeral state: typing, presence and receipts, delivered to sessions now or never,
// never stored in the stream (docs/protocol.md section 4.3).
//
// typing_tracker: who this node shows typing where, until when, and the throttle of its own
// typists. presence_watch: which sessions watch whose presence, and the changes waiting to be
// shown (coalesced: a flush shows only what differs from what was shown). The frame builders make
// the typing, presence and receipt frames sessions receive.
// Time is read from a confab::clock, so expiry is tested by advancing a manual clock.
// Thread-safe: each class has one mutex; the node link's ordered operations (which only queue) are
// the only calls made under it.
#pragma once

#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/thread_annotations.hpp"
#include "gateway/node_link.hpp"
#include "gateway/session_registry.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::gateway {

// thread: the root seq of the thread typed in (issue 11), when active.
std::shared_ptr<const std::string> typing_frame(id_t conv, id_t user, const std::string& username, bool active,
                                                std::chrono::milliseconds ttl, std::optional<std::int64_t> thread = std::nullopt);
std::shared_ptr<const std::string> presence_frame(id_t user, bool online, std::optional<std::int64_t> last_seen);
std::shared_ptr<const std::string> receipt_frame(id_t conv, const receipt_record& r);

class typing_tracker {
 public:
  // throttle is capped at ttl / 2: a refresh must beat the expiry.
  typing_tracker(const clock& c, std::chrono::milliseconds ttl, std::chrono::milliseconds throttle);

  // A user of this node typed (in thread, if set). False: throttled (a broadcast for the same
  // place went out recently and is still shown); else it is shown from now until now + ttl and
  // the caller shows and publishes it. One state per user and conversation: typing in a thread
  // replaces typing in the conversation and the reverse.
  bool local_start(id_t conv, id_t user, const std::string& username, std::optional<std::int64_t> thread = std::nullopt)
      EXCLUDES(mu_);
  // Shows a typing state from another node, until now + ttl.
  void remote_start(id_t conv, id_t user, const std::string& username, std::optional<std::int64_t> thread = std::nullopt)
      EXCLUDES(mu_);
  // The user stopped (local: a stop of this node's user, which also ends its throttle). Returns the
  // username if it was shown here (the caller then shows the stop), else nullopt.
  std::optional<std::string> stop(id_t conv, id_t user, bool local) EXCLUDES(mu_);

  struct expired {
    id_t conv = 0;
    id_t user = 0;
    std::string username;
  };
  // Removes and returns the states whose time ran out.
  std::vector<expired> expire() EXCLUDES(mu_);
  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  const clock& clock_;
  const std::chrono::milliseconds ttl_, throttle_;
  struct shown {
    clock::steady_time until;
    std::string username;
    std::optional<std::int64_t> thread;  // issue 11: typing in a thread
  };
  mutex mu_;
  std::map<std::pair<id_t, id_t>, shown> shown_ GUARDED_BY(mu_);                     // (conv, user)
  std::map<std::pair<id_t, id_t>, clock::steady_time> last_sent_ GUARDED_BY(mu_);  // (conv, user)
};

class presence_watch {
 public:
  struct state {
    bool online = false;
    std::optional<std::int64_t> last_seen;
    bool operator==(const state&) const = default;
  };
  explicit presence_watch(node_link& link) : link_(link) {}

  // s now watches after instead of before; the link follows p:<user> while anyone watches user.
  void watch(const session_ptr& s, const std::vector<id_t>& before, const std::vector<id_t>& after) EXCLUDES(mu_);
  void unwatch(const session_base* s, const std::vector<id_t>& users) EXCLUDES(mu_);
  // A change of user's presence, to be shown at the next flush. True when the caller must
  // schedule that flush (the first change since the last one); false also when nobody watches.
  bool queue(id_t user, state st) EXCLUDES(mu_);
  // The frames to send: one per watcher of each queued change that differs from what was shown.
  framed flush() EXCLUDES(mu_);

 private:
  void unwatch_locked(const session_base* s, const std::vector<id_t>& users, std::vector<session_ptr>& graveyard)
      REQUIRES(mu_);

  node_link& link_;
  mutex mu_;
  std::unordered_map<id_t, std::vector<std::weak_ptr<session_base>>> watchers_ GUARDED_BY(mu_);
  std::unordered_map<id_t, state> pending_ GUARDED_BY(mu_), shown_ GUARDED_BY(mu_);
  bool flush_armed_ GUARDED_BY(mu_) = false;
};

}  // namespace confab::gateway
