// APNs (HTTP/2 provider API) with token-based authentication: the ES256 provider JWT, a cache
// that re-signs it at the pace Apple asks for, and the request (path, headers, payload) for a
// device.
//
// Apple rejects a provider token older than one hour and answers TooManyProviderTokenUpdates
// when one is replaced more often than every 20 minutes: apns_token_cache re-signs at
// refresh_after (clamped to 20..59 min; default 50) and never sooner than 20 min after the last
// signing, even when told the token expired.
#pragma once

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/thread_annotations.hpp"
#include "push/keys.hpp"
#include "push/notification.hpp"
#include "push/registration.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace confab::push {

inline constexpr std::size_t apns_max_payload = 4096;
inline constexpr std::size_t apns_collapse_id_max = 64;
inline constexpr std::chrono::minutes apns_min_refresh{20};
inline constexpr std::chrono::minutes apns_max_age{60};

// The provider JWT: header {"alg":"ES256","kid":key_id}, claims {"iss":team_id,"iat":now_s}.
// key_id and team_id are Apple's 10-character identifiers (invalid_field otherwise).
result<std::string> apns_jwt(const p256_key& key, std::string_view key_id, std::string_view team_id, std::int64_t now_s);

// Holds the current provider token. Thread-safe; the clock must outlive the cache.
class apns_token_cache {
 public:
  apns_token_cache(p256_key key, std::string key_id, std::string team_id, const clock& clk,
                   std::chrono::minutes refresh_after = std::chrono::minutes{50});
  // The current token, signed anew when none is held, when it is refresh_after old, or when
  // expired() was called and it is at least 20 minutes old.
  result<std::string> token() EXCLUDES(mu_);
  // APNs answered ExpiredProviderToken: re-sign at the next token() allowed by the 20-minute rule.
  void expired() EXCLUDES(mu_);

 private:
  p256_key key_;
  const std::string key_id_, team_id_;
  const clock& clock_;
  const std::chrono::minutes refresh_after_;
  mutex mu_;
  std::string token_ GUARDED_BY(mu_);
  clock::steady_time signed_at_ GUARDED_BY(mu_){};
  bool stale_ GUARDED_BY(mu_) = false;
};

enum class apns_push_type { alert, background };

struct apns_request {
  std::string path;  // "/3/device/<token>", on apns_host(environment)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON, at most apns_max_payload bytes
};

// "api.push.apple.com" or "api.sandbox.push.apple.com" (the sender makes these configurable).
std::string_view apns_host(apns_environment env);

// A message is an alert (apns-priority 10) with the badge, thread-id and mutable-content (so an
// app extension can fetch the content), a title/body only when sender/preview are present and a
// loc-key otherwise; a clear is a background push (content-available, priority 5) with the badge.
// apns-expiration is now_s + ttl_s, apns-collapse-id the conversation's collapse key.
// too_large beyond apns_max_payload.
result<apns_request> apns_build(const apns_target& to, const notification& n, std::string_view provider_token,
                                std::int64_t now_s);

}  // namespace confab::push
