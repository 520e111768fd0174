// Passwords (Argon2id via libsodium) and bearer tokens (256 random bits, stored only as a hash).
//
// hash_password and verify_password are deliberately slow: call them on a blocking thread pool,
// never on a network thread. All functions are thread-safe once init() returned true.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace confab::auth {

// Initialises libsodium; false if it cannot (then nothing else may be called).
bool init();

struct argon2_cost {
  unsigned long long ops = 2;           // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t mem_bytes = 64u << 20;    // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// An Argon2id encoded string (algorithm, cost and salt included); empty on out-of-memory.
std::string hash_password(std::string_view password, argon2_cost cost);
bool verify_password(std::string_view encoded, std::string_view password);

// A new bearer token: 32 random bytes, URL-safe base64 without padding (43 characters).
std::string new_token();
// What storage keeps: the hex BLAKE2b-256 of the token. Tokens are high-entropy, so no salt/stretch.
std::string token_hash(std::string_view token);

}  // namespace confab::auth
