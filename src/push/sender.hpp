// The push senders: one object that sends a notification to an FCM, APNs or Web Push target over
// HTTPS (http_client; HTTP/2 where the provider offers it) and says what the provider answered in
// the four terms the push queue acts on.
//
// Outcome mapping (docs/push.md has the table):
//   2xx                                                          -> sent
//   Web Push 404, 410                                            -> dead_target
//   FCM 404 (UNREGISTERED); 400 INVALID_ARGUMENT about the token -> dead_target
//   APNs 410 (Unregistered); 400 BadDeviceToken, DeviceTokenNotForTopic -> dead_target
//   429, 5xx                                                     -> retry, with Retry-After (seconds or HTTP-date)
//   APNs 403 ExpiredProviderToken -> retry (the provider-token cache is told it expired)
//   FCM 401                       -> retry (the cached access token is dropped)
//   other 4xx, a target the configuration cannot serve, a payload the library refuses -> rejected
//   transport errors and timeouts -> retry (detail holds libcurl's text)
// detail is "<status> <provider reason>" (at most detail_max bytes) or the error text.
//
// FCM access tokens: the signed assertion (fcm_assertion) is exchanged at token_uri; the token is
// kept until fcm_token_margin before its expires_in, and concurrent sends share one in-flight
// token request. APNs provider tokens come from apns_token_cache.
//
// Threads: send() may be called from any thread and never blocks on the network; done is called
// exactly once, on the HTTP client's thread or (for errors found before any request, and after
// the sender began to be destroyed) on the calling thread. The destructor completes pending sends
// with a retry outcome before returning; done must not destroy the sender.
#pragma once

#include "core/clock.hpp"
#include "core/thread_annotations.hpp"
#include "push/apns.hpp"
#include "push/fcm.hpp"
#include "push/http_client.hpp"
#include "push/keys.hpp"
#include "push/notification.hpp"
#include "push/registration.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::push {

struct send_outcome {
  enum class status { sent, dead_target, retry, rejected } st = status::sent;
  int http_status = 0;  // 0 when no HTTP answer was received
  std::optional<std::chrono::seconds> retry_after;
  std::string detail;
};

std::string_view to_string(send_outcome::status s);

inline constexpr std::size_t detail_max = 300;
inline constexpr std::chrono::seconds fcm_token_margin{120};
// A Retry-After beyond this is clamped: a broken header must not park a target for years.
inline constexpr std::chrono::seconds retry_after_max{24 * 3600};

struct apns_config {
  p256_key key;         // the .p8 key
  std::string key_id;   // Apple's 10-character key id
  std::string team_id;  // Apple's 10-character team id
  std::string base_url; // empty: https://api.push.apple.com or https://api.sandbox.push.apple.com by environment
};

struct sender_config {
  std::optional<p256_key> vapid;  // Web Push is refused without it
  std::string vapid_subject;      // "mailto:..." or "https://..."
  std::optional<service_account> fcm;
  std::string fcm_base_url = "https://fcm.googleapis.com";
  std::string fcm_token_url;      // empty: the service account's token_uri
  std::optional<apns_config> apns;
  endpoint_policy endpoints;      // Web Push endpoints are re-checked against it before each send
  http_client_options http;       // ca_file, timeouts, allow_non_public (stand-ins), ...
};

enum class provider { webpush, fcm, apns };

// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
// asctime form) relative to now_s. A date in the past gives 0; anything unparsable gives nullopt;
// values are clamped to retry_after_max. Pure.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_s);

// The outcome for an HTTP answer or transport error (status 0), by the table above. Pure; the
// side effects of 401/403 (dropping tokens) are the sender's.
send_outcome map_response(provider p, const http_response& r, std::int64_t now_s);

class sender {
 public:
  // clk drives the APNs token cache and token expiry; it must outlive the sender.
  explicit sender(sender_config cfg, const clock& clk = real_clock::instance());
  ~sender();
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  // idempotency_key goes to APNs as apns-id, so it must be a UUID (push_worker's keys are).
  void send(const push_target& to, const notification& n, std::string idempotency_key,
            std::function<void(send_outcome)> done);

  // Number of OAuth token requests made so far (for tests and metrics).
  std::uint64_t fcm_token_requests() const EXCLUDES(fcm_mu_);

 private:
  using token_waiter = std::function<void(std::optional<std::string> token, send_outcome failure)>;
  void send_webpush(const webpush_target& t, const notification& n, std::function<void(send_outcome)> done);
  void send_fcm(const fcm_target& t, const notification& n, std::function<void(send_outcome)> done);
  void send_apns(const apns_target& t, const notification& n, std::string id, std::function<void(send_outcome)> done);
  void with_fcm_token(token_waiter w) EXCLUDES(fcm_mu_);
  void on_fcm_token(const http_response& r) EXCLUDES(fcm_mu_);
  void drop_fcm_token(const std::string& token) EXCLUDES(fcm_mu_);
  std::int64_t now_s() const { return clock_.system_ms() / 1000; }

  sender_config cfg_;
  const clock& clock_;
  std::unique_ptr<apns_token_cache> apns_tokens_;
  mutable mutex fcm_mu_;
  std::string fcm_token_ GUARDED_BY(fcm_mu_);
  clock::steady_time fcm_token_until_ GUARDED_BY(fcm_mu_){};
  bool fcm_fetching_ GUARDED_BY(fcm_mu_) = false;
  std::vector<token_waiter> fcm_waiters_ GUARDED_BY(fcm_mu_);
  std::uint64_t fcm_token_requests_ GUARDED_BY(fcm_mu_) = 0;
  http_client http_;  // last: stopped first, while everything its callbacks touch still exists
};

}  // namespace confab::push
