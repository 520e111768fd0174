// The node's live WebSocket sessions, found by user or by device: the hub's session registry.
//
// Holds weak references only: a session's lifetime is its connection's. Thread-safe: one mutex,
// never held while a session or the broker is called (the lookups return strong references for
// the caller to use after).
#pragma once

#include "core/model.hpp"
#include "core/thread_annotations.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace confab::gateway {

class session_base {
 public:
  virtual ~session_base() = default;
  // A committed event at position pos of this session's user stream. Thread-safe, non-blocking.
  // trace: the event's trace id (issue 17), 0 if it is not traced; a traced event's socket write
  // is recorded as a hop.
  virtual void deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json, std::int64_t trace) = 0;
  // An ephemeral frame (typing, receipt, presence): sent if the session can, else dropped.
  virtual void deliver_ephemeral(std::shared_ptr<const std::string> frame) = 0;
  // issue 12: a channel_event frame (docs/protocol.md section 10, Channels). Unlike an ephemeral
  // frame it is not dropped to spare a slow client (the outbox bound closes the connection
  // instead); a session drops it only while it catches up, which ends with a synced frame after
  // which the client re-reads the channels' heads. Thread-safe, non-blocking.
  virtual void deliver_channel(std::shared_ptr<const std::string> frame) { deliver_ephemeral(std::move(frame)); }
  // Closes the WebSocket with code and reason after the frames already queued. Thread-safe.
  virtual void kick(std::uint16_t code, std::string reason) = 0;
  // Re-reads this user's stream from storage past what was delivered (something may have been
  // committed unannounced). Thread-safe.
  virtual void resync() = 0;
  // Checks storage that the device is not revoked (a kick from another node may have been lost);
  // closes with 4001 if it is. Thread-safe.
  virtual void recheck_device() {}
  // issue 17: the session for the admin view (user, device, remote address, connected since,
  // bytes queued), given to done once, on any thread. Thread-safe.
  virtual void describe(std::function<void(boost::json::object)> done) { done({}); }
  // issue 17: the session's device (0 before hello). Thread-safe once attached to the hub.
  virtual id_t device_id() const { return 0; }
  // issue 17: the trusted proxy (load balancer) the connection came through, "" if none. Set
  // before the session is attached, never changed after.
  virtual const std::string& via() const;
};

using session_ptr = std::shared_ptr<session_base>;
// Sessions paired with what each gets (a stream position, a frame).
using positioned = std::vector<std::pair<session_ptr, std::int64_t>>;
using framed = std::vector<std::pair<session_ptr, std::shared_ptr<const std::string>>>;

// Hands each session its frame (deliver_ephemeral).
void send_all(const framed& out);

class session_registry {
 public:
  // Adds s. nullopt once closed (shutting down); else whether s is the user's first session here.
  std::optional<bool> add(id_t user, id_t device, const session_ptr& s) EXCLUDES(mu_);
  // Removes s (and expired entries); true when it was the user's last session here. The sessions
  // looked at go to graveyard, for the caller to release after its own locks: the last reference
  // to a session may be one of them, and a session's destructor calls back into the hub.
  bool remove(id_t user, id_t device, const session_base* s, std::vector<session_ptr>& graveyard) EXCLUDES(mu_);

  std::vector<session_ptr> of_user(id_t user) const EXCLUDES(mu_);
  std::vector<session_ptr> of_device(id_t device) const EXCLUDES(mu_);
  std::vector<session_ptr> all() const EXCLUDES(mu_);
  // The sessions of each recipient, each with the recipient's stream position.
  positioned of_recipients(std::span<const recipient> to) const EXCLUDES(mu_);
  // The sessions of each user in users, each with frame.
  void add_frames(const std::vector<id_t>& users, const std::shared_ptr<const std::string>& frame, framed& out) const
      EXCLUDES(mu_);
  std::vector<id_t> users() const EXCLUDES(mu_);
  std::size_t count() const EXCLUDES(mu_);

  // Refuses further sessions (shutdown). closed() may be read without the lock.
  void close() EXCLUDES(mu_);
  bool closed() const { return closed_.load(std::memory_order_relaxed); }

 private:
  using list = std::vector<std::weak_ptr<session_base>>;
  // Removes s and expired entries from l; the sessions locked while checking go to graveyard.
  static void remove_from(list& l, const session_base* s, std::vector<session_ptr>& graveyard);
  static void lock_all(const list& l, std::vector<session_ptr>& out);

  mutable mutex mu_;
  std::atomic<bool> closed_{false};  // written under mu_
  std::unordered_map<id_t, list> by_user_ GUARDED_BY(mu_);
  std::unordered_map<id_t, list> by_device_ GUARDED_BY(mu_);
};

}  // namespace confab::gateway
