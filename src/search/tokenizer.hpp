// The search tokenizer (issue 13): one cut of text into terms, used to index messages on both
// backends (SQLite FTS5 and PostgreSQL) and to cut queries, so that a query finds the same
// messages on either.
//
// What a term is:
//  - Words come from ICU's word break rules (root locale). Spaces and punctuation are not terms.
//    Emoji are terms (the emoji itself, without variation selectors, flags included).
//  - Each word is normalised: Unicode NFKC with case folding (so "ＡＢＣ", "ABC" and "abc" are one
//    term, and "Straße" is "strasse"), then diacritics removed from Latin, Greek, Cyrillic, Arabic
//    and Hebrew letters ("café" is "cafe", "ё" is "е", Arabic vowel marks go); marks that other
//    scripts need (Thai, Devanagari, kana voicing) stay.
//  - Runs of Han, Hiragana, Katakana and Hangul characters, and of the scripts written without
//    spaces (Thai, Lao, Khmer, Myanmar), across ICU's word boundaries (which guess at such words,
//    and cut the same word differently depending on its neighbours), become every character (a
//    unigram; a character keeps its combining marks) and every overlapping pair of characters (a
//    bigram, colocated with the unigram of its first character), so that one- and two-character
//    words are found inside a sentence, and a longer word is found as a phrase of its bigrams.
//  - A term longer than max_term_bytes is cut there (on a character boundary); a text yields at
//    most max_tokens tokens (the rest of a longer text is not indexed).
//
// Threads: every function may be called from any thread (ICU iterators are kept per thread).
// Errors: invalid UTF-8 gives errc::invalid_field; an ICU failure gives errc::internal.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace confab::search {

inline constexpr std::size_t max_term_bytes = 100;
inline constexpr std::size_t max_tokens = 20'000;

struct token {
  std::string term;         // the normalised form
  std::uint32_t begin = 0;  // byte range of the source text it came from (for highlights)
  std::uint32_t end = 0;
  std::uint32_t position = 0;  // word position: a phrase is consecutive positions
  bool colocated = false;      // at the same position as the token before it (a CJK bigram)
  bool operator==(const token&) const = default;
};

// The tokens of text, in order of position.
result<std::vector<token>> tokenize(std::string_view text);

// The normalised form of one word as typed in a query (for prefix terms such as "caf*"): NFKC
// case folding and the diacritics rule above, no splitting.
result<std::string> normalize_word(std::string_view word);

}  // namespace confab::search
