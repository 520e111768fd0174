// The Redis broker: sharded pub/sub (SPUBLISH / SSUBSCRIBE) and presence keys on Redis 7,
// standalone or Cluster.
//
// Topology: CLUSTER SLOTS from a seed gives the master of every hash slot; a standalone server
// (cluster support disabled) owns all slots. Each master gets two connections: one for commands,
// one for subscriptions. A MOVED reply or a lost connection refreshes the slot map; channels whose
// slot moved are subscribed again on the new master. Lost connections are reopened with
// exponential back-off (100 ms to 2 s).
// Loss: whenever subscriptions were interrupted (reconnect, moved slot), on_reset runs once they
// are back. Publishes that failed are kept (the newest 16 per channel, 100k channels at most) and
// retried every 250 ms (64 MiB at most): receivers deduplicate, so a retry cannot deliver twice.
// Liveness: every connection is PINGed each second; one that has not answered for 3 s is closed
// and reopened (a vanished host or a half-open connection would otherwise go unnoticed).
// Presence (redis_presence.cpp): confab:pr:<user> is the set of nodes where the user is online;
// confab:nu:<node> the users of a node; confab:nd:<node> a heartbeat key with a TTL of
// presence_ttl, refreshed every third of it, followed by SADD of the node to confab:nodes.
// Registration: joins and leaves wait until the first heartbeat and SADD succeeded, so every node
// with a user in Redis is in confab:nodes and is reaped if it dies, however early.
// Reaping: every node checks the registered nodes each half TTL; a node whose heartbeat expired is
// reaped by the first node to take confab:reap:<node>: its users leave (on_orphaned_offline runs
// for each that became offline), then its user set is deleted, then it leaves confab:nodes.
// Declared dead: a heartbeat whose SADD adds the node again (it had been reaped while frozen or
// cut off, or Redis lost its data) runs on_presence_lost, and the hub joins its users again.
// Threads: one strand; see broker.hpp.
#pragma once

#include "broker/broker.hpp"
#include "broker/redis_connection.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

namespace confab::broker {

struct redis_options {
  std::vector<std::pair<std::string, std::uint16_t>> seeds;  // at least one
  std::chrono::milliseconds presence_ttl{10000};
  std::chrono::milliseconds connect_timeout{2000};
};

class redis_broker final : public broker, public std::enable_shared_from_this<redis_broker> {
 public:
  redis_broker(boost::asio::any_io_executor ex, redis_options opts);
  ~redis_broker() override;

  void start(handlers h) override;
  void stop() override;
  void publish(std::string channel, std::string payload) override;
  void subscribe(std::vector<std::string> channels, std::function<void()> ready) override;
  void unsubscribe(std::vector<std::string> channels) override;
  void presence_join(std::int64_t user, std::function<void(bool)> cb) override;
  void presence_leave(std::int64_t user, std::function<void(bool)> cb) override;
  void presence_query(std::vector<std::int64_t> users, std::function<void(std::vector<bool>)> cb) override;
  void live_nodes(std::function<void(std::vector<std::string>)> cb) override;
  void describe(std::function<void(broker_view)> cb) override;
  const std::string& node_id() const override { return id_; }
  bool alone() const override { return false; }

 private:
  struct node;
  struct waiter {
    std::size_t remaining = 0;
    std::function<void()> ready;
  };
  struct channel_state {
    std::string node;  // address it is subscribed (or being subscribed) on; "" = not yet
    bool confirmed = false;
    bool owed_reset = false;  // was live or awaited while unsubscribed: reset once it is live
  };
  using strand_t = redis_connection::strand;

  void ensure_node(const std::string& addr);
  void connect_cmd(const std::string& addr);
  void connect_sub(const std::string& addr);
  void schedule_reconnect(const std::string& addr, bool sub);
  void refresh_topology();
  void apply_slots(const redisReply& r, const std::string& from);
  void assign(const std::string& channel);
  void settle(const std::string& channel);
  void on_push(const std::string& addr, const redisReply& r);
  void schedule_reset();
  void refresh_later();  // CLUSTER SLOTS again in 250 ms (bounded retry loop)
  void keepalive();      // PING every connection each second; one silent for 3 s is closed
  node* owner(std::string_view key);
  // Runs a command on the master of key; on MOVED/down retries up to tries times, 250 ms apart.
  void run(std::string key, std::vector<std::string> args, int tries, std::function<void(const redisReply*)> cb);
  void try_publish(const std::string& channel, std::string payload);
  void retry_failed();
  void heartbeat();
  void on_registered(bool added);  // the heartbeat's SADD answered; added: the node was not there
  void reap();
  void reap_node(const std::string& dead);
  void join_now(std::int64_t user, std::function<void(bool)> cb);
  void leave_now(std::int64_t user, std::function<void(bool)> cb);
  void defer_presence(std::int64_t user, bool join, std::function<void(bool)> cb);

  strand_t strand_;
  redis_options opts_;
  std::string id_;
  handlers h_;
  bool stopped_ = false;
  bool cluster_ = false;
  bool topology_known_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  std::vector<std::string> slots_;  // 16384 master addresses
  std::map<std::string, std::unique_ptr<node>> nodes_;
  std::unordered_map<std::string, channel_state> channels_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<waiter>>> waiting_;
  std::unordered_map<std::string, std::deque<std::string>> failed_;
  std::size_t failed_bytes_ = 0;
  bool reset_scheduled_ = false;
  bool registered_ = false;  // the first heartbeat and SADD confab:nodes succeeded
  struct deferred_presence {
    bool join = false;
    std::function<void(bool)> cb;
  };
  std::map<std::int64_t, deferred_presence> deferred_;  // until registered_
  boost::asio::steady_timer reset_timer_, retry_timer_, heartbeat_timer_, reap_timer_, topo_timer_, ping_timer_;
};

}  // namespace confab::broker
