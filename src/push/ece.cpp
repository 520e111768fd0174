#include "push/ece.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <string_view>

namespace confab::push {
namespace {

error openssl_failure(const char* what) { return make_error(errc::internal, std::string("OpenSSL: ") + what + " failed"); }

void append(bytes& out, std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
void append(bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
std::span<const std::uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

result<bytes> aes128gcm_seal(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce, const bytes& plain) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> cipher(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr), EVP_CIPHER_free);
  if (!ctx || !cipher || key.size() != 16 || nonce.size() != 12 ||
      EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key.data(), nonce.data(), nullptr) != 1)
    return openssl_failure("AES-128-GCM init");
  bytes out(plain.size() + 16);
  int len = 0, fin = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, plain.data(), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + len + fin) != 1)
    return openssl_failure("AES-128-GCM");
  out.resize(static_cast<std::size_t>(len + fin) + 16);
  return out;
}

}  // namespace

result<bytes> hkdf_sha256(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
                          std::span<const std::uint8_t> info, std::size_t length) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free);
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr, EVP_KDF_CTX_free);
  if (!ctx) return openssl_failure("HKDF fetch");
  char digest[] = "SHA256";
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads them.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return openssl_failure("HKDF");
  return out;
}

result<bytes> encrypt_aes128gcm(std::span<const std::uint8_t, 65> ua_public, std::span<const std::uint8_t, 16> auth_secret,
                                std::span<const std::uint8_t> plaintext, ece_params params, const p256_key& ephemeral,
                                std::span<const std::uint8_t, 16> salt) {
  if (params.record_size < 18) return make_error(errc::invalid_field, "record_size: below 18");
  if (plaintext.size() + params.padding + 17 > params.record_size)
    return make_error(errc::invalid_field, "record_size: the message does not fit one record");
  if (ece_header_bytes + plaintext.size() + params.padding + 17 > webpush_max_body)
    return make_error(errc::too_large, "payload: the encrypted message would exceed " + std::to_string(webpush_max_body) + " bytes");
  CONFAB_TRY_RESULT(ua, p256_key::from_public(ua_public));
  const p256_point as_public = ephemeral.public_point();
  CONFAB_TRY_RESULT(ecdh_secret, ephemeral.derive(*ua));
  // RFC 8291 section 3.4: key_info = "WebPush: info" || 0x00 || ua_public || as_public.
  bytes key_info;
  append(key_info, std::string_view("WebPush: info\0", 14));
  append(key_info, ua_public);
  append(key_info, as_public);
  CONFAB_TRY_RESULT(ikm, hkdf_sha256(auth_secret, *ecdh_secret, key_info, 32));
  // RFC 8188 section 2.2 and 2.3: the content-encryption key and the nonce (record 0: no XOR).
  CONFAB_TRY_RESULT(cek, hkdf_sha256(salt, *ikm, as_bytes(std::string_view("Content-Encoding: aes128gcm\0", 28)), 16));
  CONFAB_TRY_RESULT(nonce, hkdf_sha256(salt, *ikm, as_bytes(std::string_view("Content-Encoding: nonce\0", 24)), 12));
  bytes record(plaintext.begin(), plaintext.end());
  record.push_back(0x02);  // the last (and only) record's delimiter
  record.resize(record.size() + params.padding, 0x00);
  CONFAB_TRY_RESULT(sealed, aes128gcm_seal(*cek, *nonce, record));
  bytes body;
  body.reserve(ece_header_bytes + sealed->size());
  append(body, salt);
  for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<std::uint8_t>(params.record_size >> shift));
  body.push_back(65);
  append(body, as_public);
  append(body, *sealed);
  return body;
}

result<bytes> encrypt_aes128gcm(const webpush_target& to, std::span<const std::uint8_t> plaintext, ece_params params) {
  CONFAB_TRY_RESULT(ephemeral, p256_key::generate());
  CONFAB_TRY_RESULT(salt, random_bytes(16));
  return encrypt_aes128gcm(std::span<const std::uint8_t, 65>(to.p256dh), std::span<const std::uint8_t, 16>(to.auth), plaintext,
                           params, *ephemeral, std::span<const std::uint8_t, 16>(salt->data(), 16));
}

}  // namespace confab::push
