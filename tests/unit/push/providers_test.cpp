// push/vapid.hpp, push/fcm.hpp, push/apns.hpp: JWTs verified back with OpenSSL, request builders,
// size limits, and the APNs token cache's timing on a manual clock.
#include "push/apns.hpp"
#include "push/base64url.hpp"
#include "push/fcm.hpp"
#include "push/notification.hpp"
#include "push/vapid.hpp"

#include "unit/push/test_util.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace confab::push {
namespace {

using namespace std::chrono_literals;
using test::split_jwt;

constexpr std::int64_t now_s = 1'700'000'000;

std::string service_account_json(const std::string& pem, const char* drop = nullptr) {
  boost::json::object o{{"type", "service_account"},
                        {"project_id", "confab-test"},
                        {"private_key_id", "0123abcd"},
                        {"private_key", pem},
                        {"client_email", "push@confab-test.iam.gserviceaccount.com"},
                        {"token_uri", "https://oauth2.googleapis.com/token"}};
  if (drop) o.erase(drop);
  return boost::json::serialize(o);
}

notification sample(notification_kind kind = notification_kind::message) {
  notification n;
  n.kind = kind;
  n.conversation_id = 42;
  n.seq = 7;
  n.unread = 3;
  n.ttl_s = 3600;
  return n;
}

TEST(PushVapid, JwtVerifiesWithOpenSsl) {
  const auto pem = test::new_p256_pem();
  auto key = p256_key::from_pem(pem);
  ASSERT_TRUE(key) << key.error().message;
  auto header = vapid_authorization(*key, {"https://fcm.googleapis.com", "mailto:ops@example.com", now_s, 12 * 3600});
  ASSERT_TRUE(header) << header.error().message;
  const std::string prefix = "vapid t=";
  ASSERT_EQ(header->substr(0, prefix.size()), prefix);
  const auto comma = header->find(", k=");
  ASSERT_NE(comma, std::string::npos);
  const auto jwt = split_jwt(header->substr(prefix.size(), comma - prefix.size()));
  EXPECT_EQ(jwt.header, boost::json::parse(R"({"alg":"ES256","typ":"JWT"})"));
  EXPECT_EQ(jwt.claims, boost::json::parse(R"({"aud":"https://fcm.googleapis.com","exp":1700043200,"sub":"mailto:ops@example.com"})"));
  EXPECT_EQ(jwt.signature.size(), 64u);
  EXPECT_TRUE(test::openssl_verify_es256(test::public_pem_of(pem), jwt));
  EXPECT_FALSE(test::openssl_verify_es256(test::public_pem_of(test::new_p256_pem()), jwt));
  // k= is the public key, which is also the browser's applicationServerKey.
  const auto k = header->substr(comma + 4);
  EXPECT_EQ(k, vapid_public_key(*key));
  EXPECT_EQ(test::b64u(k).size(), 65u);
  EXPECT_TRUE(p256_key::from_public(test::b64u(k)));
}

TEST(PushVapid, RefusesBadClaims) {
  auto key = test::must(p256_key::generate());
  auto code_and_field = [&](vapid_claims c, std::string_view field) {
    auto r = vapid_jwt(key, c);
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, errc::invalid_field);
    EXPECT_EQ(r.error().message.substr(0, field.size()), field) << r.error().message;
  };
  code_and_field({"https://push.example.com/path", "mailto:a@b.c", now_s, 3600}, "aud");
  code_and_field({"push.example.com", "mailto:a@b.c", now_s, 3600}, "aud");
  code_and_field({"", "mailto:a@b.c", now_s, 3600}, "aud");
  code_and_field({"https://push.example.com", "ops@example.com", now_s, 3600}, "sub");
  code_and_field({"https://push.example.com", "mailto:", now_s, 3600}, "sub");
  code_and_field({"https://push.example.com", "http://example.com", now_s, 3600}, "sub");
  code_and_field({"https://push.example.com", "mailto:a@b.c", now_s, 24 * 3600 + 1}, "exp");
  code_and_field({"https://push.example.com", "mailto:a@b.c", now_s, 0}, "exp");
  EXPECT_TRUE(vapid_jwt(key, {"https://push.example.com", "https://example.com/contact", now_s, 24 * 3600}));
}

TEST(PushKeys, PemLoadingRefusesOtherKeys) {
  EXPECT_EQ(p256_key::from_pem("not a key").error().code, errc::invalid_field);
  EXPECT_EQ(p256_key::from_pem(test::new_rsa_pem()).error().code, errc::invalid_field);
  EXPECT_EQ(rsa_key::from_pem(test::new_p256_pem()).error().code, errc::invalid_field);
  EXPECT_EQ(rsa_key::from_pem(test::new_rsa_pem(1024)).error().code, errc::invalid_field);
  EXPECT_EQ(p256_key::from_pem(test::new_ec_pem("P-384")).error().code, errc::invalid_field);
}

TEST(PushFcm, AssertionVerifiesWithThePublicKey) {
  const auto pem = test::new_rsa_pem();
  auto sa = parse_service_account(service_account_json(pem));
  ASSERT_TRUE(sa) << sa.error().message;
  EXPECT_EQ(fcm_send_path(*sa), "/v1/projects/confab-test/messages:send");
  auto assertion = fcm_assertion(*sa, now_s);
  ASSERT_TRUE(assertion) << assertion.error().message;
  const auto jwt = split_jwt(*assertion);
  EXPECT_EQ(jwt.header, boost::json::parse(R"({"alg":"RS256","typ":"JWT","kid":"0123abcd"})"));
  EXPECT_EQ(jwt.claims, boost::json::parse(R"({"iss":"push@confab-test.iam.gserviceaccount.com",
    "scope":"https://www.googleapis.com/auth/firebase.messaging","aud":"https://oauth2.googleapis.com/token",
    "iat":1700000000,"exp":1700003600})"));
  EXPECT_TRUE(test::openssl_verify_rs256(test::public_pem_of(pem), jwt));
  EXPECT_FALSE(test::openssl_verify_rs256(test::public_pem_of(test::new_rsa_pem()), jwt));
  EXPECT_EQ(fcm_token_request_body(*assertion),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + *assertion);
}

TEST(PushFcm, ServiceAccountErrorsNameTheField) {
  const auto pem = test::new_rsa_pem();
  for (const char* field : {"project_id", "client_email", "token_uri", "private_key"}) {
    auto r = parse_service_account(service_account_json(pem, field));
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, errc::missing_field);
    EXPECT_EQ(r.error().message, std::string(field) + ": missing");
  }
  EXPECT_EQ(parse_service_account("{").error().code, errc::malformed);
  EXPECT_EQ(parse_service_account("[]").error().code, errc::malformed);
  auto bad_key = parse_service_account(service_account_json("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().code, errc::invalid_field);
  EXPECT_EQ(bad_key.error().message.substr(0, 12), "private_key:");
  EXPECT_EQ(parse_service_account(service_account_json(test::new_p256_pem())).error().message.substr(0, 12), "private_key:");
  auto wrong_type = boost::json::parse(service_account_json(pem)).as_object();
  wrong_type["type"] = "authorized_user";
  EXPECT_EQ(parse_service_account(boost::json::serialize(wrong_type)).error().message.substr(0, 5), "type:");
  auto empty_email = boost::json::parse(service_account_json(pem)).as_object();
  empty_email["client_email"] = "";
  EXPECT_EQ(parse_service_account(boost::json::serialize(empty_email)).error().code, errc::invalid_field);
}

TEST(PushFcm, MessageIsDataOnlyWithCollapseKey) {
  auto body = fcm_message({"tok:en"}, sample());
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(boost::json::parse(*body), boost::json::parse(R"({"message":{"token":"tok:en",
    "data":{"type":"message","conversation_id":"42","seq":"7","unread":"3"},
    "android":{"collapse_key":"c42","priority":"HIGH","ttl":"3600s"}}})"));
  auto clear = fcm_message({"t"}, sample(notification_kind::clear));
  EXPECT_EQ(boost::json::parse(*clear).at("message").at("android").at("priority"), "NORMAL");
  EXPECT_EQ(boost::json::parse(*clear).at("message").at("data").at("type"), "clear");
  EXPECT_EQ(boost::json::parse(*clear).at("message").at("android").at("collapse_key"), "r42")
      << "a clear never replaces a message still held by the service";
}

TEST(PushFcm, RefusesPayloadsOverFourKilobytes) {
  auto n = sample();
  n.sender = "ann";
  n.preview = std::string(3900, 'p');
  EXPECT_TRUE(fcm_message({"t"}, n));
  n.preview = std::string(4096, 'p');
  auto r = fcm_message({"t"}, n);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::too_large);
}

TEST(PushApns, JwtVerifiesWithOpenSsl) {
  const auto pem = test::new_p256_pem();
  auto jwt_text = apns_jwt(test::must(p256_key::from_pem(pem)), "ABC123DEFG", "DEF123GHIJ", now_s);
  ASSERT_TRUE(jwt_text) << jwt_text.error().message;
  const auto jwt = split_jwt(*jwt_text);
  EXPECT_EQ(jwt.header, boost::json::parse(R"({"alg":"ES256","kid":"ABC123DEFG"})"));
  EXPECT_EQ(jwt.claims, boost::json::parse(R"({"iss":"DEF123GHIJ","iat":1700000000})"));
  EXPECT_TRUE(test::openssl_verify_es256(test::public_pem_of(pem), jwt));
  auto key = test::must(p256_key::from_pem(pem));
  EXPECT_EQ(apns_jwt(key, "abc", "DEF123GHIJ", now_s).error().message.substr(0, 7), "key_id:");
  EXPECT_EQ(apns_jwt(key, "ABC123DEFG", "DEF123GHI!", now_s).error().message.substr(0, 8), "team_id:");
}

TEST(PushApns, TokenCacheRefreshesBetweenTwentyAndSixtyMinutes) {
  manual_clock clk;
  apns_token_cache cache(test::must(p256_key::generate()), "ABC123DEFG", "DEF123GHIJ", clk);
  auto iat = [](const std::string& t) { return split_jwt(t).claims.at("iat").as_int64(); };
  const auto first = test::must(cache.token());
  EXPECT_EQ(iat(first), clk.system_ms() / 1000);
  clk.advance(10min);
  EXPECT_EQ(test::must(cache.token()), first);
  // Told it expired, but younger than 20 minutes: keep it (Apple refuses faster updates).
  cache.expired();
  EXPECT_EQ(test::must(cache.token()), first);
  clk.advance(9min);
  EXPECT_EQ(test::must(cache.token()), first);
  clk.advance(1min);  // 20 minutes: now it may be replaced
  const auto second = test::must(cache.token());
  EXPECT_NE(second, first);
  EXPECT_EQ(iat(second), iat(first) + 20 * 60);
  clk.advance(49min);
  EXPECT_EQ(test::must(cache.token()), second);  // not expired again: the normal 50-minute pace
  clk.advance(1min);  // 50 minutes old: replaced before APNs's one-hour limit
  const auto third = test::must(cache.token());
  EXPECT_NE(third, second);
  EXPECT_EQ(iat(third), iat(second) + 50 * 60);
}

TEST(PushApns, TokenCacheClampsItsRefreshInterval) {
  manual_clock clk;
  apns_token_cache eager(test::must(p256_key::generate()), "ABC123DEFG", "DEF123GHIJ", clk, 1min);
  const auto a = test::must(eager.token());
  clk.advance(19min);
  EXPECT_EQ(test::must(eager.token()), a);  // never more often than every 20 minutes
  clk.advance(1min);
  EXPECT_NE(test::must(eager.token()), a);
  apns_token_cache lazy(test::must(p256_key::generate()), "ABC123DEFG", "DEF123GHIJ", clk, 120min);
  const auto b = test::must(lazy.token());
  clk.advance(58min);
  EXPECT_EQ(test::must(lazy.token()), b);
  clk.advance(1min);
  EXPECT_NE(test::must(lazy.token()), b);  // at 59 minutes, before the hour
}

TEST(PushApns, AlertRequest) {
  const apns_target to{std::string(64, 'b'), "com.example.chat", apns_environment::production};
  auto r = apns_build(to, sample(), "JWT", now_s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "/3/device/" + std::string(64, 'b'));
  const std::vector<std::pair<std::string, std::string>> want = {
      {"authorization", "bearer JWT"}, {"apns-topic", "com.example.chat"}, {"apns-push-type", "alert"},
      {"apns-priority", "10"},         {"apns-expiration", "1700003600"}, {"apns-collapse-id", "c42"}};
  EXPECT_EQ(r->headers, want);
  EXPECT_EQ(boost::json::parse(r->body), boost::json::parse(R"({"aps":{"badge":3,"alert":{"loc-key":"confab.new_message"},
    "sound":"default","mutable-content":1,"thread-id":"c42"},"type":"message","conversation_id":42,"seq":7})"));
  auto n = sample();
  n.sender = "ann";
  n.preview = "hello";
  EXPECT_EQ(boost::json::parse(apns_build(to, n, "JWT", now_s)->body).at("aps").at("alert"),
            boost::json::parse(R"({"title":"ann","body":"hello"})"));
  EXPECT_EQ(apns_host(apns_environment::sandbox), "api.sandbox.push.apple.com");
}

