// Typing expiry and throttling, driven by a manual clock: time moves only when the test says so.
#include "gateway/ephemeral.hpp"

#include <gtest/gtest.h>

using namespace confab;
using namespace confab::gateway;
using namespace std::chrono_literals;

namespace {

struct typing : ::testing::Test {
  manual_clock clock;
  typing_tracker t{clock, 6000ms, 2000ms};
};

}  // namespace

TEST_F(typing, a_shown_state_expires_after_the_ttl_and_not_before) {
  ASSERT_TRUE(t.local_start(7, 3, "ana"));
  clock.advance(5999ms);
  EXPECT_TRUE(t.expire().empty());
  clock.advance(1ms);
  auto gone = t.expire();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].conv, 7);
  EXPECT_EQ(gone[0].user, 3);
  EXPECT_EQ(gone[0].username, "ana");
  EXPECT_TRUE(t.expire().empty());          // once
  EXPECT_EQ(t.stop(7, 3, true), std::nullopt);  // nothing shown any more
}

TEST_F(typing, a_refresh_extends_the_state) {
  ASSERT_TRUE(t.local_start(7, 3, "ana"));
  clock.advance(4000ms);
  ASSERT_TRUE(t.local_start(7, 3, "ana"));  // past the throttle: broadcast again, shown anew
  clock.advance(4000ms);
  EXPECT_TRUE(t.expire().empty());
  clock.advance(2000ms);
  EXPECT_EQ(t.expire().size(), 1u);
}

TEST_F(typing, refreshes_within_the_throttle_are_dropped_while_shown) {
  ASSERT_TRUE(t.local_start(7, 3, "ana"));
  clock.advance(1999ms);
  EXPECT_FALSE(t.local_start(7, 3, "ana"));
  clock.advance(1ms);
  EXPECT_TRUE(t.local_start(7, 3, "ana"));
  // Other conversations and users have their own throttle.
  EXPECT_TRUE(t.local_start(8, 3, "ana"));
  EXPECT_TRUE(t.local_start(7, 4, "ben"));
}

TEST_F(typing, the_throttle_never_outlasts_half_the_ttl) {
  typing_tracker short_ttl{clock, 1000ms, 5000ms};  // a throttle over ttl/2 would let it expire between refreshes
  ASSERT_TRUE(short_ttl.local_start(7, 3, "ana"));
  clock.advance(499ms);
  EXPECT_FALSE(short_ttl.local_start(7, 3, "ana"));
  clock.advance(1ms);
  EXPECT_TRUE(short_ttl.local_start(7, 3, "ana"));
}

TEST_F(typing, a_stop_hides_at_once_and_ends_the_throttle) {
  ASSERT_TRUE(t.local_start(7, 3, "ana"));
  EXPECT_EQ(t.stop(7, 3, true), "ana");
  EXPECT_EQ(t.stop(7, 3, true), std::nullopt);
  EXPECT_TRUE(t.local_start(7, 3, "ana"));  // no throttle after a stop
  clock.advance(10s);
  EXPECT_EQ(t.expire().size(), 1u);
}

TEST_F(typing, remote_states_expire_on_this_nodes_clock) {
  t.remote_start(7, 9, "cy");
  clock.advance(3s);
  EXPECT_TRUE(t.expire().empty());
  clock.advance(3s);
  auto gone = t.expire();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].username, "cy");
  // A remote stop of a state not shown here shows nothing.
  EXPECT_EQ(t.stop(7, 9, false), std::nullopt);
}

TEST(manual_clock, moves_only_when_advanced) {
  manual_clock c(1000);
  const auto s0 = c.steady();
  EXPECT_EQ(c.steady(), s0);
  EXPECT_EQ(c.system_ms(), 1000);
  c.advance(1500ms);
  EXPECT_EQ(c.steady() - s0, 1500ms);
  EXPECT_EQ(c.system_ms(), 2500);
}

// issue 11: typing in a thread is one state per user and conversation; a change of place (the
// conversation, a thread, another thread) is broadcast at once, a repeat in the same place is
// throttled; the frame names the thread.
TEST_F(typing, a_change_of_thread_is_not_throttled) {
  ASSERT_TRUE(t.local_start(7, 3, "ana", 12));
  EXPECT_FALSE(t.local_start(7, 3, "ana", 12));
  EXPECT_TRUE(t.local_start(7, 3, "ana", 13));
  EXPECT_TRUE(t.local_start(7, 3, "ana"));
  EXPECT_FALSE(t.local_start(7, 3, "ana"));
  EXPECT_EQ(t.stop(7, 3, true), std::optional<std::string>("ana"));  // one state, whatever the thread
  EXPECT_EQ(*typing_frame(7, 3, "ana", true, 6000ms, 12),
            R"({"type":"typing","conv":7,"user_id":3,"username":"ana","active":true,"expires_in_ms":6000,"thread":12})");
  EXPECT_EQ(*typing_frame(7, 3, "ana", false, 6000ms, 12), R"({"type":"typing","conv":7,"user_id":3,"username":"ana","active":false})");
}
