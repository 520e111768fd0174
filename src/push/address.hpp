// Classifies a URL host as a name or an IP literal, and an IP literal by the range it is in, so
// that push endpoints cannot point the server at its own network (SSRF). Pure functions: nothing
// is resolved and no packet is sent. Thread-safe.
//
// Besides dotted-quad IPv4 and bracketed IPv6, the forms that browsers' URL parsers (WHATWG) and
// the C resolver (inet_aton) also read as IPv4 are recognised: 1 to 4 parts, each decimal, octal
// (leading 0) or hex (0x), e.g. "127.1", "2130706433", "0x7f.0.0.1". A host whose last label is
// a number but that is not such an address is `invalid`. IPv4-mapped, NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) IPv6 addresses are classified by the IPv4 address they carry.
#pragma once

#include <string_view>

namespace confab::push {

enum class address_class {
  name,         // not an IP literal (a DNS name: its addresses must be checked when resolved)
  invalid,      // looks numeric but is no valid address ("1.2.3.4.5", "256.1.1.1", "[::g]")
  loopback,     // 127.0.0.0/8, ::1
  private_use,  // 10/8, 172.16/12, 192.168/16, 100.64/10 (shared CGNAT), fc00::/7, fec0::/10, 64:ff9b:1::/48
  link_local,   // 169.254/16, fe80::/10
  unspecified,  // 0.0.0.0/8, ::
  multicast,    // 224/4, ff00::/8
  reserved,     // documentation, benchmarking, 240/4, broadcast, and IPv6 outside 2000::/3 or in 2001::/23, 2001:db8::/32
  public_net,   // any other address
};

// host as it appears in a URL: "example.com", "10.0.0.1", "[::1]" (brackets optional for IPv6).
address_class classify_host(std::string_view host);
// True for the classes a server may connect to without an explicit allow-list: public addresses
// and names (whose resolved addresses get the same check from the sender).
constexpr bool publicly_routable(address_class c) { return c == address_class::public_net || c == address_class::name; }
std::string_view to_string(address_class c);

}  // namespace confab::push
