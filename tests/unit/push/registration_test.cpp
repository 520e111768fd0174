// push/registration.hpp: registrations are untrusted; every bad field is refused by name.
#include "push/base64url.hpp"
#include "push/keys.hpp"
#include "push/registration.hpp"

#include "unit/push/test_util.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace confab::push {
namespace {

const std::string fcm_token = "dXN5Qm9zbGpQZUe8Fq0q1h:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx2Tj6b-DW9eK1k_0sx1Iw1nV0h8E";
const std::string apns_token(64, 'a');
const std::string endpoint = "https://fcm.googleapis.com/fcm/send/cJ2vX9:APA91bF";

std::string p256dh() {
  static const std::string key = base64url_encode(test::must(p256_key::generate()).public_point());
  return key;
}
std::string auth16() { return base64url_encode(std::string(16, '\x5a')); }

// The error's code, and its message begins with the field's name.
void expect_error(const error& e, errc code, std::string_view field) {
  EXPECT_EQ(e.code, code) << e.message;
  EXPECT_EQ(e.message.substr(0, field.size() + 1), std::string(field) + ":") << e.message;
}

template <class T>
void expect_field_error(const result<T>& r, std::string_view field, errc code = errc::invalid_field) {
  ASSERT_FALSE(r.has_value()) << "expected an error on " << field;
  expect_error(r.error(), code, field);
}

TEST(PushRegistration, AcceptsFcmTokens) {
  auto t = parse_fcm_token(fcm_token);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->token, fcm_token);
  EXPECT_TRUE(parse_fcm_token(std::string(fcm_token_max, 'A')));
}

TEST(PushRegistration, RefusesBadFcmTokens) {
  expect_field_error(parse_fcm_token(""), "token");
  expect_field_error(parse_fcm_token(std::string(fcm_token_max + 1, 'A')), "token");
  for (const char* bad : {"abc def", "abc/def", "abc+def", "abc=", "tok\n", "t\xc3\xa9"}) expect_field_error(parse_fcm_token(bad), "token");
}

TEST(PushRegistration, AcceptsApnsTargetsAndLowerCasesTheToken) {
  auto t = parse_apns(std::string(64, 'A'), "com.example.chat", "sandbox");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->device_token, std::string(64, 'a'));
  EXPECT_EQ(t->environment, apns_environment::sandbox);
  EXPECT_TRUE(parse_apns(std::string(200, '0'), "com.example.chat.voip", "production"));
  EXPECT_TRUE(parse_apns(std::string(100, 'f'), "io.confab-app.ios", "production"));
}

TEST(PushRegistration, RefusesBadApnsTargets) {
  expect_field_error(parse_apns(std::string(62, 'a'), "com.example.chat", "production"), "token");
  expect_field_error(parse_apns(std::string(65, 'a'), "com.example.chat", "production"), "token");
  expect_field_error(parse_apns(std::string(202, 'a'), "com.example.chat", "production"), "token");
  expect_field_error(parse_apns(std::string(63, 'a') + "g", "com.example.chat", "production"), "token");
  expect_field_error(parse_apns("", "com.example.chat", "production"), "token");
  for (const char* topic : {"", "chat", "com..example", ".com.example", "com.example.", "com.exa mple", "com.example/chat", "com.ex_ample"})
    expect_field_error(parse_apns(apns_token, topic, "production"), "topic");
  expect_field_error(parse_apns(apns_token, std::string(apns_topic_max, 'a') + ".b", "production"), "topic");
  for (const char* env : {"", "Production", "development", "prod"}) expect_field_error(parse_apns(apns_token, "com.example.chat", env), "environment");
}

TEST(PushRegistration, AcceptsWebPushSubscriptions) {
  auto t = parse_webpush(endpoint, p256dh(), auth16(), {});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->endpoint, endpoint);
  EXPECT_EQ(base64url_encode(t->p256dh), p256dh());
  std::array<std::uint8_t, 16> want_auth{};
  want_auth.fill(0x5a);
  EXPECT_EQ(t->auth, want_auth);
  // Padded base64url is tolerated.
  EXPECT_TRUE(parse_webpush(endpoint, p256dh() + "=", auth16() + "==", {}));
}

