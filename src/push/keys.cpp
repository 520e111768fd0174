#include "push/keys.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstring>

namespace confab::push {

void detail::pkey_free::operator()(evp_pkey_st* k) const noexcept { EVP_PKEY_free(k); }

namespace {

struct ctx_free {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
  void operator()(BIO* b) const noexcept { BIO_free(b); }
  void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
template <class T>
using owned = std::unique_ptr<T, ctx_free>;

error openssl_failure(const char* what) { return make_error(errc::internal, std::string("OpenSSL: ") + what + " failed"); }

bool is_p256(EVP_PKEY* k) {
  if (!EVP_PKEY_is_a(k, "EC")) return false;
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) return false;
  return std::strcmp(name, "prime256v1") == 0 || std::strcmp(name, "P-256") == 0;
}

detail::pkey_ptr read_pem_private(std::string_view pem) {
  owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return detail::pkey_ptr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Builds an EC P-256 key from OpenSSL parameters (selection: public key, or key pair).
detail::pkey_ptr p256_fromdata(std::span<const std::uint8_t> pub, const BIGNUM* priv) {
  owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  if (!OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) ||
      (priv && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv)))
    return nullptr;
  owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* out = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return detail::pkey_ptr(out);
}

bool check_key(EVP_PKEY* k, bool pair) {
  owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr));
  if (!ctx) return false;
  return (pair ? EVP_PKEY_pairwise_check(ctx.get()) : EVP_PKEY_public_check(ctx.get())) == 1;
}

result<bytes> digest_sign(EVP_PKEY* k, std::string_view message) {
  owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  size_t len = 0;
  if (!md || EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, k, nullptr) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return openssl_failure("DigestSign init");
  bytes sig(len);
  if (EVP_DigestSign(md.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return openssl_failure("DigestSign");
  sig.resize(len);
  return sig;
}

}  // namespace

result<p256_key> p256_key::generate() {
  detail::pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!k) return openssl_failure("P-256 key generation");
  return p256_key(std::move(k), true);
}

result<p256_key> p256_key::from_pem(std::string_view pem) {
  auto k = read_pem_private(pem);
  if (!k) return make_error(errc::invalid_field, "private key: not a PEM private key");
  if (!is_p256(k.get())) return make_error(errc::invalid_field, "private key: not a P-256 (prime256v1) key");
  if (!check_key(k.get(), true)) return make_error(errc::invalid_field, "private key: invalid P-256 key pair");
  return p256_key(std::move(k), true);
}

result<p256_key> p256_key::from_raw(std::span<const std::uint8_t> priv32, std::span<const std::uint8_t> pub65) {
  if (priv32.size() != 32) return make_error(errc::invalid_field, "private key: must be 32 bytes");
  if (pub65.size() != 65 || pub65[0] != 0x04) return make_error(errc::invalid_field, "public key: must be an uncompressed point (65 bytes)");
  owned<BIGNUM> d(BN_bin2bn(priv32.data(), 32, nullptr));
  if (!d) return openssl_failure("BN_bin2bn");
  auto k = p256_fromdata(pub65, d.get());
  if (!k || !check_key(k.get(), true)) return make_error(errc::invalid_field, "private key: does not match the public key");
  return p256_key(std::move(k), true);
}

result<p256_key> p256_key::from_public(std::span<const std::uint8_t> pub65) {
  if (pub65.size() != 65 || pub65[0] != 0x04)
    return make_error(errc::invalid_field, "public key: must be an uncompressed P-256 point (65 bytes, 0x04 first)");
  auto k = p256_fromdata(pub65, nullptr);
  if (!k || !check_key(k.get(), false)) return make_error(errc::invalid_field, "public key: not a point on the P-256 curve");
  return p256_key(std::move(k), false);
}

p256_point p256_key::public_point() const {
  p256_point out{};
  out[0] = 0x04;
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  owned<BIGNUM> ox(x), oy(y);
  if (x && y) {
    BN_bn2binpad(x, out.data() + 1, 32);
    BN_bn2binpad(y, out.data() + 33, 32);
  }
  return out;
}

result<bytes> p256_key::derive(const p256_key& peer) const {
  owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return openssl_failure("ECDH init");
  bytes secret(len);
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1) return openssl_failure("ECDH");
  secret.resize(len);
  return secret;
}

result<bytes> p256_key::sign_es256(std::string_view message) const {
  CONFAB_TRY_RESULT(der, digest_sign(key_.get(), message));
  const unsigned char* p = der->data();
  owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size())));
  if (!sig) return openssl_failure("d2i_ECDSA_SIG");
  bytes out(64);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + 32, 32) != 32)
    return openssl_failure("ECDSA r||s");
  return out;
}

bool p256_key::verify_es256(std::string_view message, std::span<const std::uint8_t> sig64) const {
  if (sig64.size() != 64) return false;
  owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(sig64.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(sig64.data() + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  const bool ok = md && EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_.get(), nullptr) == 1 &&
                  EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

result<rsa_key> rsa_key::from_pem(std::string_view pem) {
  auto k = read_pem_private(pem);
  if (!k) return make_error(errc::invalid_field, "private_key: not a PEM private key");
  if (!EVP_PKEY_is_a(k.get(), "RSA")) return make_error(errc::invalid_field, "private_key: not an RSA key");
  if (EVP_PKEY_get_bits(k.get()) < 2048) return make_error(errc::invalid_field, "private_key: RSA key shorter than 2048 bits");
  return rsa_key(std::move(k));
}

result<bytes> rsa_key::sign_rs256(std::string_view message) const { return digest_sign(key_.get(), message); }

result<bytes> random_bytes(std::size_t n) {
  bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) return openssl_failure("RAND_bytes");
  return out;
}

}  // namespace confab::push
