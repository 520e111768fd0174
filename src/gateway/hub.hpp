// The node's registry of live WebSocket sessions, and the router of everything real-time: committed
// events, typing, receipts and presence, on this node and, through the broker, across nodes.
//
// Routing of committed events: on_committed (storage publisher thread) delivers to this node's
// sessions of the recipients and publishes the event with its recipients' stream positions on the
// conversation's channel (c:<conv>), and on the new members' user channels (u:<user>) when the event
// adds members. Other nodes deliver what they receive to their own sessions; the sessions order,
// deduplicate and gap-fill by stream position (ws_session.hpp), so the broker may lose, repeat or
// reorder messages without harm. When it may have lost some (broker reset), every session re-reads
// storage.
// Interest: for each user with a session here, the node subscribes u:<user> and c:<conv> for each of
// the user's conversations (loaded at hello, then kept up to date from membership events), and
// p:<user> for each user a session watches. Subscriptions are reference-counted here.
// Typing, receipts and presence are ephemeral frames: delivered to sessions now or never, not
// stored in the stream (docs/protocol.md section 4.3).
//
// Thread-safe: one mutex guards the maps; the broker is only called to queue work. The hub holds
// only weak references to sessions.
#pragma once

#include "broker/broker.hpp"
#include "core/model.hpp"
#include "storage/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace confab::gateway {

class session_base {
 public:
  virtual ~session_base() = default;
  // A committed event at position pos of this session's user stream. Thread-safe, non-blocking.
  virtual void deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json) = 0;
  // An ephemeral frame (typing, receipt, presence): sent if the session can, else dropped.
  virtual void deliver_ephemeral(std::shared_ptr<const std::string> frame) = 0;
  // Closes the WebSocket with code and reason after the frames already queued. Thread-safe.
  virtual void kick(std::uint16_t code, std::string reason) = 0;
  // Re-reads this user's stream from storage past what was delivered (something may have been
  // committed unannounced). Thread-safe.
  virtual void resync() = 0;
  // Checks storage that the device is not revoked (a kick from another node may have been lost);
  // closes with 4001 if it is. Thread-safe.
  virtual void recheck_device() {}
};

struct hub_options {
  std::chrono::milliseconds typing_ttl{6000};       // a typing state expires without refresh
  std::chrono::milliseconds typing_throttle{2000};  // at most one broadcast per user+conv per this
  std::chrono::milliseconds presence_coalesce{100}; // presence changes are batched this long
};

class hub final : public storage::event_sink, public std::enable_shared_from_this<hub> {
 public:
  hub(boost::asio::any_io_executor ex, storage::store& store, std::shared_ptr<broker::broker> b, hub_options o = {});
  ~hub() override;
  // Starts the broker and the timers. stop() ends them (before the io_context stops).
  void start();
  void stop();

  // Registers a session; false once close_all ran (shutting down: the session should close 1001).
  // ready runs (on the broker's strand) once this node receives the user's channel: membership
  // changes committed after that reach the hub, so the session reads the user's conversations
  // only then (load_conversations).
  bool attach(id_t user, id_t device, const std::shared_ptr<session_base>& s, std::function<void()> ready);
  void detach(id_t user, id_t device, const session_base* s);
  // The user's conversations, read from storage after attach: the node subscribes to them; the
  // user's sessions re-read storage once the subscriptions are in place.
  void load_conversations(id_t user, const std::vector<id_t>& convs);

  void on_committed(const event& ev, std::span<const recipient> to) override;
  void on_uncertain() override;

  // Closes every session of the device on every node (revoked token).
  void disconnect_device(id_t user, id_t device, std::uint16_t code, const std::string& reason);
  // Closes every session on this node (shutdown, 1001).
  void close_all(std::uint16_t code, const std::string& reason);
  std::size_t session_count() const;
  bool stopping() const;

  // Whether user is an active member of conv, if this node knows (the user has a session here).
  std::optional<bool> local_member(id_t user, id_t conv) const;
  // The user (a member of conv) is typing or stopped. Throttled; excess is dropped.
  void typing(id_t user, const std::string& username, id_t conv, bool active);
  // A member's receipt pointers changed.
  void receipt(id_t conv, const receipt_record& r);

