// Reaction emoji: exactly one emoji, checked against Unicode's emoji data (ICU). Pure, no I/O;
// the input is untrusted (a client's field), so every byte string is answered, never trusted.
//
// An emoji here is one extended grapheme cluster (UAX #29) that is an RGI emoji or emoji
// sequence (UTS #51: single emoji, keycaps, flags, modifier, tag and ZWJ sequences), as ICU's
// RGI_Emoji property says. Threads: safe (each thread keeps its own break iterator).
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <string_view>

namespace confab::chat {

// Longer input is refused before ICU sees it; the longest RGI sequences are under 40 bytes.
inline constexpr std::size_t max_emoji_bytes = 64;

// ok, or invalid_field ("field emoji must be exactly one emoji") for anything else: empty, over
// max_emoji_bytes, invalid UTF-8, text, two emoji, an emoji with trailing characters.
result<nothing> check_emoji(std::string_view s);

}  // namespace confab::chat
