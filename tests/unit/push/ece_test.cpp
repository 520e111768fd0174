// push/ece.hpp: RFC 8291 aes128gcm, checked against the RFC's own example and decrypted back.
#include "push/base64url.hpp"
#include "push/ece.hpp"

#include "unit/push/test_util.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace confab::push {
namespace {

using test::b64u;

// RFC 8291 Appendix A.
const char* const rfc_plaintext = "When I grow up, I want to be a watermelon";
const char* const rfc_as_public = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const char* const rfc_as_private = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const char* const rfc_ua_public = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const char* const rfc_ua_private = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const char* const rfc_salt = "DGv6ra1nlYgDCS1FRnbzlw";
const char* const rfc_auth = "BTBZMqHH6r4Tts7J_aSIgg";
const char* const rfc_body =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_"
    "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

std::span<const std::uint8_t> text(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// The user agent's side (RFC 8291 section 3.4 and RFC 8188), for round trips: the plaintext
// with its delimiter and padding, or nullopt if the tag does not verify.
std::optional<bytes> decrypt(const bytes& body, const p256_key& ua, std::span<const std::uint8_t> auth) {
  if (body.size() < ece_header_bytes + 16 || body[20] != 65) return std::nullopt;
  const std::span<const std::uint8_t> salt(body.data(), 16), as_pub(body.data() + 21, 65);
  auto as = test::must(p256_key::from_public(as_pub));
  auto secret = test::must(ua.derive(as));
  const auto ua_pub = ua.public_point();
  bytes key_info(14 + 65 + 65);
  const std::string_view label("WebPush: info\0", 14);
  std::copy(label.begin(), label.end(), key_info.begin());
  std::copy(ua_pub.begin(), ua_pub.end(), key_info.begin() + 14);
  std::copy(as_pub.begin(), as_pub.end(), key_info.begin() + 79);
  auto ikm = test::must(hkdf_sha256(auth, secret, key_info, 32));
  auto cek = test::must(hkdf_sha256(salt, ikm, text(std::string_view("Content-Encoding: aes128gcm\0", 28)), 16));
  auto nonce = test::must(hkdf_sha256(salt, ikm, text(std::string_view("Content-Encoding: nonce\0", 24)), 12));
  const std::size_t ct_len = body.size() - ece_header_bytes - 16;
  bytes out(ct_len);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0, fin = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, cek.data(), nonce.data()) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &len, body.data() + ece_header_bytes, static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<std::uint8_t*>(body.data() + body.size() - 16)) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

TEST(PushEce, ReproducesRfc8291AppendixA) {
  auto as = p256_key::from_raw(b64u(rfc_as_private), b64u(rfc_as_public));
  ASSERT_TRUE(as) << as.error().message;
  EXPECT_EQ(base64url_encode(as->public_point()), rfc_as_public);
  const auto ua_pub = b64u(rfc_ua_public), auth = b64u(rfc_auth), salt = b64u(rfc_salt);
  auto body = encrypt_aes128gcm(std::span<const std::uint8_t, 65>(ua_pub.data(), 65), std::span<const std::uint8_t, 16>(auth.data(), 16),
                                text(rfc_plaintext), ece_params{4096, 0}, *as, std::span<const std::uint8_t, 16>(salt.data(), 16));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(base64url_encode(*body), rfc_body);
}

TEST(PushEce, TheRfcUserAgentDecryptsTheRfcBody) {
  const auto ua = test::must(p256_key::from_raw(b64u(rfc_ua_private), b64u(rfc_ua_public)));
  auto plain = decrypt(b64u(rfc_body), ua, b64u(rfc_auth));
  ASSERT_TRUE(plain);
  EXPECT_EQ(std::string(plain->begin(), plain->end()), std::string(rfc_plaintext) + "\x02");
}

TEST(PushEce, RoundTripsWithFreshKeysAndPadding) {
  const auto ua = test::must(p256_key::generate());
  webpush_target to;
  to.p256dh = ua.public_point();
  to.auth = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const std::string msg = R"({"type":"message","conversation_id":42,"seq":7,"unread":3})";
  auto a = encrypt_aes128gcm(to, text(msg), ece_params{4096, 10});
  auto b = encrypt_aes128gcm(to, text(msg), ece_params{4096, 10});
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // a new salt and key each time
  EXPECT_EQ(a->size(), ece_header_bytes + msg.size() + 1 + 10 + 16);
  EXPECT_EQ((*a)[16], 0);
  EXPECT_EQ((*a)[18], 0x10);  // rs = 4096, big-endian
  EXPECT_EQ((*a)[20], 65);
  auto plain = decrypt(*a, ua, to.auth);
  ASSERT_TRUE(plain);
  EXPECT_EQ(std::string(plain->begin(), plain->end()), msg + "\x02" + std::string(10, '\0'));
  // Another subscription's key, or a flipped bit, fails the tag.
  EXPECT_FALSE(decrypt(*a, test::must(p256_key::generate()), to.auth));
  auto tampered = *a;
  tampered[ece_header_bytes + 3] ^= 0x40;
  EXPECT_FALSE(decrypt(tampered, ua, to.auth));
}

TEST(PushEce, RefusesRecordSizesThatCannotHoldTheMessage) {
  webpush_target to;
  to.p256dh = test::must(p256_key::generate()).public_point();
  const std::string msg(100, 'x');
  EXPECT_EQ(encrypt_aes128gcm(to, text(msg), ece_params{17, 0}).error().code, errc::invalid_field);
  EXPECT_EQ(encrypt_aes128gcm(to, text(msg), ece_params{116, 0}).error().code, errc::invalid_field);
  EXPECT_TRUE(encrypt_aes128gcm(to, text(msg), ece_params{117, 0}));
  EXPECT_EQ(encrypt_aes128gcm(to, text(msg), ece_params{117, 1}).error().code, errc::invalid_field);
}

TEST(PushEce, RefusesBodiesOverTheWebPushLimit) {
  webpush_target to;
  to.p256dh = test::must(p256_key::generate()).public_point();
  auto max = encrypt_aes128gcm(to, text(std::string(webpush_max_plaintext, 'x')));
  ASSERT_TRUE(max) << max.error().message;
  EXPECT_EQ(max->size(), webpush_max_body);
  auto over = encrypt_aes128gcm(to, text(std::string(webpush_max_plaintext + 1, 'x')), ece_params{8192, 0});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, errc::too_large);
  EXPECT_EQ(encrypt_aes128gcm(to, text("hi"), ece_params{8192, webpush_max_plaintext}).error().code, errc::too_large);
}

TEST(PushEce, RefusesAnOffCurveSubscriptionKey) {
  webpush_target to;
  to.p256dh[0] = 0x04;  // (0, 0)
  EXPECT_EQ(encrypt_aes128gcm(to, text("hi")).error().code, errc::invalid_field);
}

// RFC 5869 Appendix A.1 (HKDF-SHA-256), test case 1.
TEST(PushEce, HkdfMatchesRfc5869) {
  const bytes ikm(22, 0x0b);
  const bytes salt = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const bytes info = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9};
  auto okm = test::must(hkdf_sha256(salt, ikm, info, 42));
  EXPECT_EQ(base64url_encode(okm), base64url_encode(bytes{
      0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf,
      0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65}));
}

}  // namespace
}  // namespace confab::push
