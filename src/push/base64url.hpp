// base64url (RFC 4648 section 5) as JOSE and Web Push use it: encoded without '=' padding.
// Pure functions (libsodium's constant-time codec), thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confab::push {

// Unpadded base64url of the bytes.
std::string base64url_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::string_view data);
// Decodes unpadded base64url; up to two trailing '=' are tolerated (some clients pad). nullopt on
// any other character, an impossible length or non-zero trailing bits.
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace confab::push