TEST(PushApns, ClearIsABackgroundPush) {
  const apns_target to{std::string(64, 'b'), "com.example.chat", apns_environment::sandbox};
  auto r = apns_build(to, sample(notification_kind::clear), "JWT", now_s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers[2], (std::pair<std::string, std::string>{"apns-push-type", "background"}));
  EXPECT_EQ(r->headers[3], (std::pair<std::string, std::string>{"apns-priority", "5"}));
  EXPECT_EQ(boost::json::parse(r->body).at("aps"), boost::json::parse(R"({"badge":3,"content-available":1})"));
}

TEST(PushApns, RefusesPayloadsOverFourKilobytes) {
  const apns_target to{std::string(64, 'b'), "com.example.chat", apns_environment::production};
  auto n = sample();
  n.preview = std::string(3900, 'p');
  EXPECT_TRUE(apns_build(to, n, "JWT", now_s));
  n.preview = std::string(4096, 'p');
  EXPECT_EQ(apns_build(to, n, "JWT", now_s).error().code, errc::too_large);
}

TEST(PushWebPush, PayloadAndHeaders) {
  auto p = webpush_payload(sample());
  ASSERT_TRUE(p);
  EXPECT_EQ(boost::json::parse(*p), boost::json::parse(R"({"type":"message","conversation_id":42,"seq":7,"unread":3})"));
  const std::vector<std::pair<std::string, std::string>> want = {{"TTL", "3600"},
                                                                 {"Urgency", "high"},
                                                                 {"Topic", "c42"},
                                                                 {"Content-Encoding", "aes128gcm"},
                                                                 {"Content-Type", "application/octet-stream"}};
  EXPECT_EQ(webpush_headers(sample()), want);
  auto n = sample();
  n.preview = std::string(webpush_max_payload, 'p');
  EXPECT_EQ(webpush_payload(n).error().code, errc::too_large);
}

}  // namespace
}  // namespace confab::push
