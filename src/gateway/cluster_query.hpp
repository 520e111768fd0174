// issue 17: questions asked of every node at once, for the admin operations (and the trace query
// to come): "what is your load", "which sessions of this user do you hold".
//
// ask() answers the question locally, publishes it on confab:all through the node link, and
// gathers every other node's answer from this node's own channel n:<node>. It completes once
// every node the broker lists as alive has answered, or when the timeout passes: then with the
// answers that came and the nodes that did not answer (a node that died within the presence TTL,
// or one cut off from Redis). Answers from nodes the list did not name are kept too.
//
// Responders are registered per kind before start; each gets the query's arguments and calls done
// exactly once with its answer (it may do so later, on any thread). A query of a kind this node
// has no responder for is answered with {"error":"unknown query"}.
//
// Threads: thread-safe; everything runs on the object's strand. Bounded: at most max_pending
// queries wait at once (more are refused with errc::unavailable), and an answer body larger than
// max_answer_bytes or not a JSON object counts as that node's {"error":...}.
#pragma once

#include "core/error.hpp"
#include "gateway/node_link.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace confab::gateway {

class cluster_query : public std::enable_shared_from_this<cluster_query> {
 public:
  static constexpr std::size_t max_pending = 64;
  static constexpr std::size_t max_answer_bytes = 4 * 1024 * 1024;

  using done_fn = std::function<void(boost::json::object)>;
  using responder = std::function<void(const boost::json::object& args, done_fn done)>;
  struct answers {
    std::vector<std::pair<std::string, boost::json::object>> by_node;  // this node first, then in arrival order
    std::vector<std::string> missing;                                  // listed alive, did not answer (sorted)
  };

  cluster_query(boost::asio::any_io_executor ex, node_link& link, std::chrono::milliseconds timeout);
  void on(std::string kind, responder r);  // before the first query

  void ask(std::string kind, boost::json::object args, std::function<void(result<answers>)> cb);

  // From the node link (any thread).
  void on_query(const protocol::relay::query_note& q);
  void on_answer(const protocol::relay::answer_note& a);

 private:
  struct pending;
  void answer_locally(const std::string& kind, const boost::json::object& args, done_fn done);
  void add_answer(std::int64_t id, const std::string& node, boost::json::object body);
  void finish_if_complete(std::int64_t id);
  void finish(std::int64_t id);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  node_link& link_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, responder> responders_;  // written before start only
  // On the strand:
  std::int64_t next_id_ = 0;
  std::map<std::int64_t, std::shared_ptr<pending>> pending_;
};

}  // namespace confab::gateway
