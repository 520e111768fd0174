#include "broker/inproc_broker.hpp"
#include "broker/redis_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

using namespace confab::broker;

TEST(key_slot, matches_redis_cluster_hashing) {
  EXPECT_EQ(key_slot("123456789"), 12739);  // CRC16-XMODEM check value 0x31C3
  EXPECT_EQ(key_slot("foo"), 12182);        // as CLUSTER KEYSLOT foo
  // Only a non-empty {tag} is hashed.
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{}{bar}"), key_slot("foo{}{bar}"));
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  for (auto k : {"c:1", "c:2", "u:99", "p:5", ""}) EXPECT_LT(key_slot(k), 16384);
}

// Issue 17: the admin view's shards, from the slot map (as CLUSTER SLOTS fills it).
TEST(shard_ranges, one_shard_per_master_with_its_slots_as_ranges) {
  std::vector<std::string> slots(16384);
  for (int i = 0; i < 16384; ++i) slots[static_cast<std::size_t>(i)] = i <= 5460 ? "127.0.0.1:7001" : "127.0.0.1:7000";
  slots[100] = "127.0.0.1:7002";  // one slot migrated away
  slots[16383] = "";              // not served by anyone yet
  auto s = shard_ranges(slots);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].address, "127.0.0.1:7000");
  EXPECT_EQ(s[0].slots, (std::vector<std::pair<int, int>>{{5461, 16382}}));
  EXPECT_EQ(s[1].address, "127.0.0.1:7001");
  EXPECT_EQ(s[1].slots, (std::vector<std::pair<int, int>>{{0, 99}, {101, 5460}}));
  EXPECT_EQ(s[2].slots, (std::vector<std::pair<int, int>>{{100, 100}}));
  EXPECT_TRUE(shard_ranges({}).empty());
  EXPECT_EQ(shard_ranges(std::vector<std::string>(16384, "r:6379"))[0].slots, (std::vector<std::pair<int, int>>{{0, 16383}}));
}

TEST(inproc_broker, delivers_to_subscribed_brokers_on_the_bus_only) {
  boost::asio::io_context ioc;
  auto bus = std::make_shared<inproc_bus>();
  inproc_broker a(ioc.get_executor(), bus), b(ioc.get_executor(), bus);
  EXPECT_NE(a.node_id(), b.node_id());
  std::vector<std::string> got_a, got_b;
  a.start({[&](std::string_view ch, std::string_view p) { got_a.push_back(std::string(ch) + "=" + std::string(p)); }, {}, {}});
  b.start({[&](std::string_view ch, std::string_view p) { got_b.push_back(std::string(ch) + "=" + std::string(p)); }, {}, {}});
  bool ready = false;
  b.subscribe({"c:1"}, [&] { ready = true; });
  ioc.run();
  EXPECT_TRUE(ready);
  a.publish("c:1", "hello");
  a.publish("c:2", "nobody");
  ioc.restart();
  ioc.run();
  EXPECT_TRUE(got_a.empty());
  EXPECT_EQ(got_b, std::vector<std::string>{"c:1=hello"});
  b.unsubscribe({"c:1"});
  a.publish("c:1", "late");
  ioc.restart();
  ioc.run();
  EXPECT_EQ(got_b.size(), 1u);
}

TEST(inproc_broker, presence_reports_first_in_and_last_out_across_nodes) {
  boost::asio::io_context ioc;
  auto bus = std::make_shared<inproc_bus>();
  inproc_broker a(ioc.get_executor(), bus), b(ioc.get_executor(), bus);
  std::vector<bool> r;
  auto rec = [&](bool v) { r.push_back(v); };
  a.presence_join(7, rec);   // first node: became online
  b.presence_join(7, rec);   // second node: already online
  a.presence_leave(7, rec);  // one node left: still online
  std::vector<bool> q;
  a.presence_query({7, 8}, [&](std::vector<bool> v) { q = std::move(v); });
  b.presence_leave(7, rec);  // last node out: offline
  b.presence_leave(7, rec);  // not there any more: no change
  ioc.run();
  EXPECT_EQ(r, (std::vector<bool>{true, false, false, true, false}));
  EXPECT_EQ(q, (std::vector<bool>{true, false}));
}
