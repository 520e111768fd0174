// The router of everything real-time on a node: committed events, typing, receipts and presence,
// to this node's sessions and, through the node link, across nodes. It composes four parts with
// one job each:
//   session_registry  the live sessions, by user and by device (session_registry.hpp)
//   interest          which conversations the node follows, for which local users (interest.hpp)
//   typing_tracker, presence_watch   the ephemeral state: typing, presence, receipts (ephemeral.hpp)
//   node_link         the relay to other nodes over the broker (node_link.hpp, protocol/relay.hpp)
//
// Routing of committed events: on_committed (storage publisher thread) delivers to this node's
// sessions of the recipients and publishes the event with its recipients' stream positions on the
// conversation's channel, and on the added or removed members' user channels. Other nodes deliver
// what they receive to their own sessions; the sessions order, deduplicate and gap-fill by stream
// position (ws_session.hpp), so the broker may lose, repeat or reorder messages without harm. When
// it may have lost some (broker reset), every session re-reads storage.
// Interest: for each user with a session here, the node follows u:<user> and c:<conv> for each of
// the user's conversations, and p:<user> for each user a session watches.
// Typing, receipts and presence are ephemeral frames: delivered to sessions now or never, not
// stored in the stream (docs/protocol.md section 4.3).
//
// Thread-safe. Each part has its own mutex and never calls a session or the broker under it
// (the node link's ordered operations only queue). attach and detach also hold the hub's
// lifecycle mutex, so that one user's first-session and last-session steps never interleave; no
// broker callback waits on it except the re-announcement of presence. The hub holds only weak
// references to sessions.
#pragma once

#include "broker/broker.hpp"
#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/thread_annotations.hpp"
#include "gateway/cluster_query.hpp"
#include "gateway/ephemeral.hpp"
#include "gateway/interest.hpp"
#include "gateway/node_link.hpp"
#include "gateway/session_registry.hpp"
#include "gateway/trace.hpp"
#include "storage/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace confab::gateway {

struct hub_options {
  std::chrono::milliseconds typing_ttl{6000};       // a typing state expires without refresh
  std::chrono::milliseconds typing_throttle{2000};  // at most one broadcast per user+conv per this
  std::chrono::milliseconds presence_coalesce{100}; // presence changes are batched this long
  const confab::clock* clock = nullptr;             // nullptr: real_clock; must outlive the hub
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
  // thread: the root seq when typing in a thread (issue 11).
  void typing(id_t user, const std::string& username, id_t conv, bool active, std::optional<std::int64_t> thread = std::nullopt);
  // A member's receipt pointers changed.
  void receipt(id_t conv, const receipt_record& r);

  // Replaces the users a session watches for presence changes.
  void watch(const std::shared_ptr<session_base>& s, const std::vector<id_t>& before, const std::vector<id_t>& after);
  void unwatch(const session_base* s, const std::vector<id_t>& users);
  // Whether each user is online on some node (callback on the broker's strand).
  void presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb);

  const std::string& node_id() const { return link_.node_id(); }

  // issue 17: asks every node (this one included) a cluster query (cluster_query.hpp). The kinds
  // every node answers (admin_queries.cpp): "node" (its status and load), "user_sessions"
  // ({"user"}: its sessions of that user), "disconnect_device" ({"device"}: closes them, 4002).
  void ask(std::string kind, boost::json::object args, std::function<void(result<cluster_query::answers>)> cb);
  // issue 17: the node's message traces (trace.hpp).
  trace_recorder& traces() { return traces_; }

 private:
  // Delivers a committed event to this node's sessions and updates interest from its membership
  // changes; a message ends its sender's typing.
  // channel_seq (issue 12): the seq of a channel's event, which also goes to every local member's
  // sessions as a channel_event frame; 0 for other events.
  void route(event_kind kind, id_t conv, id_t sender, const std::vector<id_t>& added,
             const std::vector<id_t>& removed, std::span<const recipient> to,
             const std::shared_ptr<const std::string>& text, std::int64_t channel_seq = 0, std::int64_t trace = 0);
  void trace_commit(std::int64_t trace, const event& ev, std::size_t recipients);  // issue 17
  void trace_receipt(id_t conv, const receipt_record& r);                        // issue 17
  // The sessions of conv's local users except except_user, each with frame.
  framed to_conv(id_t conv, id_t except_user, const std::shared_ptr<const std::string>& frame) const;
  void show_typing_stop(id_t conv, id_t user, const std::string& username);
  void on_note(const protocol::relay::note& n);
  void on_reset();
  void kick_local(id_t device, std::uint16_t code, const std::string& reason);
  void resync_everywhere();  // every session on every node re-reads storage
  void join_presence(id_t user) REQUIRES(lifecycle_mu_);  // announces if first anywhere
  void rejoin_presence() EXCLUDES(lifecycle_mu_);         // the broker lost this node's entries
  void went_online(id_t user);
  void went_offline(id_t user, std::int64_t ms);
  void announce(id_t user, presence_watch::state st);  // local watchers (coalesced) + other nodes
  void queue_presence(id_t user, presence_watch::state st);
  void flush_presence();
  void sweep_typing();
  void add_admin_responders();  // admin_queries.cpp

  boost::asio::any_io_executor ex_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;  // the timers
  storage::store& store_;
  hub_options opts_;
  const confab::clock& clock_;
  node_link link_;
  std::shared_ptr<cluster_query> cluster_;
  trace_recorder traces_;
  std::int64_t started_ms_;
  session_registry sessions_;
  interest interest_;
  typing_tracker typing_;
  presence_watch presence_;
  // Serialises attach and detach (a user's first and last session steps). Taken before the parts'
  // own mutexes, never while calling a session or the broker.
  mutex lifecycle_mu_;
  boost::asio::steady_timer sweep_timer_, flush_timer_;
};

}  // namespace confab::gateway
