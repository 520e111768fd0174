// Network address ranges (CIDR), for the peers a node trusts (--trusted-proxy, issue 17).
// Pure functions: no name resolution, no I/O. Thread-safe.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::core {

// An address range: an IPv4 or IPv6 network and its prefix length. A plain address is the range
// of that one address (/32, /128).
struct cidr {
  boost::asio::ip::address network;  // with the bits past the prefix cleared
  unsigned prefix = 0;
  std::string to_string() const;
  bool operator==(const cidr&) const = default;
};

// "10.0.0.0/8", "::1", "fd00::/8"; nullopt for anything else (a host name, a bad prefix, spaces).
std::optional<cidr> parse_cidr(std::string_view text);

// Whether addr lies in range. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4
// address, so a dual-stack listener's peers match IPv4 ranges.
bool contains(const cidr& range, const boost::asio::ip::address& addr);
bool contains_any(const std::vector<cidr>& ranges, const boost::asio::ip::address& addr);

// The client address a trusted proxy appended to X-Forwarded-For: the last element of the list,
// trimmed; "" when the header is empty or its last element is not an IP address.
std::string last_forwarded_for(std::string_view header);

// A connection's client as a trusted proxy reported it: the proxy's address (via) and the client
// it appended to the last X-Forwarded-For field (xff: that field's value, "" if none). nullopt,
// and the connection's own peer is the client, when the peer is not in trusted or xff names no
// address.
struct proxied_client {
  std::string via;
  std::string client;
};
std::optional<proxied_client> client_behind_proxy(const std::vector<cidr>& trusted, const boost::asio::ip::address& peer,
                                                  std::string_view xff);

}  // namespace confab::core
