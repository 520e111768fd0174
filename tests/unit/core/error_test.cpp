#include "core/error.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace confab;

TEST(error, every_code_has_a_distinct_wire_name_and_a_status) {
  std::set<std::string_view> names;
  for (int i = 1; i <= static_cast<int>(errc::internal); ++i) {
    auto e = static_cast<errc>(i);
    EXPECT_TRUE(names.insert(error_name(e)).second) << error_name(e);
    EXPECT_GE(http_status(e), 400u);
  }
  EXPECT_EQ(http_status(errc::not_found), 404u);
  EXPECT_EQ(http_status(errc::rate_limited), 429u);
  EXPECT_EQ(http_status(errc::too_large), 413u);
  EXPECT_EQ(http_status(errc::unauthenticated), 401u);
}

TEST(error, error_code_interop) {
  boost::system::error_code ec = errc::forbidden;
  EXPECT_EQ(ec.category().name(), std::string("confab"));
  EXPECT_EQ(ec.message(), "forbidden");
  EXPECT_TRUE(retryable(errc::unavailable));
  EXPECT_FALSE(retryable(errc::forbidden));
}
