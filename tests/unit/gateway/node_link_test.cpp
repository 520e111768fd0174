// The node link over two in-process brokers on one bus: ordered operations reach the broker in
// call order, relay notes arrive decoded, and payloads that do not decode never reach the hub.
#include "broker/inproc_broker.hpp"
#include "gateway/node_link.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

using namespace confab;
using namespace confab::gateway;
namespace relay = confab::protocol::relay;

namespace {

struct two_nodes : ::testing::Test {
  boost::asio::io_context ioc;
  std::shared_ptr<broker::inproc_bus> bus = std::make_shared<broker::inproc_bus>();
  std::shared_ptr<broker::inproc_broker> other = std::make_shared<broker::inproc_broker>(ioc.get_executor(), bus);
  node_link link{ioc.get_executor(), std::make_shared<broker::inproc_broker>(ioc.get_executor(), bus)};
  std::vector<relay::note> got;

  void SetUp() override {
    link.start({[this](const relay::note& n) { got.push_back(n); }, {}, {}, {}});
    other->start({});
  }
  void run() {
    ioc.restart();
    ioc.run();
  }
  void typing_from_other(confab::id_t conv) {
    other->publish("c:" + std::to_string(conv), relay::encode(relay::typing_note{other->node_id(), conv, 3, true, "ana"}));
  }
};

}  // namespace

TEST_F(two_nodes, a_quick_unfollow_and_follow_again_ends_followed) {
  link.follow_convs({7}, nullptr);
  link.unfollow_conv(7);
  link.follow_convs({7}, nullptr);
  run();
  typing_from_other(7);
  run();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<relay::typing_note>(got[0]), (relay::typing_note{other->node_id(), 7, 3, true, "ana"}));
}

TEST_F(two_nodes, a_quick_follow_and_unfollow_ends_unfollowed) {
  link.follow_convs({7}, nullptr);
  link.unfollow_conv(7);
  run();
  typing_from_other(7);
  run();
  EXPECT_TRUE(got.empty());
}

TEST_F(two_nodes, ready_runs_once_the_subscription_is_in_place) {
  bool ready = false;
  link.follow_user(5, [&] { ready = true; });
  run();
  EXPECT_TRUE(ready);
  other->publish("u:5", relay::encode(relay::kick_note{other->node_id(), 9}));
  run();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<relay::kick_note>(got[0]).device, 9);
}

TEST_F(two_nodes, payloads_that_do_not_decode_never_reach_the_hub) {
  link.follow_convs({7}, nullptr);
  run();
  for (const char* bad : {"", "garbage", "T x 7 3 maybe ana\n", "E x 7 message 3 - - 3:-1\n{}", "Q x\n"})
    other->publish("c:7", bad);
  typing_from_other(7);
  run();
  ASSERT_EQ(got.size(), 1u);  // only the good one
  EXPECT_TRUE(std::holds_alternative<relay::typing_note>(got[0]));
}
