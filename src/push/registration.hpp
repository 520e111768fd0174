// Push targets that devices register: an FCM registration token, an APNs device token with its
// topic and environment, or a Web Push subscription. Everything here is untrusted client input;
// the parsers accept only well-formed targets and say which field is wrong otherwise.
//
// Pure functions, thread-safe. Errors: missing_field when a field is absent, invalid_field when it
// is malformed, malformed for text that is not a JSON object, too_large for a registration over
// max_registration_bytes. An error's message starts with the field's name ("keys.p256dh: ...").
// The rules are in docs/push.md.
#pragma once

#include "core/error.hpp"

#include <boost/json/fwd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::push {

struct fcm_target {
  std::string token;  // [A-Za-z0-9_:-], 1..fcm_token_max bytes
  bool operator==(const fcm_target&) const = default;
};

enum class apns_environment { production, sandbox };

struct apns_target {
  std::string device_token;  // lower-case hex, even length 64..200
  std::string topic;         // the app's bundle id (with a suffix such as ".voip" where used)
  apns_environment environment = apns_environment::production;
  bool operator==(const apns_target&) const = default;
};

struct webpush_target {
  std::string endpoint;                 // an https URL (or an allow-listed origin's)
  std::array<std::uint8_t, 65> p256dh{};  // the browser's uncompressed P-256 point, on the curve
  std::array<std::uint8_t, 16> auth{};    // the authentication secret
  bool operator==(const webpush_target&) const = default;
};

using push_target = std::variant<fcm_target, apns_target, webpush_target>;

inline constexpr std::size_t fcm_token_max = 1024;
inline constexpr std::size_t apns_token_min = 64;
inline constexpr std::size_t apns_token_max = 200;
inline constexpr std::size_t apns_topic_max = 255;
inline constexpr std::size_t max_registration_bytes = 8192;

// Where Web Push endpoints may point. By default only https URLs whose host is a DNS name or a
// public IP address. An origin listed in allowed_origins ("https://127.0.0.1:8443", scheme, host
// and port as the endpoint spells them, port omitted when default) is accepted whatever its address
// and scheme: for test stand-ins and for push services on a private network.
struct endpoint_policy {
  std::vector<std::string> allowed_origins;
  std::size_t max_endpoint_bytes = 2048;
};

result<fcm_target> parse_fcm_token(std::string_view token);
result<apns_target> parse_apns(std::string_view device_token, std::string_view topic, std::string_view environment);
// p256dh and auth are base64url (unpadded; trailing '=' tolerated), as PushSubscription.toJSON() gives.
result<webpush_target> parse_webpush(std::string_view endpoint, std::string_view p256dh, std::string_view auth,
                                     const endpoint_policy& policy);

// Checks a Web Push endpoint URL alone, and returns its origin ("https://host[:port]"), which is
// also the VAPID audience. The host is lower-cased.
result<std::string> check_endpoint(std::string_view endpoint, const endpoint_policy& policy);

// A registration as JSON, one of
//   {"kind":"fcm","token":"..."}
//   {"kind":"apns","token":"...","topic":"com.example.app","environment":"production"}
//   {"kind":"webpush","endpoint":"https://...","keys":{"p256dh":"...","auth":"..."}}
// Unknown members are ignored (a newer client may send more).
result<push_target> parse_target(const boost::json::value& v, const endpoint_policy& policy);
result<push_target> parse_target_json(std::string_view json_text, const endpoint_policy& policy);

std::string_view to_string(apns_environment e);

}  // namespace confab::push
