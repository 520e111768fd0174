#include "push/vapid.hpp"

#include "push/base64url.hpp"
#include "push/jwt.hpp"

namespace confab::push {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

result<nothing> check_claims(const vapid_claims& c) {
  const bool origin_only = (starts_with(c.audience, "https://") || starts_with(c.audience, "http://")) &&
                           c.audience.find('/', c.audience.find("//") + 2) == std::string::npos &&
                           c.audience.find_first_of("?#") == std::string::npos && c.audience.back() != '/';
  if (!origin_only) return make_error(errc::invalid_field, "aud: must be an origin (https://host[:port])");
  const bool mailto = starts_with(c.subject, "mailto:") && c.subject.size() > 7;
  const bool https = starts_with(c.subject, "https://") && c.subject.size() > 8;
  if (!mailto && !https) return make_error(errc::invalid_field, "sub: must be a mailto: or https: contact");
  if (c.lifetime_s < 1 || c.lifetime_s > vapid_max_lifetime_s) return make_error(errc::invalid_field, "exp: must be within 24 hours");
  if (c.now_s <= 0) return make_error(errc::invalid_field, "exp: the current time is unset");
  return nothing{};
}

}  // namespace

std::string vapid_public_key(const p256_key& key) { return base64url_encode(key.public_point()); }

result<std::string> vapid_jwt(const p256_key& key, const vapid_claims& c) {
  CONFAB_TRY_RESULT(ok, check_claims(c));
  boost::json::object claims;
  claims["aud"] = c.audience;
  claims["exp"] = c.now_s + c.lifetime_s;
  claims["sub"] = c.subject;
  return jwt_es256(key, {{"typ", "JWT"}}, claims);
}

result<std::string> vapid_authorization(const p256_key& key, const vapid_claims& c) {
  CONFAB_TRY_RESULT(jwt, vapid_jwt(key, c));
  return "vapid t=" + *jwt + ", k=" + vapid_public_key(key);
}

}  // namespace confab::push
