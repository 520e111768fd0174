// libFuzzer target for push registrations (push/registration.hpp): the JSON a device sends to
// register an FCM token, an APNs token or a Web Push subscription, and the host classifier its
// endpoint goes through. Every input must be handled without a crash, and what is accepted must
// obey the rules: a token of the allowed characters and lengths, an endpoint that passes the
// check again with an https scheme (or the allow-listed origin), a p256dh on the curve.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g.:
//   mkdir -p /tmp/push-corpus
//   build/clang/tests/fuzz/push_fuzz -max_total_time=60 /tmp/push-corpus tests/fuzz/corpus/push
#include "push/address.hpp"
#include "push/base64url.hpp"
#include "push/keys.hpp"
#include "push/registration.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace confab::push;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_target(const push_target& t, const endpoint_policy& policy) {
  if (const auto* f = std::get_if<fcm_target>(&t)) {
    check(!f->token.empty() && f->token.size() <= fcm_token_max && parse_fcm_token(f->token).has_value());
  } else if (const auto* a = std::get_if<apns_target>(&t)) {
    check(a->device_token.size() % 2 == 0 && a->device_token.size() >= apns_token_min && a->device_token.size() <= apns_token_max);
    for (char c : a->device_token) check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  } else {
    const auto& w = std::get<webpush_target>(t);
    const auto origin = check_endpoint(w.endpoint, policy);
    check(origin.has_value());
    check(origin->rfind("https://", 0) == 0 || *origin == policy.allowed_origins[0]);
    check(w.p256dh[0] == 0x04 && p256_key::from_public(w.p256dh).has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  endpoint_policy policy;
  policy.allowed_origins = {"http://127.0.0.1:8080"};
  if (auto t = parse_target_json(in, policy)) check_target(*t, policy);
  // The same bytes as an endpoint, a host and base64url.
  if (auto origin = check_endpoint(in, policy)) check(origin->size() <= in.size() + 1);
  (void)classify_host(in.substr(0, 300));
  if (auto raw = base64url_decode(in)) {
    std::string_view unpadded = in;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
    check(base64url_encode(*raw) == unpadded);
  }
  return 0;
}
