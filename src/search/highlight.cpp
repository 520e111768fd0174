#include "search/highlight.hpp"

#include "search/tokenizer.hpp"

#include <set>
#include <string>

namespace confab::search {

std::vector<std::pair<std::uint32_t, std::uint32_t>> highlights(std::string_view text, const query& q) {
  std::set<std::string, std::less<>> exact;
  std::vector<std::string_view> prefixes;
  for (const auto& p : q.include)
    for (std::size_t i = 0; i < p.terms.size(); ++i) {
      if (p.prefix && i + 1 == p.terms.size()) prefixes.push_back(p.terms[i]);
      else exact.insert(p.terms[i]);
    }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  auto toks = tokenize(text);
  if (!toks) return out;
  for (const auto& t : *toks) {
    bool hit = exact.contains(t.term);
    for (auto pre : prefixes) hit = hit || std::string_view(t.term).starts_with(pre);
    if (!hit) continue;
    if (!out.empty() && t.begin <= out.back().second) out.back().second = std::max(out.back().second, t.end);
    else out.emplace_back(t.begin, t.end);
  }
  return out;
}

}  // namespace confab::search
