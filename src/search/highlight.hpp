// Where a query's words are in a found message's text: byte ranges for clients to mark (offsets,
// not markup, so a client renders the text safely). Pure; any thread.
#pragma once

#include "search/query.hpp"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::search {

// The [begin, end) byte ranges of text's terms that are one of q's included terms (or start with
// a prefix phrase's last term), in order, overlapping ranges merged. Empty for a text the
// tokenizer refuses.
std::vector<std::pair<std::uint32_t, std::uint32_t>> highlights(std::string_view text, const query& q);

}  // namespace confab::search
