#include "push/registration.hpp"

#include "push/base64url.hpp"
#include "push/keys.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace confab::push {
namespace {

error bad(std::string_view field, std::string_view why) {
  return make_error(errc::invalid_field, std::string(field) + ": " + std::string(why));
}

bool fcm_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ':';
}
bool hex_char(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool topic_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Reverse-DNS bundle id: at least two dot-separated labels of letters, digits and '-'.
bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > apns_topic_max) return false;
  std::size_t labels = 0, start = 0;
  for (std::size_t i = 0; i <= t.size(); ++i) {
    if (i < t.size() && t[i] != '.') {
      if (!topic_char(t[i])) return false;
      continue;
    }
    if (i == start) return false;
    ++labels;
    start = i + 1;
  }
  return labels >= 2;
}

// The string member `name` of o (`field` is how errors name it).
result<std::string_view> member(const boost::json::object& o, std::string_view name, std::string_view field) {
  const auto* v = o.if_contains(name);
  if (!v) return make_error(errc::missing_field, std::string(field) + ": missing");
  if (!v->is_string()) return bad(field, "must be a string");
  const auto& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

}  // namespace

result<fcm_target> parse_fcm_token(std::string_view token) {
  if (token.empty()) return bad("token", "empty");
  if (token.size() > fcm_token_max) return bad("token", "longer than " + std::to_string(fcm_token_max) + " bytes");
  if (!std::all_of(token.begin(), token.end(), fcm_char)) return bad("token", "characters outside [A-Za-z0-9_:-]");
  return fcm_target{std::string(token)};
}

result<apns_target> parse_apns(std::string_view device_token, std::string_view topic, std::string_view environment) {
  if (device_token.size() < apns_token_min || device_token.size() > apns_token_max || device_token.size() % 2 != 0)
    return bad("token", "must be an even number of hex digits, 64 to 200");
  if (!std::all_of(device_token.begin(), device_token.end(), hex_char)) return bad("token", "must be hex digits");
  if (!valid_topic(topic)) return bad("topic", "must be a bundle id (com.example.app)");
  apns_target t;
  if (environment == "production") t.environment = apns_environment::production;
  else if (environment == "sandbox") t.environment = apns_environment::sandbox;
  else return bad("environment", "must be \"production\" or \"sandbox\"");
  t.device_token.assign(device_token);
  for (char& c : t.device_token)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  t.topic.assign(topic);
  return t;
}

result<webpush_target> parse_webpush(std::string_view endpoint, std::string_view p256dh, std::string_view auth,
                                     const endpoint_policy& policy) {
  CONFAB_TRY_RESULT(origin, check_endpoint(endpoint, policy));
  webpush_target t;
  t.endpoint.assign(endpoint);
  const auto key = base64url_decode(p256dh);
  if (!key) return bad("keys.p256dh", "not base64url");
  if (key->size() != 65 || (*key)[0] != 0x04) return bad("keys.p256dh", "must be an uncompressed P-256 point (65 bytes)");
  if (!p256_key::from_public(*key)) return bad("keys.p256dh", "not a point on the P-256 curve");
  std::copy(key->begin(), key->end(), t.p256dh.begin());
  const auto secret = base64url_decode(auth);
  if (!secret) return bad("keys.auth", "not base64url");
  if (secret->size() != 16) return bad("keys.auth", "must be 16 bytes");
  std::copy(secret->begin(), secret->end(), t.auth.begin());
  return t;
}

result<push_target> parse_target(const boost::json::value& v, const endpoint_policy& policy) {
  if (!v.is_object()) return make_error(errc::malformed, "registration: not a JSON object");
  const auto& o = v.get_object();
  CONFAB_TRY_RESULT(kind, member(o, "kind", "kind"));
  if (*kind == "fcm") {
    CONFAB_TRY_RESULT(token, member(o, "token", "token"));
    CONFAB_TRY_RESULT(t, parse_fcm_token(*token));
    return push_target(std::move(*t));
  }
  if (*kind == "apns") {
    CONFAB_TRY_RESULT(token, member(o, "token", "token"));
    CONFAB_TRY_RESULT(topic, member(o, "topic", "topic"));
    CONFAB_TRY_RESULT(env, member(o, "environment", "environment"));
    CONFAB_TRY_RESULT(t, parse_apns(*token, *topic, *env));
    return push_target(std::move(*t));
  }
  if (*kind == "webpush") {
    CONFAB_TRY_RESULT(endpoint, member(o, "endpoint", "endpoint"));
    const auto* keys = o.if_contains("keys");
    if (!keys) return make_error(errc::missing_field, "keys: missing");
    if (!keys->is_object()) return bad("keys", "must be an object");
    CONFAB_TRY_RESULT(p256dh, member(keys->get_object(), "p256dh", "keys.p256dh"));
    CONFAB_TRY_RESULT(auth, member(keys->get_object(), "auth", "keys.auth"));
    CONFAB_TRY_RESULT(t, parse_webpush(*endpoint, *p256dh, *auth, policy));
    return push_target(std::move(*t));
  }
  return bad("kind", "must be \"fcm\", \"apns\" or \"webpush\"");
}

result<push_target> parse_target_json(std::string_view json_text, const endpoint_policy& policy) {
  if (json_text.size() > max_registration_bytes)
    return make_error(errc::too_large, "registration: larger than " + std::to_string(max_registration_bytes) + " bytes");
  boost::system::error_code ec;
  const auto v = boost::json::parse(json_text, ec);
  if (ec) return make_error(errc::malformed, "registration: not JSON");
  return parse_target(v, policy);
}

std::string_view to_string(apns_environment e) { return e == apns_environment::sandbox ? "sandbox" : "production"; }

}  // namespace confab::push
