#include "chat/mentions.hpp"

#include <algorithm>

namespace confab::chat {
namespace {

bool name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

}  // namespace

mention_tokens parse_mentions(std::string_view text) {
  mention_tokens out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@') continue;
    if (i > 0) {
      const auto prev = static_cast<unsigned char>(text[i - 1]);
      if (prev == '@' || name_char(prev)) continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && name_char(static_cast<unsigned char>(text[end]))) ++end;
    std::string_view run = text.substr(i + 1, end - i - 1);
    while (!run.empty() && run.back() == '.') run.remove_suffix(1);
    i = end - 1;  // the run is consumed whole: "@ana@bob" names ana only
    if (run.empty() || run.size() > 32) continue;
    if (run == "all")
      out.all = true;
    else if (run == "here")
      out.here = true;
    else
      out.names.emplace_back(run);
  }
  std::sort(out.names.begin(), out.names.end());
  out.names.erase(std::unique(out.names.begin(), out.names.end()), out.names.end());
  return out;
}

}  // namespace confab::chat
