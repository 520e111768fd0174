// issue 17: cluster queries over in-process brokers on one bus: every node's answer comes back to
// the asker, a node that does not answer is named as missing once the timeout passes, and the
// number of queries waiting at once is bounded.
#include "broker/inproc_broker.hpp"
#include "gateway/cluster_query.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>

using namespace confab;
using namespace confab::gateway;
namespace relay = confab::protocol::relay;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

struct cluster : ::testing::Test {
  boost::asio::io_context ioc;
  std::shared_ptr<broker::inproc_bus> bus = std::make_shared<broker::inproc_bus>();
  struct node {
    std::unique_ptr<node_link> link;
    std::shared_ptr<cluster_query> q;
  };
  std::vector<node> nodes;

  // A node that answers "whoami" with its id and "echo" with its arguments; silent: a node on the
  // bus that never answers (stuck, or of a version without cluster queries).
  node& add(bool silent = false) {
    node n;
    n.link = std::make_unique<node_link>(ioc.get_executor(), std::make_shared<broker::inproc_broker>(ioc.get_executor(), bus));
    n.q = std::make_shared<cluster_query>(ioc.get_executor(), *n.link, 300ms);
    std::weak_ptr<cluster_query> w = n.q;
    n.link->start({[w, silent](const relay::note& note) {
                     auto q = w.lock();
                     if (!q) return;
                     if (auto* a = std::get_if<relay::answer_note>(&note)) q->on_answer(*a);
                     if (auto* x = std::get_if<relay::query_note>(&note); x && !silent) q->on_query(*x);
                   },
                   {}, {}, {}});
    const std::string id = n.link->node_id();
    n.q->on("whoami", [id](const json::object&, cluster_query::done_fn done) { done({{"me", id}}); });
    n.q->on("echo", [](const json::object& args, cluster_query::done_fn done) { done(args); });
    nodes.push_back(std::move(n));
    return nodes.back();
  }

  result<cluster_query::answers> ask(node& from, std::string kind, json::object args = {}) {
    ioc.restart();
    ioc.run_for(50ms);  // subscriptions in place
    std::optional<result<cluster_query::answers>> got;
    from.q->ask(std::move(kind), std::move(args), [&](result<cluster_query::answers> r) {
      got = std::move(r);
      ioc.stop();
    });
    ioc.restart();
    ioc.run_for(5s);
    if (!got) throw std::runtime_error("the query never completed");
    return std::move(*got);
  }
};

}  // namespace

TEST_F(cluster, every_node_answers_and_the_asker_comes_first) {
  for (int i = 0; i < 3; ++i) add();
  auto r = ask(nodes[1], "whoami");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->by_node.size(), 3u);
  EXPECT_TRUE(r->missing.empty());
  EXPECT_EQ(r->by_node[0].first, nodes[1].link->node_id());
  std::set<std::string> seen;
  for (auto& [node_id, body] : r->by_node) {
    EXPECT_EQ(body.at("me").as_string(), node_id);  // each answer is its own node's
    seen.insert(node_id);
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(cluster, arguments_reach_every_node) {
  add();
  add();
  auto r = ask(nodes[0], "echo", {{"user", 42}, {"s", "a b\nc"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->by_node.size(), 2u);
  for (auto& [node_id, body] : r->by_node) {
    EXPECT_EQ(body.at("user").as_int64(), 42) << node_id;
    EXPECT_EQ(body.at("s").as_string(), "a b\nc") << node_id;
  }
}

TEST_F(cluster, an_unknown_kind_is_answered_with_an_error) {
  add();
  add();
  auto r = ask(nodes[0], "no_such_query");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->by_node.size(), 2u);
  for (auto& [node_id, body] : r->by_node) EXPECT_EQ(body.at("error").as_string(), "unknown query") << node_id;
}

TEST_F(cluster, a_silent_node_is_missing_after_the_timeout) {
  add();
  add();
  auto& silent = add(true);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ask(nodes[0], "whoami");
  ASSERT_TRUE(r);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);  // it waited for the silent node
  EXPECT_EQ(r->by_node.size(), 2u);
  ASSERT_EQ(r->missing.size(), 1u);
  EXPECT_EQ(r->missing[0], silent.link->node_id());
}

TEST_F(cluster, waiting_queries_are_bounded) {
  add();
  add(true);  // every query waits for the timeout
  ioc.restart();
  ioc.run_for(50ms);
  int refused = 0, answered = 0;
  for (std::size_t i = 0; i <= cluster_query::max_pending; ++i)
    nodes[0].q->ask("whoami", {}, [&](result<cluster_query::answers> r) {
      if (!r && r.error().code == errc::unavailable) ++refused;
      if (r) ++answered;
    });
  ioc.restart();
  ioc.run_for(2s);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(answered, static_cast<int>(cluster_query::max_pending));
}