  // Replaces the users a session watches for presence changes.
  void watch(const std::shared_ptr<session_base>& s, const std::vector<id_t>& before, const std::vector<id_t>& after);
  void unwatch(const session_base* s, const std::vector<id_t>& users);
  // Whether each user is online on some node (callback on the broker's strand).
  void presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb);

  const std::string& node_id() const { return broker_->node_id(); }

 private:
  using list = std::vector<std::weak_ptr<session_base>>;
  struct typing_state {
    std::chrono::steady_clock::time_point expires;
    std::string username;
  };
  struct presence_state {
    bool online = false;
    std::optional<std::int64_t> last_seen;
    bool operator==(const presence_state&) const = default;
  };
  // Removes s (and expired entries) from l. Sessions locked while checking go to graveyard, to be
  // released by the caller after mu_: the last reference to a session may be one of them, and its
  // destructor calls back into the hub.
  static void remove(list& l, const session_base* s, std::vector<std::shared_ptr<session_base>>& graveyard);
  std::vector<std::shared_ptr<session_base>> all_sessions() const;
  std::vector<std::shared_ptr<session_base>> sessions_of(id_t user) const;  // mu_ held

  // Everything below with _locked runs with mu_ held.
  void route_event_locked(event_kind kind, id_t conv, id_t sender, const std::vector<id_t>& added,
                          const std::vector<id_t>& removed, std::span<const recipient> to,
                          std::vector<std::pair<std::shared_ptr<session_base>, std::int64_t>>& out);
  void add_interest_locked(id_t user, const std::vector<id_t>& convs);
  void remove_interest_locked(id_t user, id_t conv);
  void to_conv_locked(id_t conv, id_t except_user, const std::shared_ptr<const std::string>& frame,
                      std::vector<std::pair<std::shared_ptr<session_base>, std::shared_ptr<const std::string>>>& out) const;
  void typing_locked(id_t conv, id_t user, const std::string& username, bool active,
                     std::vector<std::pair<std::shared_ptr<session_base>, std::shared_ptr<const std::string>>>& out);

  void kick_local(id_t device, std::uint16_t code, const std::string& reason);  // this node's sessions
  void unwatch_locked(const session_base* s, const std::vector<id_t>& users,
                      std::vector<std::shared_ptr<session_base>>& graveyard);
  void on_message(std::string_view channel, std::string_view payload);
  void on_reset();
  // Replaces the user's conversations with convs (from storage) and re-reads their streams.
  void reconcile(id_t user, const std::vector<id_t>& convs);
  void resync_everywhere();  // every session on every node re-reads storage
  void join_presence(id_t user);  // this node has the user online; announces if first anywhere
  void went_online(id_t user);
  void went_offline(id_t user, std::int64_t ms);
  void announce(id_t user, presence_state st);  // local watchers (coalesced) + other nodes
  void queue_presence(id_t user, presence_state st);
  void flush_presence();
  void sweep_typing();

  boost::asio::any_io_executor ex_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;  // the timers
  storage::store& store_;
  std::shared_ptr<broker::broker> broker_;
  hub_options opts_;

  mutable std::mutex mu_;
  std::atomic<bool> stopping_{false};  // written under mu_; read without it by stopping()
  std::unordered_map<id_t, list> by_user_;
  std::unordered_map<id_t, list> by_device_;
  std::unordered_map<id_t, std::unordered_set<id_t>> convs_of_;    // local user -> conversations
  std::unordered_map<id_t, std::unordered_set<id_t>> locals_in_;   // conversation -> local users
  std::unordered_map<id_t, std::unordered_set<id_t>> removed_while_loading_;
  std::unordered_set<id_t> loading_;
  std::unordered_map<id_t, list> watchers_;  // watched user -> sessions
  std::map<std::pair<id_t, id_t>, typing_state> typing_;  // (conv, user) -> shown here until
  std::map<std::pair<id_t, id_t>, std::chrono::steady_clock::time_point> typing_sent_;  // throttle
  std::unordered_map<id_t, presence_state> presence_pending_, presence_known_;
  bool flush_armed_ = false;
  boost::asio::steady_timer sweep_timer_, flush_timer_;
};

}  // namespace confab::gateway
