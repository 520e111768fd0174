// Reaction emoji (chat/emoji.hpp): exactly one RGI emoji, one grapheme cluster; everything else
// is invalid_field.
#include "chat/emoji.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace confab;

namespace {

errc code(std::string_view s) {
  auto r = chat::check_emoji(s);
  return r ? errc::ok : r.error().code;
}

TEST(emoji, single_emoji_and_emoji_sequences_are_accepted) {
  const char* good[] = {
      "\xF0\x9F\x91\x8D",                                  // 👍
      "\xE2\x9D\xA4\xEF\xB8\x8F",                          // ❤️ (with VS16)
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",                  // 👍🏽 modifier sequence
      "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7",                  // 🇫🇷 flag
      "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",      // 👩‍💻 ZWJ sequence
      "1\xEF\xB8\x8F\xE2\x83\xA3",                         // 1️⃣ keycap
      "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xB3\xF3\xA0\x81\xA3\xF3\xA0\x81\xB4\xF3\xA0\x81\xBF",  // 🏴 Scotland (tag sequence)
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6",  // 👨‍👩‍👧‍👦
  };
  for (const char* g : good) EXPECT_EQ(code(g), errc::ok) << g;
}

TEST(emoji, two_emoji_are_refused) {
  EXPECT_EQ(code("\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D"), errc::invalid_field);              // 👍👍
  EXPECT_EQ(code("\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7\xF0\x9F\x87\xAB"), errc::invalid_field);  // a flag and a lone indicator
}

TEST(emoji, text_is_refused) {
  for (const char* t : {"a", "ok", "1", "#", ":+1:", " ", "\xC3\xA4", "\xE4\xB8\xAD"}) EXPECT_EQ(code(t), errc::invalid_field) << t;
}

TEST(emoji, an_emoji_with_more_characters_is_refused) {
  EXPECT_EQ(code("\xF0\x9F\x91\x8D "), errc::invalid_field);      // trailing space
  EXPECT_EQ(code(" \xF0\x9F\x91\x8D"), errc::invalid_field);      // leading space
  EXPECT_EQ(code("\xF0\x9F\x91\x8Dx"), errc::invalid_field);
  EXPECT_EQ(code("\xF0\x9F\x91\x8D\xCC\x81"), errc::invalid_field);  // a combining mark makes it no RGI sequence
}

TEST(emoji, empty_over_long_and_invalid_utf8_are_refused) {
  EXPECT_EQ(code(""), errc::invalid_field);
  std::string long_one;
  while (long_one.size() <= chat::max_emoji_bytes) long_one += "\xF0\x9F\x91\x8D";
  EXPECT_EQ(code(long_one), errc::invalid_field);
  EXPECT_EQ(code("\xF0\x9F\x91"), errc::invalid_field);   // truncated
  EXPECT_EQ(code("\xED\xA0\xBD"), errc::invalid_field);   // a surrogate
  EXPECT_EQ(code(std::string("\xF0\x9F\x91\x8D\0", 5)), errc::invalid_field);
}

}  // namespace
