// Web Push message encryption: RFC 8291 over the RFC 8188 "aes128gcm" content coding.
//
// The body is one record (RFC 8291 section 4): salt (16) || rs (uint32, big-endian) || idlen (1,
// = 65) || keyid (the ephemeral public key, 65) || AES-128-GCM(plaintext || 0x02 || padding zeros).
// Send it with `Content-Encoding: aes128gcm`. Pure functions, thread-safe. Errors: invalid_field
// when the record size cannot hold the message in one record (or is below 18), too_large when the
// body would exceed webpush_max_body (what every push service must accept, RFC 8030 section 7.2),
// internal when OpenSSL fails.
#pragma once

#include "core/error.hpp"
#include "push/keys.hpp"
#include "push/registration.hpp"

#include <cstdint>
#include <span>

namespace confab::push {

inline constexpr std::size_t webpush_max_body = 4096;
inline constexpr std::size_t ece_header_bytes = 16 + 4 + 1 + 65;
// The largest plaintext that fits webpush_max_body without padding (header, delimiter, GCM tag).
inline constexpr std::size_t webpush_max_plaintext = webpush_max_body - ece_header_bytes - 1 - 16;

struct ece_params {
  std::uint32_t record_size = 4096;  // rs: at least plaintext + padding + 17
  std::size_t padding = 0;           // zero bytes after the delimiter (hides the length)
};

// With a fresh ephemeral key and salt from OpenSSL's RNG.
result<bytes> encrypt_aes128gcm(const webpush_target& to, std::span<const std::uint8_t> plaintext, ece_params params = {});

// With the ephemeral key pair and salt given (for the RFC 8291 Appendix A test vector).
result<bytes> encrypt_aes128gcm(std::span<const std::uint8_t, 65> ua_public, std::span<const std::uint8_t, 16> auth_secret,
                                std::span<const std::uint8_t> plaintext, ece_params params, const p256_key& ephemeral,
                                std::span<const std::uint8_t, 16> salt);

// HKDF-SHA-256 (RFC 5869), extract then expand.
result<bytes> hkdf_sha256(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
                          std::span<const std::uint8_t> info, std::size_t length);

}  // namespace confab::push
