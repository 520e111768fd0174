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

}  // namespace confab::server
