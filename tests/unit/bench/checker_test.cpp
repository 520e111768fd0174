#include "confab_bench/checker.hpp"
#include "confab_bench/stats.hpp"

#include <gtest/gtest.h>

using namespace confab::bench;

TEST(stream_checker, in_order_stream_is_clean) {
  stream_checker s;
  check_counts c;
  for (int p = 1; p <= 10; ++p) EXPECT_TRUE(s.on_event(p, 1 + p % 2, (p + 1) / 2, c));
  EXPECT_EQ(c.duplicates + c.gaps + c.reorders, 0u);
}

TEST(stream_checker, flags_duplicates_gaps_and_reorders) {
  stream_checker s;
  check_counts c;
  s.start_at(4);
  EXPECT_FALSE(s.on_event(4, 7, 1, c));  // at the cursor: a duplicate
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_TRUE(s.on_event(5, 7, 10, c));  // first event of conv 7: any seq starts it
  EXPECT_TRUE(s.on_event(7, 7, 11, c));  // pos jumped 5 -> 7
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_TRUE(s.on_event(8, 7, 13, c));  // seq jumped 11 -> 13
  EXPECT_EQ(c.gaps, 2u);
  EXPECT_TRUE(s.on_event(9, 7, 12, c));  // seq went back
  EXPECT_EQ(c.reorders, 1u);
  EXPECT_EQ(s.pos(), 9);
}

TEST(histogram, percentiles_are_within_two_percent) {
  histogram h;
  for (int i = 1; i <= 100000; ++i) h.record(i);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(static_cast<double>(h.percentile(50)), 50000, 1000);
  EXPECT_NEAR(static_cast<double>(h.percentile(99)), 99000, 2000);
  EXPECT_EQ(h.max(), 100000);
  histogram small;
  for (int i = 0; i < 64; ++i) small.record(i);  // below 64 µs every value is exact
  EXPECT_EQ(small.percentile(50), 31);
}
