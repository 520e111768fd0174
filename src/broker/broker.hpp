// The broker: how confabd nodes tell each other what happened, and where presence lives.
//
// Two implementations: inproc_broker (one process; the single-node default, no Redis) and
// redis_broker (Redis 7 standalone or Redis Cluster, sharded pub/sub). The hub (gateway/hub.hpp)
// is the only user.
//
// Delivery is at-most-once and may reorder across channels: storage is the truth and the
// receivers repair gaps by sequence. When the broker may have lost messages (a connection to Redis
// dropped and came back, a subscription moved), it calls on_reset after the subscriptions are in
// place again, and the node re-reads storage for every live session.
//
// Threads: every method may be called from any thread and never blocks (work is posted to the
// broker's strand). Callbacks (on_message, on_reset, ready, presence results) run on that strand;
// they must be quick. They may call the broker again (the call only queues work).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::broker {

// issue 17: the broker as this node sees it, for the admin topology view. A shard is a Redis
// master (a standalone server owns every slot); slots are inclusive hash-slot ranges, in order.
struct shard_view {
  std::string address;  // host:port
  std::vector<std::pair<int, int>> slots;
  bool connected = false;     // both of this node's connections to it are up
  std::size_t channels = 0;   // channels this node has subscribed there
};
struct broker_view {
  std::string kind;  // "redis" or "inproc"
  bool cluster = false;
  std::vector<shard_view> shards;  // sorted by address; empty for "inproc"
};

struct handlers {
  std::function<void(std::string_view channel, std::string_view payload)> on_message;
  // Messages may have been lost; subscriptions are in place again.
  std::function<void()> on_reset;
  // A user's last device went offline on a node that died: called on exactly one surviving node.
  std::function<void(std::int64_t user)> on_orphaned_offline;
  // This node's presence entries were removed while it lived (peers declared it dead while it was
  // frozen or cut off, or Redis lost them): every local user must be joined again.
  std::function<void()> on_presence_lost;
};

class broker {
 public:
  virtual ~broker() = default;
  // Starts the broker's work; h is kept until stop().
  virtual void start(handlers h) = 0;
  // Stops timers and connections. Callbacks already posted may still run.
  virtual void stop() = 0;

  // Fire and forget. Payloads that could not be published (broker down) are retried for a while
  // (the newest few per channel), since receivers deduplicate.
  virtual void publish(std::string channel, std::string payload) = 0;
  // Channel subscriptions are sets, not counts: the caller keeps reference counts. ready runs once
  // every channel is subscribed or has failed (a failed one is retried and announced by on_reset).
  virtual void subscribe(std::vector<std::string> channels, std::function<void()> ready) = 0;
  virtual void unsubscribe(std::vector<std::string> channels) = 0;

  // Presence across nodes. join: this node now has a device of user online; the callback says
  // whether the user became online (no other node had them). leave: the reverse; true when the
  // user became offline everywhere. Joins and leaves run in the order they were called; they may
  // wait until the node is registered (redis_broker), and a leave may cancel a join still waiting
  // (both callbacks then get false).
  virtual void presence_join(std::int64_t user, std::function<void(bool became_online)> cb) = 0;
  virtual void presence_leave(std::int64_t user, std::function<void(bool became_offline)> cb) = 0;
  // Whether each user is online on some live node (same order as users).
  virtual void presence_query(std::vector<std::int64_t> users, std::function<void(std::vector<bool>)> cb) = 0;

  // issue 17: the ids of the nodes registered as alive, this one included, sorted (a node that
  // died may be listed until its presence entry expires). Empty if the broker cannot tell now.
  virtual void live_nodes(std::function<void(std::vector<std::string>)> cb) = 0;

  // issue 17: the broker's current shards and their state, given to cb on the broker's strand.
  virtual void describe(std::function<void(broker_view)> cb) = 0;

  // True when no other node can exist (a single in-process broker): publishing can be skipped.
  virtual bool alone() const = 0;
  // A short unique name of this node (in payload headers, so a node can skip its own messages).
  virtual const std::string& node_id() const = 0;
};

// The shards of a slot map (slot_owner[i]: the address serving hash slot i, "" if none): one per
// address, sorted by address, with its slots as inclusive ranges in order. Pure.
std::vector<shard_view> shard_ranges(const std::vector<std::string>& slot_owner);

// A fresh random node id (16 hex digits).
std::string make_node_id();

}  // namespace confab::broker
