// FCM HTTP v1: the OAuth 2.0 service-account flow's signed assertion (RFC 7523, RS256) that is
// exchanged at token_uri for an access token, and the messages:send request body.
//
// Pure functions, thread-safe. Errors: missing_field / invalid_field naming the service-account
// field, malformed when the file is not a JSON object, too_large for a payload over
// fcm_max_payload.
#pragma once

#include "core/error.hpp"
#include "push/keys.hpp"
#include "push/notification.hpp"
#include "push/registration.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace confab::push {

inline constexpr std::string_view fcm_scope = "https://www.googleapis.com/auth/firebase.messaging";
inline constexpr std::int64_t fcm_assertion_lifetime_s = 3600;
inline constexpr std::size_t fcm_max_payload = 4096;

// The fields of a Google service-account key file that FCM needs.
struct service_account {
  std::string project_id;
  std::string client_email;
  std::string private_key_id;  // may be empty (then no "kid")
  std::string token_uri;       // https://oauth2.googleapis.com/token in Google's files
  rsa_key key;
};

// Parses the JSON key file (type "service_account"; project_id, client_email, token_uri and
// private_key required).
result<service_account> parse_service_account(std::string_view json);

// The JWT assertion: iss = client_email, scope = fcm_scope, aud = token_uri, iat = now_s,
// exp = now_s + 1 h; header kid = private_key_id.
result<std::string> fcm_assertion(const service_account& sa, std::int64_t now_s);
// The token request's form body (POST token_uri, application/x-www-form-urlencoded).
std::string fcm_token_request_body(std::string_view assertion);
// "/v1/projects/<project_id>/messages:send", relative to the configured FCM base URL.
std::string fcm_send_path(const service_account& sa);

// The messages:send body: a data-only message (every value a string) with the collapse key in
// android.collapse_key, priority high for messages and normal for clears. too_large when the
// serialized "data" object exceeds fcm_max_payload bytes.
result<std::string> fcm_message(const fcm_target& to, const notification& n);

}  // namespace confab::push
