#include "push/jwt.hpp"

#include "push/base64url.hpp"

#include <boost/json/serialize.hpp>

namespace confab::push {
namespace {

std::string signing_input(std::string_view alg, const boost::json::object& header_extra, const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = alg;
  for (const auto& kv : header_extra) header[kv.key()] = kv.value();
  return base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(boost::json::serialize(claims));
}

}  // namespace

result<std::string> jwt_es256(const p256_key& key, const boost::json::object& header_extra, const boost::json::object& claims) {
  std::string input = signing_input("ES256", header_extra, claims);
  CONFAB_TRY_RESULT(sig, key.sign_es256(input));
  return input + "." + base64url_encode(*sig);
}

result<std::string> jwt_rs256(const rsa_key& key, const boost::json::object& header_extra, const boost::json::object& claims) {
  std::string input = signing_input("RS256", header_extra, claims);
  CONFAB_TRY_RESULT(sig, key.sign_rs256(input));
  return input + "." + base64url_encode(*sig);
}

}  // namespace confab::push
