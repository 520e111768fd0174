#include "unit/push/test_util.hpp"

#include "push/base64url.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>

#include <memory>

namespace confab::push::test {
namespace {

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* k, bool public_only) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (public_only) PEM_write_bio_PUBKEY(bio.get(), k);
  else PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(bio.get());
}

EVP_PKEY* read_key(const std::string& pem, bool public_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return public_key ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)
                    : PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
}

bool verify(const std::string& public_pem, const std::string& input, const unsigned char* sig, std::size_t len) {
  EVP_PKEY* k = read_key(public_pem, true);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  const bool ok = k && md && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, k) == 1 &&
                  EVP_DigestVerify(md, sig, len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(k);
  return ok;
}

}  // namespace

std::string new_ec_pem(const char* curve) {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  std::string pem = pem_of(k, false);
  EVP_PKEY_free(k);
  return pem;
}

std::string new_rsa_pem(int bits) {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  std::string pem = pem_of(k, false);
  EVP_PKEY_free(k);
  return pem;
}

std::string public_pem_of(const std::string& private_pem) {
  EVP_PKEY* k = read_key(private_pem, false);
  std::string pem = k ? pem_of(k, true) : std::string();
  EVP_PKEY_free(k);
  return pem;
}

std::vector<std::uint8_t> b64u(std::string_view text) {
  auto d = base64url_decode(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(std::vector<std::uint8_t>{});
}

jwt_parts split_jwt(std::string_view jwt) {
  jwt_parts p;
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a + 1);
  EXPECT_NE(a, std::string_view::npos);
  EXPECT_NE(b, std::string_view::npos);
  if (a == std::string_view::npos || b == std::string_view::npos) return p;
  auto text = [](const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); };
  p.header = boost::json::parse(text(b64u(jwt.substr(0, a))));
  p.claims = boost::json::parse(text(b64u(jwt.substr(a + 1, b - a - 1))));
  p.signing_input = std::string(jwt.substr(0, b));
  p.signature = b64u(jwt.substr(b + 1));
  return p;
}

bool openssl_verify_es256(const std::string& public_pem, const jwt_parts& jwt) {
  if (jwt.signature.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(jwt.signature.data(), 32, nullptr), BN_bin2bn(jwt.signature.data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  const bool ok = len > 0 && verify(public_pem, jwt.signing_input, der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return ok;
}

bool openssl_verify_rs256(const std::string& public_pem, const jwt_parts& jwt) {
  return verify(public_pem, jwt.signing_input, jwt.signature.data(), jwt.signature.size());
}

}  // namespace confab::push::test
