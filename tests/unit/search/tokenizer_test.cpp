// The search tokenizer: what a term is in each script, highlight offsets into the source bytes,
// positions for phrases, and bad input.
#include "search/tokenizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

namespace confab::search {
namespace {

std::vector<std::string> terms(std::string_view text) {
  auto r = tokenize(text);
  EXPECT_TRUE(r) << r.error().message;
  std::vector<std::string> out;
  if (r)
    for (auto& t : *r) out.push_back(t.term);
  return out;
}

using v = std::vector<std::string>;

TEST(search_tokenizer, words_are_case_folded_without_punctuation) {
  EXPECT_EQ(terms("Hello, WORLD! It's 2026."), (v{"hello", "world", "it's", "2026"}));
  EXPECT_EQ(terms("   \n\t "), v{});
  EXPECT_EQ(terms(""), v{});
}

TEST(search_tokenizer, latin_greek_cyrillic_lose_their_accents_and_compatibility_forms_fold) {
  EXPECT_EQ(terms("Café crème brûlée"), (v{"cafe", "creme", "brulee"}));
  EXPECT_EQ(terms("Straße ÜBER"), (v{"strasse", "uber"}));
  EXPECT_EQ(terms("ＡＢＣ ｆｕｌｌ"), (v{"abc", "full"}));  // full-width letters
  EXPECT_EQ(terms("Ёлка Привет"), (v{"елка", "привет"}));
  EXPECT_EQ(terms("Ἀθῆναι"), (v{"αθηναι"}));
  // Decomposed input (e + combining acute) is the same term as the composed one.
  EXPECT_EQ(terms("cafe\xCC\x81"), (v{"cafe"}));
}

TEST(search_tokenizer, arabic_vowel_marks_are_dropped) {
  // "كَتَبَ" (with fatha) and "كتب" are one term.
  EXPECT_EQ(terms("\xD9\x83\xD9\x8E\xD8\xAA\xD9\x8E\xD8\xA8\xD9\x8E"), terms("\xD9\x83\xD8\xAA\xD8\xA8"));
  EXPECT_EQ(terms("\xD9\x83\xD8\xAA\xD8\xA8").size(), 1u);
}

TEST(search_tokenizer, thai_becomes_characters_with_their_marks_and_overlapping_pairs) {
  // "สวัสดี": ส, วั (with its vowel mark), ส, ดี; each character and each pair, as CJK.
  EXPECT_EQ(terms("สวัสดี"), (v{"ส", "สวั", "วั", "วัส", "ส", "สดี", "ดี"}));
  // A word cuts the same alone and inside a sentence (ICU's dictionary cut it by its neighbours).
  auto alone = terms("ทอง");
  auto inside = terms("สีทองเครือข่าย");
  EXPECT_NE(std::search(inside.begin(), inside.end(), alone.begin(), alone.end() - 1), inside.end());
  // A tone mark changes the word: it is kept.
  EXPECT_NE(terms("ใกล้"), terms("ใกล"));
}

TEST(search_tokenizer, han_runs_become_characters_and_overlapping_bigrams) {
  EXPECT_EQ(terms("我爱北京"), (v{"我", "我爱", "爱", "爱北", "北", "北京", "京"}));
  auto r = tokenize("我爱北京");
  ASSERT_TRUE(r);
  // Each bigram shares its first character's position; positions are consecutive characters.
  std::vector<std::uint32_t> pos;
  std::vector<bool> co;
  for (auto& t : *r) {
    pos.push_back(t.position);
    co.push_back(t.colocated);
  }
  EXPECT_EQ(pos, (std::vector<std::uint32_t>{0, 0, 1, 1, 2, 2, 3}));
  EXPECT_EQ(co, (std::vector<bool>{false, true, false, true, false, true, false}));
}

TEST(search_tokenizer, japanese_and_korean_runs_cross_script_changes_and_word_guesses) {
  // Kanji and hiragana in one run: "東京に行く".
  EXPECT_EQ(terms("東京に行く"), (v{"東", "東京", "京", "京に", "に", "に行", "行", "行く", "く"}));
  // Half-width katakana folds to full width, voicing mark included: "ｶﾞｲﾄﾞ" is "ガイド".
  EXPECT_EQ(terms("ｶﾞｲﾄﾞ"), terms("ガイド"));
  // Hangul: spaces separate runs.
  EXPECT_EQ(terms("안녕 세계"), (v{"안", "안녕", "녕", "세", "세계", "계"}));
  // Latin inside CJK is a word of its own.
  EXPECT_EQ(terms("用iPhone拍"), (v{"用", "iphone", "拍"}));
}

TEST(search_tokenizer, emoji_are_terms_without_variation_selectors) {
  EXPECT_EQ(terms("party 🎉 now"), (v{"party", "🎉", "now"}));
  EXPECT_EQ(terms("❤️"), terms("❤"));
  auto family = terms("👩‍👩‍👧");  // one ZWJ sequence, one term
  EXPECT_EQ(family.size(), 1u);
  // Flags: a pair of regional indicators, one term each (search_bench found them dropped).
  EXPECT_EQ(terms("hello 🇩🇪 world 🇯🇵🇹🇭"), (v{"hello", "🇩🇪", "world", "🇯🇵", "🇹🇭"}));
}

TEST(search_tokenizer, offsets_point_at_the_source_bytes_for_highlighting) {
  const std::string text = "Voilà: Café 北京!";
  auto r = tokenize(text);
  ASSERT_TRUE(r);
  std::vector<std::string> spans;
  for (auto& t : *r) spans.push_back(text.substr(t.begin, t.end - t.begin));
  EXPECT_EQ(spans, (v{"Voilà", "Café", "北", "北京", "京"}));
  std::vector<std::uint32_t> pos;
  for (auto& t : *r) pos.push_back(t.position);
  EXPECT_EQ(pos, (std::vector<std::uint32_t>{0, 1, 2, 2, 3}));
}

TEST(search_tokenizer, long_words_are_cut_on_a_character_boundary_and_long_texts_are_bounded) {
  const std::string word(500, 'a');
  auto t = terms(word);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].size(), max_term_bytes);
  std::string cyr;
  for (int i = 0; i < 200; ++i) cyr += "ж";  // two bytes each
  auto c = terms(cyr);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].size(), max_term_bytes);
  std::string many;
  for (std::size_t i = 0; i < max_tokens + 50; ++i) many += "w ";
  auto r = tokenize(many);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), max_tokens);
}

TEST(search_tokenizer, invalid_utf8_is_a_typed_error) {
  for (std::string bad : {std::string("\xC3\x28"), std::string("\xED\xA0\x80"), std::string("ok\xFF"), std::string("\xF4\x90\x80\x80")}) {
    auto r = tokenize(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_field);
    EXPECT_FALSE(normalize_word(bad));
  }
}

TEST(search_tokenizer, a_query_word_normalises_as_the_indexed_one) {
  EXPECT_EQ(*normalize_word("CAFÉ"), "cafe");
  EXPECT_EQ(*normalize_word("Straße"), "strasse");
  EXPECT_EQ(*normalize_word("ＡＢ"), "ab");
}

}  // namespace
}  // namespace confab::search
