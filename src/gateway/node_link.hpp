// The hub's relay to other nodes: the broker, the channels, and the relay notes
// (protocol/relay.hpp) this node publishes and receives.
//
// Channels: c:<conv> (events, typing and receipts of a conversation), u:<user> (events that add or
// remove the user, device kicks), p:<user> (the user's presence), confab:all (re-read storage;
// cluster queries), n:<node> (answers to this node's cluster queries).
//
// Threads and locks: thread-safe. The ordered operations (subscriptions and presence joins and
// leaves) only queue work on the link's strand, which calls the broker in the order they were
// called: so they may be called with a hub lock held (that order is what keeps a quick
// unsubscribe/subscribe or leave/join pair right), and no broker call ever runs under a hub lock
// that a broker callback takes. The publishing operations call the broker at once (it only queues)
// and are called without hub locks. Callbacks run on the broker's strand.
#pragma once

#include "broker/broker.hpp"
#include "core/model.hpp"
#include "protocol/relay.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace confab::gateway {

// What the link hands to the hub.
struct link_handlers {
  std::function<void(const protocol::relay::note&)> on_note;  // from another node, decoded
  std::function<void()> on_reset;                            // see broker::handlers
  std::function<void(id_t user)> on_orphaned_offline;
  std::function<void()> on_presence_lost;
};

class node_link {
 public:
  node_link(boost::asio::any_io_executor ex, std::shared_ptr<broker::broker> b);
  void start(link_handlers h);  // starts the broker and follows confab:all
  void stop();

  // --- ordered (queued on the link's strand; safe under any lock)
  void follow_user(id_t user, std::function<void()> ready);
  void unfollow_user(id_t user);
  void follow_convs(const std::vector<id_t>& convs, std::function<void()> ready);
  void unfollow_conv(id_t conv);
  void watch_presence(const std::vector<id_t>& users);
  void unwatch_presence(const std::vector<id_t>& users);
  void join(id_t user, std::function<void(bool became_online)> cb);
  void leave(id_t user, std::function<void(bool became_offline)> cb);

  // --- direct (called without hub locks)
  // The event on its conversation's channel, and on the channels of the users it adds or removes
  // (their nodes may not follow the conversation yet, or any more).
  void publish_event(protocol::relay::event_note n);
  void publish_typing(protocol::relay::typing_note n);
  void publish_receipt(protocol::relay::receipt_note n);
  void publish_presence(protocol::relay::presence_note n);
  void publish_resync();
  void publish_kick(id_t user, id_t device);
  void presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb);
  // issue 17: cluster queries (gateway/cluster_query.hpp): a query goes to every node on
  // confab:all, an answer to the asking node's own channel.
  void publish_query(protocol::relay::query_note n);
  void publish_answer(protocol::relay::answer_note n);
  void live_nodes(std::function<void(std::vector<std::string>)> cb) { broker_->live_nodes(std::move(cb)); }
  void describe_broker(std::function<void(broker::broker_view)> cb) { broker_->describe(std::move(cb)); }

  bool alone() const { return broker_->alone(); }
  const std::string& node_id() const { return broker_->node_id(); }

 private:
  static void receive(std::string_view payload, const std::string& self, std::atomic<std::uint64_t>& bad,
                      const std::function<void(const protocol::relay::note&)>& on_note);
  template <class F>
  void ordered(F&& f);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::shared_ptr<broker::broker> broker_;
};

}  // namespace confab::gateway
