// issue 17: the node's record of traced messages: a send's trace found again at commit, hops in
// order, receipts recorded once per member, and every table bounded.
#include "gateway/trace.hpp"

#include <gtest/gtest.h>

using namespace confab;
using namespace confab::gateway;
namespace json = boost::json;

TEST(trace_recorder, nothing_is_active_until_something_is_traced) {
  trace_recorder r;
  EXPECT_FALSE(r.active());
  EXPECT_EQ(r.claim(1, "c1", 7, 1), 0);
  EXPECT_EQ(r.of(7, 1), 0);
  r.begin(7, 1, "c1");
  EXPECT_TRUE(r.active());
}

TEST(trace_recorder, a_send_is_found_again_at_commit) {
  trace_recorder r;
  const auto id = r.begin(7, 3, "m1");
  EXPECT_GT(id, 0);
  EXPECT_LT(id, std::int64_t{1} << 53);
  EXPECT_EQ(r.claim(3, "m2", 7, 4), 0);  // another message
  EXPECT_EQ(r.claim(4, "m1", 7, 4), 0);  // the same client id from another device
  EXPECT_EQ(r.claim(3, "m1", 7, 5), id);
  EXPECT_EQ(r.of(7, 5), id);
  EXPECT_NE(r.begin(7, 3, "m3"), id);
}

TEST(trace_recorder, hops_come_back_in_order_with_their_attributes) {
  trace_recorder r;
  const auto id = r.begin(7, 3, "m1");
  const auto other = r.begin(7, 3, "m2");
  r.hop(id, "received", {{"device", 3}});
  r.hop(other, "received", {});
  r.hop(id, "committed", {{"seq", 5}});
  auto h = r.hops(id);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].at("hop").as_string(), "received");
  EXPECT_EQ(h[0].at("device").as_int64(), 3);
  EXPECT_EQ(h[1].at("hop").as_string(), "committed");
  EXPECT_LE(h[0].at("at_us").as_int64(), h[1].at("at_us").as_int64());
}

TEST(trace_recorder, receipts_are_recorded_once_per_member) {
  trace_recorder r;
  r.adopt(9, 7, 3);
  r.adopt(10, 7, 5);
  r.adopt(11, 8, 1);
  auto up = r.upto(7, 4);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0], (std::pair<std::int64_t, std::int64_t>{3, 9}));
  EXPECT_EQ(r.upto(7, 5).size(), 2u);
  EXPECT_TRUE(r.upto(6, 100).empty());
  r.hop(9, "delivered", {{"user", 2}}, true);
  r.hop(9, "delivered", {{"user", 2}}, true);
  r.hop(9, "delivered", {{"user", 4}}, true);
  r.hop(9, "read", {{"user", 2}}, true);
  EXPECT_EQ(r.hops(9).size(), 3u);
}

TEST(trace_recorder, every_table_is_bounded) {
  trace_recorder r;
  const auto first = r.begin(7, 1, "c0");
  for (std::size_t i = 1; i <= trace_recorder::max_pending; ++i) r.begin(7, 1, "c" + std::to_string(i));
  EXPECT_EQ(r.claim(1, "c0", 7, 1), 0) << "the oldest pending send is forgotten";
  EXPECT_GT(r.claim(1, "c1", 7, 2), 0);
  for (std::int64_t s = 1; s <= static_cast<std::int64_t>(trace_recorder::max_traced) + 1; ++s) r.adopt(100 + s, 9, s);
  EXPECT_EQ(r.of(9, 1), 0);
  EXPECT_EQ(r.of(9, 2), 102);
  for (std::size_t i = 0; i < trace_recorder::max_hops + 10; ++i) r.hop(first, "x", {{"i", i}});
  auto h = r.hops(first);
  ASSERT_EQ(h.size(), trace_recorder::max_hops);
  EXPECT_EQ(h[0].at("i").as_uint64(), 10u);
}

// A trace is found by its sender and client id, committed or not, until max_traced newer ones.
TEST(trace_recorder, a_trace_is_found_by_the_senders_client_id) {
  trace_recorder r;
  const auto id = r.begin(7, 1, "m1");
  EXPECT_EQ(r.of_client(7, "m1"), id);
  EXPECT_EQ(r.of_client(8, "m1"), 0) << "another user's client id";
  EXPECT_EQ(r.of_client(7, "m2"), 0);
  EXPECT_GT(r.claim(1, "m1", 5, 1), 0);
  EXPECT_EQ(r.of_client(7, "m1"), id) << "still found once committed";
  for (std::size_t i = 0; i < trace_recorder::max_traced; ++i) r.begin(7, 1, "n" + std::to_string(i));
  EXPECT_EQ(r.of_client(7, "m1"), 0) << "forgotten after max_traced newer ones";
  EXPECT_GT(r.of_client(7, "n0"), 0);
}
