// The search query language (issue 13), parsed into what both backends' searches need. Pure, no
// I/O: who `from:@ana` is, and which conversation `in:#general` names, are resolved by the caller.
//
// A query is items separated by spaces (ASCII whitespace or U+3000):
//   word          every word must occur (cut and normalised by search/tokenizer.hpp; a word that
//                 the tokenizer cuts into several terms, as "e-mail" or "北京", is a phrase)
//   "a phrase"    its terms at consecutive positions
//   word*         a prefix: terms starting with it (after the words before it, in a phrase)
//   -word, -"a phrase", -word*
//                 must not occur
//   from:@user    messages by that username (from:user works too); repeat for any of several
//   in:#name, in:"a name with spaces"
//                 messages in the conversation with that title; repeat for any of several
//   before:YYYY-MM-DD, after:YYYY-MM-DD, on:YYYY-MM-DD
//                 days in UTC: before the day, after the day, on the day
//   has:link, has:mention, mentions:me, is:thread, is:pinned
// Filter names are lower case ASCII letters; a word with another `name:` is an error (quote it
// to search for it: "note:").
//
// Errors: every malformed query is errc::invalid_field with a message naming the problem and the
// character (1-based) where it is, e.g. `query: unknown filter "foo:" at character 7`. A query of
// at most max_query_bytes, at most max_items items; an empty one, or one with only exclusions, is
// an error.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::search {

inline constexpr std::size_t max_query_bytes = 1024;
inline constexpr std::size_t max_items = 32;

// Terms at consecutive positions: one per position of the tokenizer's output, the bigram where
// the position has one (so "北京" is 北京 then 京; the index holds both at those positions).
struct phrase {
  std::vector<std::string> terms;
  bool prefix = false;  // the last term is a prefix
  bool operator==(const phrase&) const = default;
};

struct query {
  std::vector<phrase> include;
  std::vector<phrase> exclude;
  std::vector<std::string> from_users;      // usernames, as typed (without '@')
  std::vector<std::string> in_conversations;  // titles, as typed (without '#')
  std::optional<std::int64_t> since_ms;     // ts >= since_ms (UTC midnight)
  std::optional<std::int64_t> until_ms;     // ts < until_ms
  bool has_link = false;
  bool has_mention = false;
  bool mentions_me = false;
  bool is_thread = false;
  bool is_pinned = false;
};

result<query> parse_query(std::string_view text);

// The phrase of a word or quoted text: its tokens, one term per position (the bigram where the
// position has one). Empty when the text has no terms (only punctuation).
result<phrase> query_phrase(std::string_view text, bool prefix);

}  // namespace confab::search
