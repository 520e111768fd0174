// Keys and signatures for push (OpenSSL 3, EVP APIs only): P-256 keys for ECDH (Web Push message
// encryption) and ES256 (VAPID, APNs), RSA keys for RS256 (FCM's service-account assertion).
//
// A key owns its EVP_PKEY; keys are movable, not copyable. Signing and deriving with one key from
// several threads at once is safe (OpenSSL keys are read-only once built; each call uses its own
// context). Failures are values: invalid_field for bad key material, internal when OpenSSL
// itself fails (out of memory, a broken RNG).
#pragma once

#include "core/error.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace confab::push {

using bytes = std::vector<std::uint8_t>;
// An uncompressed P-256 point: 0x04 || X (32 bytes) || Y (32 bytes).
using p256_point = std::array<std::uint8_t, 65>;

namespace detail {
struct pkey_free {
  void operator()(evp_pkey_st* k) const noexcept;
};
using pkey_ptr = std::unique_ptr<evp_pkey_st, pkey_free>;
}  // namespace detail

// A P-256 key pair, or (from_public) a public key only.
class p256_key {
 public:
  // A fresh key pair from OpenSSL's RNG.
  static result<p256_key> generate();
  // A PEM private key (PKCS#8 "PRIVATE KEY", as APNs .p8 files and `openssl genpkey` write, or
  // SEC1 "EC PRIVATE KEY"); invalid_field when it is not a P-256 private key.
  static result<p256_key> from_pem(std::string_view pem);
  // A raw private scalar with its public point; invalid_field unless they form a valid pair.
  static result<p256_key> from_raw(std::span<const std::uint8_t> priv32, std::span<const std::uint8_t> pub65);
  // A public key from an uncompressed point; invalid_field unless it is on the curve.
  static result<p256_key> from_public(std::span<const std::uint8_t> pub65);

  p256_point public_point() const;
  bool has_private() const { return has_private_; }
  // ECDH (the raw 32-byte X coordinate of the shared point) with a peer's public key.
  result<bytes> derive(const p256_key& peer) const;
  // ES256: an ECDSA-SHA-256 signature in JOSE form, r || s (64 bytes), not DER.
  result<bytes> sign_es256(std::string_view message) const;
  // Verifies a JOSE r || s signature (used by tests and by stand-ins).
  bool verify_es256(std::string_view message, std::span<const std::uint8_t> sig64) const;

  evp_pkey_st* get() const { return key_.get(); }

 private:
  p256_key(detail::pkey_ptr k, bool priv) : key_(std::move(k)), has_private_(priv) {}
  detail::pkey_ptr key_;
  bool has_private_ = false;
};

// An RSA private key (at least 2048 bits) for RS256.
class rsa_key {
 public:
  // A PEM private key (PKCS#8 "PRIVATE KEY" as in Google service-account files, or PKCS#1
  // "RSA PRIVATE KEY"); invalid_field when it is not an RSA key of 2048 bits or more.
  static result<rsa_key> from_pem(std::string_view pem);
  // RSASSA-PKCS1-v1_5 with SHA-256.
  result<bytes> sign_rs256(std::string_view message) const;
  evp_pkey_st* get() const { return key_.get(); }

 private:
  explicit rsa_key(detail::pkey_ptr k) : key_(std::move(k)) {}
  detail::pkey_ptr key_;
};

// n bytes from OpenSSL's RNG; internal if it fails.
result<bytes> random_bytes(std::size_t n);

}  // namespace confab::push
