// libFuzzer target for the search query parser (search/query.hpp): every query a user types.
// Every input must parse or be refused with invalid_field, without a crash, within the limits:
// a parsed query has something to search for, at most max_items items, phrases of non-empty
// valid UTF-8 terms, and date bounds in order.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g.:
//   mkdir -p /tmp/query-corpus
//   build/clang/tests/fuzz/query_fuzz -max_total_time=60 /tmp/query-corpus tests/fuzz/corpus/query
#include "core/utf8.hpp"
#include "search/query.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace confab::search;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parse_query(in);
  if (!r) {
    if (r.error().code != confab::errc::invalid_field || r.error().message.rfind("query: ", 0) != 0) std::abort();
    return 0;
  }
  if (size > max_query_bytes || !confab::valid_utf8(in)) std::abort();
  const auto& q = *r;
  const bool filtered = !q.from_users.empty() || !q.in_conversations.empty() || q.since_ms || q.until_ms || q.has_link ||
                        q.has_mention || q.mentions_me || q.is_thread || q.is_pinned;
  if (q.include.empty() && !filtered) std::abort();
  if (q.include.size() + q.exclude.size() + q.from_users.size() + q.in_conversations.size() > max_items) std::abort();
  for (const auto* side : {&q.include, &q.exclude})
    for (const auto& p : *side) {
      if (p.terms.empty() || p.terms.size() > max_items) std::abort();
      for (const auto& t : p.terms)
        if (t.empty() || !confab::valid_utf8(t)) std::abort();
    }
  if (q.since_ms && q.until_ms && *q.since_ms >= *q.until_ms) std::abort();
  return 0;
}