TEST(PushRegistration, RefusesBadP256dh) {
  auto bad = [](const std::string& key) { expect_field_error(parse_webpush(endpoint, key, auth16(), {}), "keys.p256dh"); };
  bad("");
  bad("not base64!");
  bad(p256dh() + "+");
  bad(p256dh().substr(1));                                                // 64 bytes and a bit
  bad(base64url_encode(std::string(64, '\x04')));                         // 64 bytes
  auto point = test::must(p256_key::generate()).public_point();
  std::string compressed(33, '\0');
  compressed[0] = static_cast<char>(0x02 | (point[64] & 1));
  std::copy(point.begin() + 1, point.begin() + 33, compressed.begin() + 1);
  bad(base64url_encode(compressed));                                      // compressed form
  auto wrong_prefix = point;
  wrong_prefix[0] = 0x05;
  bad(base64url_encode(wrong_prefix));
  auto off_curve = point;
  off_curve[64] ^= 0x01;  // y changed: (x, y') is not on the curve
  bad(base64url_encode(off_curve));
  std::array<std::uint8_t, 65> zero{};
  zero[0] = 0x04;
  bad(base64url_encode(zero));                                            // (0, 0)
  std::array<std::uint8_t, 65> big{};
  big.fill(0xFF);
  big[0] = 0x04;
  bad(base64url_encode(big));                                             // coordinates above the field prime
}

TEST(PushRegistration, RefusesBadAuth) {
  auto bad = [](const std::string& auth) { expect_field_error(parse_webpush(endpoint, p256dh(), auth, {}), "keys.auth"); };
  bad("");
  bad(base64url_encode(std::string(15, 'a')));
  bad(base64url_encode(std::string(17, 'a')));
  bad(base64url_encode(std::string(32, 'a')));
  bad("AAAAAAAAAAAAAAAAAAAAA*");
  bad("AAAAAAAAAAAAAAAAAAAAAB");  // 22 characters, but non-zero trailing bits
  bad("AAAAAAAAAAAAAAAAAA\x9f\xa4\xce\x90");  // libsodium alone would decode these bytes
  bad("AAAAAAAAAAAAAAAAAAAAAA==="); // too much padding
  bad("AAAAAAAAAAAAAAAAAAAA+/");   // standard base64, not base64url
}

TEST(PushRegistration, RefusesEndpointsThatAreNotPublicHttps) {
  const char* bad[] = {
      "",
      "http://fcm.googleapis.com/fcm/send/x",
      "ftp://fcm.googleapis.com/x",
      "fcm.googleapis.com/fcm/send/x",
      "https://",
      "https:///path",
      "https://user:pw@fcm.googleapis.com/x",
      "https://fcm.googleapis.com/x#frag",
      "https://fcm.googleapis.com:0/x",
      "https://fcm.googleapis.com:99999/x",
      "https://fcm.googleapis.com:/x",
      "https://127.0.0.1/x",
      "https://127.1/x",
      "https://2130706433/x",
      "https://0x7f000001/x",
      "https://10.0.0.8/x",
      "https://192.168.0.1:8443/x",
      "https://172.20.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://0.0.0.0/x",
      "https://[::1]/x",
      "https://[fe80::1]/x",
      "https://[fd00::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:a00:1]/x",
      "https://localhost/x",
      "https://push.localhost/x",
      "https://LOCALHOST/x",
      "https://256.0.0.1/x",
      "https://exa%6dple.com/x",
      "https://exa_mple.com/x",
      "https://example.com./x",
      "https://a..b/x",
      "https://[v1.x]/x",
      "https://exa mple.com/x",
      "https://example.com/a b",
      "https://example.com/\x01",
      "https://example.com/a\\b",
      "https://example.com/<script>",
      "https://example.com/\xc3\xa9",
      "h:\x04",
  };
  for (const char* e : bad) expect_field_error(parse_webpush(e, p256dh(), auth16(), {}), "endpoint");
  expect_field_error(parse_webpush("https://example.com/" + std::string(2048, 'a'), p256dh(), auth16(), {}), "endpoint");
}

