// libFuzzer target for the reaction emoji check (chat/emoji.hpp): the emoji field is any string a
// client sends. Every input must be answered ok or invalid_field (never another code, a crash or a
// hang); what is accepted is non-empty, at most max_emoji_bytes, valid UTF-8, and stops being one
// emoji when doubled.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g. (libFuzzer writes new inputs to the
// first folder, so give it a scratch one before the seed corpus):
//   mkdir -p /tmp/emoji-corpus
//   build/clang/tests/fuzz/emoji_fuzz -max_total_time=60 /tmp/emoji-corpus tests/fuzz/corpus/emoji
#include "chat/emoji.hpp"
#include "core/utf8.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace confab;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = chat::check_emoji(in);
  if (!r) {
    if (r.error().code != errc::invalid_field) std::abort();
    return 0;
  }
  if (in.empty() || in.size() > chat::max_emoji_bytes || !valid_utf8(in)) std::abort();
  if (chat::check_emoji(std::string(in) + std::string(in))) std::abort();  // two are never one
  return 0;
}
