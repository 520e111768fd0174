#include "push/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab::push {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// One WHATWG IPv4 number: decimal, octal with a leading 0, hex with 0x. nullopt if not a number
// or above 2^32 - 1.
std::optional<std::uint64_t> ipv4_number(std::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return base == 10 ? std::nullopt : std::optional<std::uint64_t>(0);  // "0x" and "0" forms
  std::uint64_t v = 0;
  for (char c : s) {
    int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (d >= base) return std::nullopt;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > 0xFFFFFFFFull) return std::nullopt;
  }
  return v;
}

std::vector<std::string_view> split_dots(std::string_view host) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= host.size(); ++i)
    if (i == host.size() || host[i] == '.') {
      parts.push_back(host.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

// True when the host's last label is a number (digits, or 0x and hex digits, whatever its value),
// which makes the host an IPv4 address or nothing to a WHATWG URL parser.
bool ends_in_number(std::vector<std::string_view> parts) {
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  auto last = parts.back();
  if (!last.empty() && std::all_of(last.begin(), last.end(), is_digit)) return true;
  if (last.size() < 2 || last[0] != '0' || (last[1] != 'x' && last[1] != 'X')) return false;
  last.remove_prefix(2);
  return std::all_of(last.begin(), last.end(), is_hex);
}

std::optional<std::uint32_t> parse_ipv4(std::vector<std::string_view> parts) {
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  if (parts.size() > 4) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto n = ipv4_number(parts[i]);
    if (!n) return std::nullopt;
    const bool last = i + 1 == parts.size();
    const std::uint64_t limit = last ? (1ull << (8 * (5 - parts.size()))) : 256;
    if (*n >= limit) return std::nullopt;
    v = last ? (v << (8 * (5 - parts.size()))) | *n : (v << 8) | *n;
  }
  return static_cast<std::uint32_t>(v);
}

bool in4(std::uint32_t a, std::uint32_t net, int bits) {
  return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
}

address_class classify_v4(std::uint32_t a) {
  if (in4(a, 0x00000000, 8)) return address_class::unspecified;
  if (in4(a, 0x7F000000, 8)) return address_class::loopback;
  if (in4(a, 0x0A000000, 8) || in4(a, 0xAC100000, 12) || in4(a, 0xC0A80000, 16) || in4(a, 0x64400000, 10))
    return address_class::private_use;
  if (in4(a, 0xA9FE0000, 16)) return address_class::link_local;
  if (in4(a, 0xE0000000, 4)) return address_class::multicast;
  if (in4(a, 0xC0000000, 24) || in4(a, 0xC0000200, 24) || in4(a, 0xC0586300, 24) || in4(a, 0xC6120000, 15) ||
      in4(a, 0xC6336400, 24) || in4(a, 0xCB007100, 24) || in4(a, 0xF0000000, 4))
    return address_class::reserved;  // 192.0.0/24, TEST-NETs, 6to4 relay, benchmarking, 240/4 (and broadcast)
  return address_class::public_net;
}

using v6 = std::array<std::uint8_t, 16>;

bool prefix6(const v6& a, std::initializer_list<std::uint8_t> p, int bits) {
  int i = 0;
  for (std::uint8_t byte : p) {
    const int take = std::min(8, bits - 8 * i);
    if (take <= 0) break;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - take));
    if ((a[static_cast<std::size_t>(i)] & mask) != (byte & mask)) return false;
    ++i;
  }
  return true;
}

std::uint32_t v4_at(const v6& a, std::size_t off) {
  return (std::uint32_t{a[off]} << 24) | (std::uint32_t{a[off + 1]} << 16) | (std::uint32_t{a[off + 2]} << 8) | a[off + 3];
}

address_class classify_v6(const v6& a) {
  const v6 zero{};
  v6 one{};
  one[15] = 1;
  if (a == zero) return address_class::unspecified;
  if (a == one) return address_class::loopback;
  if (prefix6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 96)) return classify_v4(v4_at(a, 12));  // ::ffff:a.b.c.d
  if (prefix6(a, {0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0}, 96)) return classify_v4(v4_at(a, 12));  // NAT64
  if (prefix6(a, {0x20, 0x02}, 16)) return classify_v4(v4_at(a, 2));  // 6to4
  if (prefix6(a, {0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01}, 48)) return address_class::private_use;
  if (prefix6(a, {0xFC}, 7) || prefix6(a, {0xFE, 0xC0}, 10)) return address_class::private_use;
  if (prefix6(a, {0xFE, 0x80}, 10)) return address_class::link_local;
  if (prefix6(a, {0xFF}, 8)) return address_class::multicast;
  if (!prefix6(a, {0x20}, 3) || prefix6(a, {0x20, 0x01, 0x00}, 23) || prefix6(a, {0x20, 0x01, 0x0D, 0xB8}, 32))
    return address_class::reserved;
  return address_class::public_net;
}

}  // namespace

address_class classify_host(std::string_view host) {
  if (host.empty()) return address_class::invalid;
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    if (host.front() == '[') {
      if (host.size() < 2 || host.back() != ']') return address_class::invalid;
      host = host.substr(1, host.size() - 2);
    }
    v6 a{};
    const std::string s(host);
    if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1) return address_class::invalid;
    return classify_v6(a);
  }
  const auto parts = split_dots(host);
  if (!ends_in_number(parts)) return address_class::name;
  const auto v4 = parse_ipv4(parts);
  return v4 ? classify_v4(*v4) : address_class::invalid;
}

std::string_view to_string(address_class c) {
  switch (c) {
    case address_class::name: return "name";
    case address_class::invalid: return "invalid";
    case address_class::loopback: return "loopback";
    case address_class::private_use: return "private";
    case address_class::link_local: return "link-local";
    case address_class::unspecified: return "unspecified";
    case address_class::multicast: return "multicast";
    case address_class::reserved: return "reserved";
    case address_class::public_net: return "public";
  }
  return "invalid";
}

}  // namespace confab::push
