// Helpers of the push tests: keys made with OpenSSL directly, JWT pieces, and signature checks
// that do not go through the code under test.
#pragma once

#include "core/error.hpp"

#include <boost/json/value.hpp>

#include <stdexcept>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace confab::push::test {

// A fresh PEM (PKCS#8) private key: EC P-256, or RSA of the given bits.
std::string new_ec_pem(const char* curve);
inline std::string new_p256_pem() { return new_ec_pem("P-256"); }
std::string new_rsa_pem(int bits = 2048);
// The public half of a PEM private key, as a PEM public key.
std::string public_pem_of(const std::string& private_pem);

// The value of a result that must hold one; throws (a test failure) otherwise. (result::value()
// cannot throw confab::error: its throw_exception_from_error is not found from boost's template.)
template <class T>
T must(result<T>&& r) {
  if (!r) throw std::runtime_error("unexpected error: " + r.error().message);
  return std::move(*r);
}

std::vector<std::uint8_t> b64u(std::string_view text);  // decodes or fails the test (empty)

struct jwt_parts {
  boost::json::value header, claims;
  std::string signing_input;
  std::vector<std::uint8_t> signature;
};
jwt_parts split_jwt(std::string_view jwt);

// OpenSSL's own verification: ES256 (JOSE r || s, turned into DER here) and RS256.
bool openssl_verify_es256(const std::string& public_pem, const jwt_parts& jwt);
bool openssl_verify_rs256(const std::string& public_pem, const jwt_parts& jwt);

}  // namespace confab::push::test
