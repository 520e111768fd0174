#include "gateway/rate_limiter.hpp"

#include <gtest/gtest.h>

using confab::gateway::rate_limiter;
using namespace std::chrono_literals;

TEST(rate_limiter, allows_a_burst_then_refills_at_the_rate) {
  rate_limiter rl(10, 5);
  auto t0 = rate_limiter::clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl.allow(1, t0)) << i;
  EXPECT_FALSE(rl.allow(1, t0));
  EXPECT_TRUE(rl.allow(2, t0));  // keys are independent
  EXPECT_FALSE(rl.allow(1, t0 + 50ms));
  EXPECT_TRUE(rl.allow(1, t0 + 100ms));  // one token per 100 ms
  EXPECT_FALSE(rl.allow(1, t0 + 100ms));
  // Never more than the burst, however long the pause.
  int n = 0;
  while (rl.allow(1, t0 + 1h)) ++n;
  EXPECT_EQ(n, 5);
}
