// libFuzzer target for the @mention tokenizer (chat/mentions.hpp): it reads message text, which
// any member can write. Every input must parse without a crash, and what it finds must obey the
// grammar: distinct ascending names of 1..32 username characters that are not the wildcards, each
// present in the input after an '@'.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g.:
//   mkdir -p /tmp/mentions-corpus
//   build/clang/tests/fuzz/mentions_fuzz -max_total_time=60 /tmp/mentions-corpus tests/fuzz/corpus/mentions
#include "chat/mentions.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = confab::chat::parse_mentions(in);
  if (!std::is_sorted(m.names.begin(), m.names.end())) std::abort();
  if (std::adjacent_find(m.names.begin(), m.names.end()) != m.names.end()) std::abort();
  for (const auto& n : m.names) {
    if (n.empty() || n.size() > 32 || n == "all" || n == "here" || n.back() == '.') std::abort();
    for (unsigned char c : n)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
        std::abort();
    if (in.find("@" + n) == std::string_view::npos) std::abort();
  }
  if (m.names.size() > size) std::abort();
  return 0;
}
