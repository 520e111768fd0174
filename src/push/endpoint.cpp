// Web Push endpoint URLs (registration.hpp: check_endpoint).
#include "push/address.hpp"
#include "push/registration.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>

namespace confab::push {
namespace {

error bad(std::string why) { return make_error(errc::invalid_field, "endpoint: " + why); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// A DNS name: letters, digits, '-' and '.', labels of 1..63, at most 253, no trailing dot.
bool valid_dns_name(std::string_view h) {
  if (h.empty() || h.size() > 253 || !std::all_of(h.begin(), h.end(), name_char)) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= h.size(); ++i)
    if (i == h.size() || h[i] == '.') {
      if (i == start || i - start > 63) return false;
      start = i + 1;
    }
  return true;
}

// The characters RFC 3986 allows in a URI (unreserved, reserved and '%'). Checked before parsing:
// Boost.URL 1.81 accepts some invalid characters in rootless paths (boostorg/url#665, fixed later).
bool uri_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

bool is_localhost_name(std::string_view h) {
  return h == "localhost" || (h.size() > 10 && h.substr(h.size() - 10) == ".localhost");
}

result<std::string> checked_port(const boost::urls::url_view& u) {
  if (!u.has_port()) return std::string();
  const std::string p(u.port());
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad("invalid port");
  const int n = std::stoi(p);
  if (n < 1 || n > 65535) return bad("port out of range");
  return std::to_string(n);
}

}  // namespace

result<std::string> check_endpoint(std::string_view endpoint, const endpoint_policy& policy) {
  if (endpoint.empty()) return bad("empty");
  if (endpoint.size() > policy.max_endpoint_bytes) return bad("longer than " + std::to_string(policy.max_endpoint_bytes) + " bytes");
  if (!std::all_of(endpoint.begin(), endpoint.end(), uri_char)) return bad("characters outside those of a URL");
  // Only "http(s)://authority..." reaches the parser: Boost.URL 1.81's rootless-path rule is the faulty one.
  const std::string head = lower(endpoint.substr(0, 8));
  if (head != "https://" && head.substr(0, 7) != "http://") return bad("must be an https URL");
  auto parsed = boost::urls::parse_absolute_uri(boost::core::string_view(endpoint.data(), endpoint.size()));
  if (!parsed) return bad("not a valid absolute URL");
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme != "https" && scheme != "http") return bad("must be an https URL");
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("must not carry user information");
  if (u.has_fragment()) return bad("must not have a fragment");
  const std::string host = lower(u.encoded_host());
  CONFAB_TRY_RESULT(port, checked_port(u));
  const bool default_port = port->empty() || (scheme == "https" && *port == "443") || (scheme == "http" && *port == "80");
  std::string origin = scheme + "://" + host + (default_port ? "" : ":" + *port);
  const bool allowed = std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                                   [&](const std::string& o) { return lower(o) == origin; });
  if (allowed) return origin;
  if (scheme != "https") return bad("must be an https URL");
  const auto cls = classify_host(host);
  if (cls == address_class::invalid) return bad("invalid host");
  if (cls == address_class::name) {
    if (u.host_type() != boost::urls::host_type::name || !valid_dns_name(host)) return bad("invalid host name");
    if (is_localhost_name(host)) return bad("host is a loopback name");
    return origin;
  }
  if (!publicly_routable(cls)) return bad("host is a " + std::string(to_string(cls)) + " address");
  return origin;
}

}  // namespace confab::push
