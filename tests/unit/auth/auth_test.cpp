#include "auth/auth.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace confab::auth;

TEST(auth, password_hash_verifies_only_the_right_password) {
  ASSERT_TRUE(init());
  argon2_cost cheap{1, 8 * 1024};
  auto h = hash_password("correct horse", cheap);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horsf"));
  EXPECT_FALSE(verify_password("garbage", "correct horse"));
  EXPECT_NE(hash_password("correct horse", cheap), h);  // salted
}

TEST(auth, tokens_are_random_256_bit_and_hashed) {
  ASSERT_TRUE(init());
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = new_token();
    EXPECT_EQ(t.size(), 43u);  // 32 bytes, base64url without padding
    EXPECT_TRUE(seen.insert(t).second);
  }
  auto t = new_token();
  EXPECT_EQ(token_hash(t), token_hash(t));
  EXPECT_NE(token_hash(t), token_hash(new_token()));
  EXPECT_EQ(token_hash(t).size(), 64u);
  EXPECT_EQ(token_hash(t).find(t), std::string::npos);
}
