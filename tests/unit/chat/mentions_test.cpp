// The @mention tokenizer (chat/mentions.hpp): the grammar of docs/protocol.md section 6.2, case
// by case.
#include "chat/mentions.hpp"

#include <gtest/gtest.h>

namespace confab::chat {
namespace {

using names = std::vector<std::string>;

TEST(mentions, names_and_wildcards) {
  auto m = parse_mentions("hi @ana and @bob_2, also @all");
  EXPECT_EQ(m.names, (names{"ana", "bob_2"}));
  EXPECT_TRUE(m.all);
  EXPECT_FALSE(m.here);
  EXPECT_TRUE(parse_mentions("@here").here);
  EXPECT_EQ(parse_mentions("@All").names, (names{"All"}));  // wildcards are lower case only
}

TEST(mentions, the_at_sign_must_start_a_word) {
  EXPECT_TRUE(parse_mentions("ana@example.com").names.empty());
  EXPECT_TRUE(parse_mentions("@@bob").names.empty());
  EXPECT_EQ(parse_mentions("(@bob)").names, (names{"bob"}));
  EXPECT_EQ(parse_mentions("@ana,@bob").names, (names{"ana", "bob"}));
  EXPECT_EQ(parse_mentions("@ana@bob").names, (names{"ana"}));  // the run is taken whole
  EXPECT_EQ(parse_mentions("\xC3\xA9@bob").names, (names{"bob"}));  // after a non-ASCII character
  EXPECT_EQ(parse_mentions("line\n@bob").names, (names{"bob"}));
}

TEST(mentions, trailing_dots_end_a_sentence) {
  EXPECT_EQ(parse_mentions("thanks @bob.").names, (names{"bob"}));
  EXPECT_EQ(parse_mentions("@a.b.").names, (names{"a.b"}));
  EXPECT_EQ(parse_mentions("@a-b-").names, (names{"a-b-"}));
  EXPECT_TRUE(parse_mentions("@...").names.empty());
  EXPECT_FALSE(parse_mentions("@all.").names.size());
  EXPECT_TRUE(parse_mentions("@all.").all);
}

TEST(mentions, lengths_and_duplicates) {
  EXPECT_TRUE(parse_mentions("@").names.empty());
  EXPECT_TRUE(parse_mentions("@ ana").names.empty());
  const std::string n32(32, 'x'), n33(33, 'x');
  EXPECT_EQ(parse_mentions("@" + n32).names, (names{n32}));
  EXPECT_TRUE(parse_mentions("@" + n33).names.empty());
  EXPECT_EQ(parse_mentions("@b @a @b @a").names, (names{"a", "b"}));
  EXPECT_TRUE(parse_mentions("").names.empty());
  EXPECT_TRUE(parse_mentions(std::string("@ana\0@bob", 9)).names.size() == 2);
}

}  // namespace
}  // namespace confab::chat
