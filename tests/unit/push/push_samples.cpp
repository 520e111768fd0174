// push_samples: writes what Confab's push code produces for inputs that another implementation
// chose, so that tests/push-standins/check.mjs can check it with independent npm packages
// (http_ece decrypts the Web Push body with the subscription's private key, jose verifies the
// JWTs). Usage: push_samples <input.json> <output.json>. The input is
//   {"now": unix seconds, "plaintext": "...", "subscription": {"endpoint","keys":{"p256dh","auth"}},
//    "allowed_origins": [...], "vapid_pem": "...", "vapid_subject": "...",
//    "service_account": {...Google key file...}, "apns_pem": "...", "apns_key_id", "apns_team_id"}
// and the output names each sample (see check.mjs). Exit status 1 with a message on any error.
#include "push/apns.hpp"
#include "push/base64url.hpp"
#include "push/ece.hpp"
#include "push/fcm.hpp"
#include "push/registration.hpp"
#include "push/vapid.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using namespace confab;
using namespace confab::push;

struct failure {
  std::string what;
};

template <class T>
T must(result<T>&& r, std::string_view step) {
  if (!r) throw failure{std::string(step) + ": " + r.error().message};
  return std::move(*r);
}

std::string str(const boost::json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

std::span<const std::uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

boost::json::object webpush_samples(const boost::json::value& in, std::int64_t now) {
  endpoint_policy policy;
  for (const auto& o : in.at("allowed_origins").as_array()) policy.allowed_origins.emplace_back(o.as_string());
  const auto target = must(parse_target(boost::json::value{{"kind", "webpush"},
                                                           {"endpoint", in.at("subscription").at("endpoint")},
                                                           {"keys", in.at("subscription").at("keys")}},
                                        policy),
                           "subscription");
  const auto& sub = std::get<webpush_target>(target);
  const std::string plaintext = str(in, "plaintext");
  const auto vapid = must(p256_key::from_pem(str(in, "vapid_pem")), "vapid_pem");
  const auto origin = must(check_endpoint(sub.endpoint, policy), "endpoint");
  boost::json::object out;
  out["webpush_body"] = base64url_encode(must(encrypt_aes128gcm(sub, bytes_of(plaintext)), "encrypt"));
  out["webpush_body_padded"] = base64url_encode(must(encrypt_aes128gcm(sub, bytes_of(plaintext), {4096, 100}), "encrypt padded"));
  out["vapid_authorization"] = must(vapid_authorization(vapid, {origin, str(in, "vapid_subject"), now, 12 * 3600}), "vapid");
  out["vapid_public_key"] = vapid_public_key(vapid);
  return out;
}

boost::json::object provider_samples(const boost::json::value& in, std::int64_t now) {
  boost::json::object out;
  const auto sa = must(parse_service_account(boost::json::serialize(in.at("service_account"))), "service_account");
  out["fcm_assertion"] = must(fcm_assertion(sa, now), "fcm assertion");
  notification n;
  n.conversation_id = 42;
  n.seq = 7;
  n.unread = 3;
  out["fcm_message"] = must(fcm_message({"standin-token"}, n), "fcm message");
  const auto apns_key = must(p256_key::from_pem(str(in, "apns_pem")), "apns_pem");
  out["apns_jwt"] = must(apns_jwt(apns_key, str(in, "apns_key_id"), str(in, "apns_team_id"), now), "apns jwt");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: push_samples <input.json> <output.json>\n";
    return 2;
  }
  try {
    std::ifstream f(argv[1]);
    std::stringstream text;
    text << f.rdbuf();
    const auto in = boost::json::parse(text.str());
    const std::int64_t now = in.at("now").as_int64();
    auto out = webpush_samples(in, now);
    for (auto& kv : provider_samples(in, now)) out[kv.key()] = kv.value();
    std::ofstream(argv[2]) << boost::json::serialize(out);
    return 0;
  } catch (const failure& e) {
    std::cerr << "push_samples: " << e.what << "\n";
  } catch (const std::exception& e) {
    std::cerr << "push_samples: " << e.what() << "\n";
  }
  return 1;
}
