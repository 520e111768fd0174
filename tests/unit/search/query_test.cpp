// The search query language: words, phrases, prefixes, exclusions, filters, and a typed error
// that points at the bad part for each kind of malformed query.
#include "search/query.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confab::search {
namespace {

using terms = std::vector<std::string>;

query ok(std::string_view q) {
  auto r = parse_query(q);
  EXPECT_TRUE(r) << q << ": " << r.error().message;
  return r ? *r : query{};
}

std::string refused(std::string_view q) {
  auto r = parse_query(q);
  EXPECT_FALSE(r) << q;
  if (r) return "";
  EXPECT_EQ(r.error().code, errc::invalid_field);
  return r.error().message;
}

TEST(search_query, words_phrases_prefixes_and_exclusions) {
  auto q = ok("Lunch \"north  CAFÉ\" lun* -pizza -\"fast food\"");
  ASSERT_EQ(q.include.size(), 3u);
  EXPECT_EQ(q.include[0], (phrase{{"lunch"}, false}));
  EXPECT_EQ(q.include[1], (phrase{{"north", "cafe"}, false}));
  EXPECT_EQ(q.include[2], (phrase{{"lun"}, true}));
  ASSERT_EQ(q.exclude.size(), 2u);
  EXPECT_EQ(q.exclude[0].terms, terms{"pizza"});
  EXPECT_EQ(q.exclude[1].terms, (terms{"fast", "food"}));
}

TEST(search_query, a_word_the_tokenizer_cuts_is_a_phrase_with_one_term_per_position) {
  EXPECT_EQ(ok("e-mail").include[0].terms, (terms{"e", "mail"}));
  EXPECT_EQ(ok("北京").include[0].terms, (terms{"北京", "京"}));
  EXPECT_EQ(ok("猫").include[0].terms, terms{"猫"});
  EXPECT_EQ(ok("\"北京 hello\"").include[0].terms, (terms{"北京", "京", "hello"}));
  auto p = ok("北京*").include[0];
  EXPECT_TRUE(p.prefix);
  EXPECT_EQ(p.terms, (terms{"北京", "京"}));
}

TEST(search_query, filters) {
  auto q = ok("from:@ana from:bo in:#general in:\"Trip to Porto\" has:link has:mention mentions:me is:thread is:pinned report");
  EXPECT_EQ(q.from_users, (terms{"ana", "bo"}));
  EXPECT_EQ(q.in_conversations, (terms{"general", "Trip to Porto"}));
  EXPECT_TRUE(q.has_link && q.has_mention && q.mentions_me && q.is_thread && q.is_pinned);
  EXPECT_EQ(q.include.size(), 1u);
  // A filter alone is a query.
  EXPECT_TRUE(ok("from:@ana").include.empty());
}

TEST(search_query, dates_are_utc_days) {
  const std::int64_t d = 1'796'083'200'000;  // 2026-12-01T00:00:00Z
  auto on = ok("on:2026-12-01 x");
  EXPECT_EQ(on.since_ms, d);
  EXPECT_EQ(on.until_ms, d + 86'400'000);
  auto range = ok("after:2026-11-30 before:2026-12-02 x");
  EXPECT_EQ(range.since_ms, d);
  EXPECT_EQ(range.until_ms, d + 86'400'000);
  EXPECT_EQ(ok("before:2024-02-29 x").until_ms, 1'709'164'800'000);  // a leap day exists
}

TEST(search_query, each_kind_of_bad_query_names_the_problem_and_where) {
  EXPECT_EQ(refused(""), "query: nothing to search for");
  EXPECT_EQ(refused(" \t\n\xE3\x80\x80 "), "query: nothing to search for");
  EXPECT_EQ(refused("?!"), "query: nothing to search for");
  EXPECT_EQ(refused("-spam"), "query: only exclusions; add a word or a filter to search for");
  EXPECT_EQ(refused("lunch foo:bar"), "query: unknown filter \"foo:\" at character 7");
  EXPECT_EQ(refused("a \"open phrase"), "query: a quote that is not closed at character 3");
  EXPECT_EQ(refused("ab\"cd\""), "query: a quote inside a word (put it at the start of a phrase) at character 3");
  EXPECT_EQ(refused("x on:2026-02-30"), "query: \"2026-02-30\" is not a date (YYYY-MM-DD) at character 6");
  EXPECT_EQ(refused("x before:yesterday"), "query: \"yesterday\" is not a date (YYYY-MM-DD) at character 10");
  EXPECT_EQ(refused("after:2026-12-02 before:2026-12-01 x"), "query: the date filters leave no day");
  EXPECT_EQ(refused("from:@"), "query: from: needs a username at character 6");
  EXPECT_EQ(refused("from:@bad$name"), "query: from: needs a username at character 6");
  EXPECT_EQ(refused("is:"), "query: filter \"is:\" has no value at character 4");
  EXPECT_EQ(refused("is:open"), "query: is: is thread or pinned at character 4");
  EXPECT_EQ(refused("has:image"), "query: has:image is not available (no attachments yet) at character 5");
  EXPECT_EQ(refused("mentions:you"), "query: mentions: is me at character 10");
  EXPECT_EQ(refused("-from:@ana x"), "query: a filter cannot be excluded at character 1");
  EXPECT_EQ(refused("x -"), "query: a '-' without a word after it at character 3");
  EXPECT_EQ(refused("*"), "query: '*' must follow the start of a word at character 1");
  EXPECT_EQ(refused("ab**"), "query: '*' must follow the start of a word at character 1");
  EXPECT_EQ(refused("!!*"), "query: a prefix with no letters or digits at character 1");
  // Characters, not bytes: the error points where a person sees it.
  EXPECT_EQ(refused("北京 foo:x"), "query: unknown filter \"foo:\" at character 4");
}

TEST(search_query, size_limits_and_invalid_utf8) {
  EXPECT_EQ(refused(std::string(max_query_bytes + 1, 'a')), "query: longer than 1024 bytes");
  std::string many;
  for (std::size_t i = 0; i <= max_items; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(refused(many), "query: more than 32 items at character " + std::to_string(many.find("w32") + 1));
  std::string long_phrase = "\"";
  for (std::size_t i = 0; i <= max_items; ++i) long_phrase += "x ";
  long_phrase += "\"";
  EXPECT_EQ(refused(long_phrase), "query: more than 32 terms in a phrase at character 1");
  EXPECT_EQ(refused("caf\xC3"), "query: not valid UTF-8");
  // Quotes do not nest: the second quote closes the phrase, and the word after it holds a quote.
  EXPECT_EQ(refused("\"a \"b\" c\""), "query: a quote inside a word (put it at the start of a phrase) at character 6");
}

}  // namespace
}  // namespace confab::search
