#include "server/push_setup.hpp"

#include "push/vapid.hpp"

#include <fstream>
#include <sstream>

namespace confab::server {

namespace {

result<std::string> read_text(const std::string& path, std::string_view option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::invalid_field, "--" + std::string(option) + ": cannot read '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > (1 << 20)) return make_error(errc::invalid_field, "--" + std::string(option) + ": '" + path + "' is over 1 MiB");
  return s.str();
}

template <class T, class Parse>
result<std::optional<T>> load(const std::string& path, std::string_view option, Parse parse) {
  if (path.empty()) return std::optional<T>{};
  auto text = read_text(path, option);
  if (!text) return text.error();
  auto v = parse(*text);
  if (!v) return make_error(errc::invalid_field, "--" + std::string(option) + ": " + v.error().message);
  return std::optional<T>(std::move(*v));
}

}  // namespace

result<push_keys> load_push_keys(const push_config& c) {
  push_keys k;
  auto vapid = load<push::p256_key>(c.vapid_key_file, "push-vapid-key", [](std::string_view t) { return push::p256_key::from_pem(t); });
  if (!vapid) return vapid.error();
  k.vapid = std::move(*vapid);
  auto fcm = load<push::service_account>(c.fcm_account_file, "push-fcm-account",
                                         [](std::string_view t) { return push::parse_service_account(t); });
  if (!fcm) return fcm.error();
  k.fcm = std::move(*fcm);
  auto apns = load<push::p256_key>(c.apns_key_file, "push-apns-key", [](std::string_view t) { return push::p256_key::from_pem(t); });
  if (!apns) return apns.error();
  k.apns = std::move(*apns);
  if (k.apns && (c.apns_key_id.empty() || c.apns_team_id.empty()))
    return make_error(errc::invalid_field, "--push-apns-key needs --push-apns-key-id and --push-apns-team-id");
  return k;
}

void describe_push(const push_config& c, const push_keys& k, chat::push_options& out) {
  out.vapid_public_key = k.vapid ? push::vapid_public_key(*k.vapid) : std::string();
  out.fcm = k.fcm.has_value();
  out.apns = k.apns.has_value();
  out.grace_ms = c.grace.count();
}

bool any_provider(const push_keys& k) { return k.vapid || k.fcm || k.apns; }

push::sender_config sender_config_of(const push_config& c, push_keys k, const push::endpoint_policy& endpoints) {
  push::sender_config s;
  s.vapid = std::move(k.vapid);
  s.vapid_subject = c.vapid_subject;
  s.fcm = std::move(k.fcm);
  if (!c.fcm_url.empty()) s.fcm_base_url = c.fcm_url;
  s.fcm_token_url = c.fcm_token_url;
  if (k.apns) s.apns = push::apns_config{std::move(*k.apns), c.apns_key_id, c.apns_team_id, c.apns_url};
  s.endpoints = endpoints;
  s.http.ca_file = c.ca_file;
  s.http.timeout = c.timeout;
  s.http.allow_non_public =
      !endpoints.allowed_origins.empty() || !c.fcm_url.empty() || !c.fcm_token_url.empty() || !c.apns_url.empty();
  return s;
}

push_transport transport_of(push::sender& s) {
  return [&s](const push::push_target& to, const push::notification& n, std::string key, std::function<void(push_delivery)> done) {
    s.send(to, n, std::move(key), std::move(done));
  };
}

}  // namespace confab::server