TEST(PushRegistration, EndpointsOfPublicHostsAndTheirOrigins) {
  const std::pair<const char*, const char*> ok[] = {
      {"https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com"},
      {"https://Updates.Push.Services.Mozilla.com/wpush/v2/gAAAA", "https://updates.push.services.mozilla.com"},
      {"https://web.push.apple.com:443/QGuQyavXutnMH", "https://web.push.apple.com"},
      {"HTTPS://example.com:8443/p?q=1", "https://example.com:8443"},
      {"https://8.8.8.8/x", "https://8.8.8.8"},
      {"https://[2606:4700:4700::1111]/x", "https://[2606:4700:4700::1111]"},
  };
  for (const auto& [e, origin] : ok) {
    auto r = check_endpoint(e, {});
    ASSERT_TRUE(r) << e << ": " << r.error().message;
    EXPECT_EQ(*r, origin);
  }
}

TEST(PushRegistration, AllowListedOriginsMayBeLoopbackOrHttp) {
  endpoint_policy policy;
  policy.allowed_origins = {"https://127.0.0.1:8443", "http://[::1]:9000", "HTTPS://LocalHost:7000"};
  EXPECT_TRUE(parse_webpush("https://127.0.0.1:8443/push/1", p256dh(), auth16(), policy));
  EXPECT_TRUE(parse_webpush("http://[::1]:9000/push/1", p256dh(), auth16(), policy));
  EXPECT_TRUE(parse_webpush("https://localhost:7000/push/1", p256dh(), auth16(), policy));
  // Another port, scheme or address of the same host is not on the list.
  expect_field_error(parse_webpush("https://127.0.0.1:8444/push/1", p256dh(), auth16(), policy), "endpoint");
  expect_field_error(parse_webpush("http://127.0.0.1:8443/push/1", p256dh(), auth16(), policy), "endpoint");
  expect_field_error(parse_webpush("https://127.0.0.2:8443/push/1", p256dh(), auth16(), policy), "endpoint");
  expect_field_error(parse_webpush("https://[::1]:9000/push/1", p256dh(), auth16(), policy), "endpoint");
}

TEST(PushRegistration, ParsesJsonRegistrations) {
  auto f = parse_target_json(R"({"kind":"fcm","token":")" + fcm_token + R"(","extra":1})", endpoint_policy{});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(std::get<fcm_target>(*f).token, fcm_token);
  auto a = parse_target_json(R"({"kind":"apns","token":")" + apns_token + R"(","topic":"com.example.chat","environment":"production"})",
                        endpoint_policy{});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(std::get<apns_target>(*a).topic, "com.example.chat");
  auto w = parse_target_json(R"({"kind":"webpush","endpoint":")" + endpoint + R"(","keys":{"p256dh":")" + p256dh() +
                            R"(","auth":")" + auth16() + R"("}})",
                        endpoint_policy{});
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(std::get<webpush_target>(*w).endpoint, endpoint);
}

TEST(PushRegistration, JsonErrorsNameTheField) {
  const endpoint_policy p;
  EXPECT_EQ(parse_target_json("not json", p).error().code, errc::malformed);
  EXPECT_EQ(parse_target_json("[1,2]", p).error().code, errc::malformed);
  EXPECT_EQ(parse_target_json(R"({"kind":"fcm","token":")" + std::string(max_registration_bytes, 'a') + "\"}", p).error().code, errc::too_large);
  expect_field_error(parse_target_json(R"({})", p), "kind", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":7})", p), "kind");
  expect_field_error(parse_target_json(R"({"kind":"gcm"})", p), "kind");
  expect_field_error(parse_target_json(R"({"kind":"fcm"})", p), "token", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"fcm","token":null})", p), "token");
  expect_field_error(parse_target_json(R"({"kind":"apns","token":")" + apns_token + R"("})", p), "topic", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"apns","token":")" + apns_token + R"(","topic":"com.a.b"})", p), "environment",
                     errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"webpush","keys":{}})", p), "endpoint", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"webpush","endpoint":")" + endpoint + R"("})", p), "keys", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"webpush","endpoint":")" + endpoint + R"(","keys":"x"})", p), "keys");
  expect_field_error(parse_target_json(R"({"kind":"webpush","endpoint":")" + endpoint + R"(","keys":{"auth":"x"}})", p), "keys.p256dh",
                     errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"webpush","endpoint":")" + endpoint + R"(","keys":{"p256dh":")" + p256dh() + R"("}})", p),
                     "keys.auth", errc::missing_field);
  expect_field_error(parse_target_json(R"({"kind":"webpush","endpoint":"http://x.com/","keys":{"p256dh":"a","auth":"b"}})", p), "endpoint");
}

}  // namespace
}  // namespace confab::push
