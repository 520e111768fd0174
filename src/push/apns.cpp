#include "push/apns.hpp"

#include "push/jwt.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace confab::push {
namespace {

bool apple_id(std::string_view s) {
  return s.size() == 10 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

boost::json::object aps_of(const notification& n) {
  boost::json::object aps;
  aps["badge"] = n.unread;
  if (n.kind == notification_kind::clear) {
    aps["content-available"] = 1;
    return aps;
  }
  boost::json::object alert;
  if (n.sender) alert["title"] = *n.sender;
  if (n.preview) alert["body"] = *n.preview;
  if (!n.sender && !n.preview) alert["loc-key"] = "confab.new_message";
  aps["alert"] = std::move(alert);
  aps["sound"] = "default";
  aps["mutable-content"] = 1;
  aps["thread-id"] = collapse_key(n);
  return aps;
}

}  // namespace

result<std::string> apns_jwt(const p256_key& key, std::string_view key_id, std::string_view team_id, std::int64_t now_s) {
  if (!apple_id(key_id)) return make_error(errc::invalid_field, "key_id: must be Apple's 10-character key id");
  if (!apple_id(team_id)) return make_error(errc::invalid_field, "team_id: must be Apple's 10-character team id");
  boost::json::object claims;
  claims["iss"] = team_id;
  claims["iat"] = now_s;
  return jwt_es256(key, {{"kid", key_id}}, claims);
}

apns_token_cache::apns_token_cache(p256_key key, std::string key_id, std::string team_id, const clock& clk,
                                   std::chrono::minutes refresh_after)
    : key_(std::move(key)),
      key_id_(std::move(key_id)),
      team_id_(std::move(team_id)),
      clock_(clk),
      refresh_after_(std::clamp(refresh_after, apns_min_refresh, apns_max_age - std::chrono::minutes{1})) {}

result<std::string> apns_token_cache::token() {
  lock_guard lock(mu_);
  const auto now = clock_.steady();
  const auto age = now - signed_at_;
  const bool due = token_.empty() || age >= refresh_after_ || (stale_ && age >= apns_min_refresh);
  if (!due) return token_;
  CONFAB_TRY_RESULT(jwt, apns_jwt(key_, key_id_, team_id_, clock_.system_ms() / 1000));
  token_ = std::move(*jwt);
  signed_at_ = now;
  stale_ = false;
  return token_;
}

void apns_token_cache::expired() {
  lock_guard lock(mu_);
  stale_ = true;
}

std::string_view apns_host(apns_environment env) {
  return env == apns_environment::sandbox ? "api.sandbox.push.apple.com" : "api.push.apple.com";
}

result<apns_request> apns_build(const apns_target& to, const notification& n, std::string_view provider_token,
                                std::int64_t now_s) {
  boost::json::object payload;
  payload["aps"] = aps_of(n);
  payload["type"] = to_string(n.kind);
  payload["conversation_id"] = n.conversation_id;
  payload["seq"] = n.seq;
  apns_request r;
  r.body = boost::json::serialize(payload);
  if (r.body.size() > apns_max_payload)
    return make_error(errc::too_large, "payload: larger than " + std::to_string(apns_max_payload) + " bytes");
  const bool alert = n.kind == notification_kind::message;
  r.path = "/3/device/" + to.device_token;
  r.headers = {{"authorization", "bearer " + std::string(provider_token)},
               {"apns-topic", to.topic},
               {"apns-push-type", alert ? "alert" : "background"},
               {"apns-priority", alert ? "10" : "5"},
               {"apns-expiration", std::to_string(n.ttl_s > 0 ? now_s + n.ttl_s : 0)},
               {"apns-collapse-id", collapse_key(n)}};
  return r;
}

}  // namespace confab::push
