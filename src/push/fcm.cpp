#include "push/fcm.hpp"

#include "push/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace confab::push {
namespace {

result<std::string> required(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return make_error(errc::missing_field, std::string(name) + ": missing");
  if (!v->is_string() || v->get_string().empty())
    return make_error(errc::invalid_field, std::string(name) + ": must be a non-empty string");
  return std::string(v->get_string());
}

}  // namespace

result<service_account> parse_service_account(std::string_view json) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return make_error(errc::malformed, "service account: not a JSON object");
  const auto& o = v.get_object();
  if (const auto* type = o.if_contains("type"); type && !(type->is_string() && type->get_string() == "service_account"))
    return make_error(errc::invalid_field, "type: must be \"service_account\"");
  CONFAB_TRY_RESULT(project_id, required(o, "project_id"));
  CONFAB_TRY_RESULT(client_email, required(o, "client_email"));
  CONFAB_TRY_RESULT(token_uri, required(o, "token_uri"));
  CONFAB_TRY_RESULT(pem, required(o, "private_key"));
  CONFAB_TRY_RESULT(key, rsa_key::from_pem(*pem));
  std::string kid;
  if (const auto* k = o.if_contains("private_key_id"); k && k->is_string()) kid = std::string(k->get_string());
  return service_account{std::move(*project_id), std::move(*client_email), std::move(kid), std::move(*token_uri),
                         std::move(*key)};
}

result<std::string> fcm_assertion(const service_account& sa, std::int64_t now_s) {
  boost::json::object header{{"typ", "JWT"}};
  if (!sa.private_key_id.empty()) header["kid"] = sa.private_key_id;
  boost::json::object claims;
  claims["iss"] = sa.client_email;
  claims["scope"] = fcm_scope;
  claims["aud"] = sa.token_uri;
  claims["iat"] = now_s;
  claims["exp"] = now_s + fcm_assertion_lifetime_s;
  return jwt_rs256(sa.key, header, claims);
}

std::string fcm_token_request_body(std::string_view assertion) {
  // A JWS is base64url and dots only: nothing in it needs form encoding.
  return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + std::string(assertion);
}

std::string fcm_send_path(const service_account& sa) { return "/v1/projects/" + sa.project_id + "/messages:send"; }

result<std::string> fcm_message(const fcm_target& to, const notification& n) {
  boost::json::object data;
  data["type"] = to_string(n.kind);
  data["conversation_id"] = std::to_string(n.conversation_id);
  data["seq"] = std::to_string(n.seq);
  data["unread"] = std::to_string(n.unread);
  if (n.sender) data["sender"] = *n.sender;
  if (n.preview) data["preview"] = *n.preview;
  if (boost::json::serialize(data).size() > fcm_max_payload)
    return make_error(errc::too_large, "payload: larger than " + std::to_string(fcm_max_payload) + " bytes");
  boost::json::object android;
  android["collapse_key"] = collapse_key(n);
  android["priority"] = n.kind == notification_kind::clear ? "NORMAL" : "HIGH";
  android["ttl"] = std::to_string(n.ttl_s) + "s";
  boost::json::object message;
  message["token"] = to.token;
  message["data"] = std::move(data);
  message["android"] = std::move(android);
  return boost::json::serialize(boost::json::object{{"message", std::move(message)}});
}

}  // namespace confab::push
