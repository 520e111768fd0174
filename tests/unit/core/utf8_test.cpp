#include "core/utf8.hpp"

#include <gtest/gtest.h>

using confab::valid_utf8;

TEST(utf8, accepts_ascii_and_multibyte) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("hello"));
  EXPECT_TRUE(valid_utf8("h\xC3\xA9llo"));         // é
  EXPECT_TRUE(valid_utf8("\xE2\x82\xAC"));         // €
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));     // 😀
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));     // U+10FFFF
}

TEST(utf8, rejects_invalid_sequences) {
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("\x80"));                // lone continuation
  EXPECT_FALSE(valid_utf8("\xC3"));                // truncated
  EXPECT_FALSE(valid_utf8("\xE2\x82"));            // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));            // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));        // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));        // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_FALSE(valid_utf8("ok\xC3("));             // bad continuation
}
