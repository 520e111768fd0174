// Compact JWS / JWT (RFC 7515, 7519): base64url(header) "." base64url(claims) "." base64url(sig).
// ES256 signatures are JOSE's raw r || s (RFC 7518 section 3.4), RS256 is RSASSA-PKCS1-v1_5.
// Pure functions, thread-safe; internal when OpenSSL fails.
#pragma once

#include "core/error.hpp"
#include "push/keys.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace confab::push {

// The header is {"alg": ...} followed by header_extra's members ("typ", "kid").
result<std::string> jwt_es256(const p256_key& key, const boost::json::object& header_extra, const boost::json::object& claims);
result<std::string> jwt_rs256(const rsa_key& key, const boost::json::object& header_extra, const boost::json::object& claims);

}  // namespace confab::push
