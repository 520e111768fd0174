// VAPID (RFC 8292): the application server identifies itself to Web Push services with an ES256
// JWT signed by its P-256 key, sent as `Authorization: vapid t=<jwt>, k=<public key>`.
//
// The key is loaded once from a PEM private key (`openssl ecparam -name prime256v1 -genkey` or
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`); browsers subscribe with its
// public key (PushManager.subscribe's applicationServerKey), which vapid_public_key gives.
// Pure functions, thread-safe. Errors: invalid_field naming the bad claim.
#pragma once

#include "core/error.hpp"
#include "push/keys.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace confab::push {

inline constexpr std::int64_t vapid_max_lifetime_s = 24 * 3600;

// The uncompressed public point, base64url: the browser's applicationServerKey and the header's k=.
std::string vapid_public_key(const p256_key& key);

struct vapid_claims {
  std::string audience;            // the endpoint's origin (check_endpoint's result): "https://host[:port]"
  std::string subject;             // "mailto:admin@example.com" or an https URL
  std::int64_t now_s = 0;          // Unix seconds
  std::int64_t lifetime_s = 12 * 3600;  // exp = now_s + lifetime_s; 1 s .. 24 h
};

// The signed JWT: header {"alg":"ES256","typ":"JWT"}, claims {"aud","exp","sub"}.
result<std::string> vapid_jwt(const p256_key& key, const vapid_claims& claims);
// The Authorization header value: "vapid t=<jwt>, k=<vapid_public_key>".
result<std::string> vapid_authorization(const p256_key& key, const vapid_claims& claims);

}  // namespace confab::push
