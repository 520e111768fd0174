// Address ranges for --trusted-proxy (issue 17): pure functions, no packet sent.
#include "core/net.hpp"

#include <gtest/gtest.h>

using namespace confab;
namespace ip = boost::asio::ip;

namespace {
ip::address a(const char* s) { return ip::make_address(s); }
}  // namespace

TEST(net, parses_addresses_and_ranges_and_clears_the_host_bits) {
  EXPECT_EQ(core::parse_cidr("10.1.2.3/8")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(core::parse_cidr("127.0.0.1")->to_string(), "127.0.0.1/32");
  EXPECT_EQ(core::parse_cidr("fd12:3456::1/16")->to_string(), "fd12::/16");
  EXPECT_EQ(core::parse_cidr("::1")->to_string(), "::1/128");
  EXPECT_EQ(core::parse_cidr("192.168.1.77/0")->to_string(), "0.0.0.0/0");
  EXPECT_EQ(core::parse_cidr("172.16.5.4/12")->to_string(), "172.16.0.0/12");
}

TEST(net, refuses_what_is_not_a_range) {
  for (const char* bad : {"", "/8", "lb.example", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8",
                          " 10.0.0.1", "10.0.0.1 ", "10.0.0.0/ 8", "10.0.0.0/0008", "fe80::1%eth0", "1.2.3"})
    EXPECT_FALSE(core::parse_cidr(bad)) << bad;
}

TEST(net, a_range_contains_its_addresses_only) {
  const auto r = *core::parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(core::contains(r, a("10.255.0.1")));
  EXPECT_FALSE(core::contains(r, a("11.0.0.1")));
  EXPECT_FALSE(core::contains(r, a("::1")));
  const auto odd = *core::parse_cidr("192.168.4.0/22");
  EXPECT_TRUE(core::contains(odd, a("192.168.7.255")));
  EXPECT_FALSE(core::contains(odd, a("192.168.8.0")));
  const auto six = *core::parse_cidr("fd00::/8");
  EXPECT_TRUE(core::contains(six, a("fdff::1")));
  EXPECT_FALSE(core::contains(six, a("fe00::1")));
  // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
  EXPECT_TRUE(core::contains(*core::parse_cidr("127.0.0.1"), a("::ffff:127.0.0.1")));
  EXPECT_TRUE(core::contains_any({*core::parse_cidr("::1"), r}, a("10.0.0.9")));
  EXPECT_FALSE(core::contains_any({}, a("10.0.0.9")));
}

TEST(net, the_client_is_the_last_forwarded_address) {
  EXPECT_EQ(core::last_forwarded_for("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(core::last_forwarded_for("1.1.1.1, 203.0.113.7"), "203.0.113.7");  // the first may be forged
  EXPECT_EQ(core::last_forwarded_for("1.1.1.1,\t2001:db8::7 "), "2001:db8::7");
  EXPECT_EQ(core::last_forwarded_for("::ffff:198.51.100.2"), "198.51.100.2");
  EXPECT_EQ(core::last_forwarded_for(""), "");
  EXPECT_EQ(core::last_forwarded_for("203.0.113.7, unknown"), "");
  EXPECT_EQ(core::last_forwarded_for("203.0.113.7,"), "");
}

TEST(net, a_client_behind_a_trusted_proxy_is_the_one_it_reports) {
  const std::vector<core::cidr> trusted{*core::parse_cidr("127.0.0.0/8")};
  auto c = core::client_behind_proxy(trusted, a("127.0.0.5"), "6.6.6.6, 203.0.113.7");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->via, "127.0.0.5");
  EXPECT_EQ(c->client, "203.0.113.7");
  EXPECT_EQ(core::client_behind_proxy(trusted, a("::ffff:127.0.0.5"), "203.0.113.7")->via, "127.0.0.5");
  EXPECT_FALSE(core::client_behind_proxy(trusted, a("198.51.100.1"), "203.0.113.7")) << "an untrusted peer's header is ignored";
  EXPECT_FALSE(core::client_behind_proxy({}, a("127.0.0.5"), "203.0.113.7"));
  EXPECT_FALSE(core::client_behind_proxy(trusted, a("127.0.0.5"), "")) << "no header: the peer is the client";
  EXPECT_FALSE(core::client_behind_proxy(trusted, a("127.0.0.5"), "203.0.113.7, unknown"));
}
