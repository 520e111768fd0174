// libFuzzer target for the search tokenizer (search/tokenizer.hpp): it reads every message text
// (any member writes them) and every search query. Every input must be tokenized or refused
// (invalid UTF-8 only) without a crash, and the tokens must obey the contract: non-empty valid
// UTF-8 terms of at most max_term_bytes, byte ranges inside the input on character boundaries,
// positions that never go back, colocated tokens only after a token at the same position, at
// most max_tokens of them.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g.:
//   mkdir -p /tmp/tokenizer-corpus
//   build/clang/tests/fuzz/tokenizer_fuzz -max_total_time=60 /tmp/tokenizer-corpus tests/fuzz/corpus/tokenizer
#include "core/utf8.hpp"
#include "search/tokenizer.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

bool starts_char(std::string_view s, std::size_t i) {
  return i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace confab::search;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = tokenize(in);
  if (!r) {
    if (confab::valid_utf8(in) || r.error().code != confab::errc::invalid_field) std::abort();
    return 0;
  }
  if (r->size() > max_tokens) std::abort();
  std::uint32_t last = 0;
  for (std::size_t i = 0; i < r->size(); ++i) {
    const auto& t = (*r)[i];
    if (t.term.empty() || t.term.size() > max_term_bytes || !confab::valid_utf8(t.term)) std::abort();
    if (t.begin >= t.end || t.end > size || !starts_char(in, t.begin) || !starts_char(in, t.end)) std::abort();
    if (t.position < last) std::abort();
    if (t.colocated && (i == 0 || (*r)[i - 1].position != t.position)) std::abort();
    last = t.position;
  }
  auto w = normalize_word(in);
  if (w && (w->size() > max_term_bytes || !confab::valid_utf8(*w))) std::abort();
  return 0;
}
