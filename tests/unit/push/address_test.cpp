// push/address.hpp: hosts classified as names or by the range of the IP address they spell.
#include "push/address.hpp"

#include <gtest/gtest.h>

namespace confab::push {
namespace {

using ac = address_class;

struct row {
  const char* host;
  ac want;
};

TEST(PushAddress, ClassifiesIpv4) {
  const row rows[] = {
      {"127.0.0.1", ac::loopback},        {"127.255.255.254", ac::loopback}, {"10.1.2.3", ac::private_use},
      {"172.16.0.1", ac::private_use},    {"172.31.255.255", ac::private_use}, {"172.32.0.1", ac::public_net},
      {"192.168.1.1", ac::private_use},   {"100.64.0.1", ac::private_use},   {"100.128.0.1", ac::public_net},
      {"169.254.169.254", ac::link_local}, {"0.0.0.0", ac::unspecified},     {"0.1.2.3", ac::unspecified},
      {"224.0.0.1", ac::multicast},       {"239.255.255.250", ac::multicast}, {"240.0.0.1", ac::reserved},
      {"255.255.255.255", ac::reserved},  {"192.0.2.1", ac::reserved},       {"198.51.100.7", ac::reserved},
      {"203.0.113.9", ac::reserved},      {"198.18.0.1", ac::reserved},      {"192.0.0.8", ac::reserved},
      {"8.8.8.8", ac::public_net},        {"142.250.74.110", ac::public_net}, {"1.1.1.1", ac::public_net},
  };
  for (const auto& r : rows) EXPECT_EQ(classify_host(r.host), r.want) << r.host;
}

// The shorthand forms browsers and inet_aton accept are IPv4 too, not names.
TEST(PushAddress, ClassifiesIpv4ShorthandForms) {
  const row rows[] = {
      {"127.1", ac::loopback},        {"2130706433", ac::loopback},  {"0x7f000001", ac::loopback},
      {"0x7F.0.0.1", ac::loopback},   {"0177.0.0.1", ac::loopback},  {"10.1", ac::private_use},
      {"169.254.43518", ac::link_local}, {"127.0.0.1.", ac::loopback}, {"0", ac::unspecified},
      {"0x", ac::unspecified},        {"8.8.2056", ac::public_net},
  };
  for (const auto& r : rows) EXPECT_EQ(classify_host(r.host), r.want) << r.host;
}

TEST(PushAddress, NumericButNoAddressIsInvalid) {
  for (const char* h : {"256.0.0.1", "1.2.3.4.5", "1..2.3", "4294967296", "0x100000000", "08.1.1.1", "1.2.3.256",
                        "1.2.65536", "example.123", ""})
    EXPECT_EQ(classify_host(h), ac::invalid) << h;
}

TEST(PushAddress, NamesAreNames) {
  for (const char* h : {"fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", "localhost",
                        "1.2.3.example", "0x7f.example", "a1b2", "0xz"})
    EXPECT_EQ(classify_host(h), ac::name) << h;
}

TEST(PushAddress, ClassifiesIpv6) {
  const row rows[] = {
      {"[::1]", ac::loopback},           {"::1", ac::loopback},              {"[::]", ac::unspecified},
      {"[fe80::1]", ac::link_local},     {"[febf::1]", ac::link_local},      {"[fc00::1]", ac::private_use},
      {"[fd12:3456::1]", ac::private_use}, {"[fec0::1]", ac::private_use},   {"[ff02::1]", ac::multicast},
      {"[2001:db8::1]", ac::reserved},   {"[2001::1]", ac::reserved},        {"[100::1]", ac::reserved},
      {"[::2]", ac::reserved},           {"[4000::1]", ac::reserved},        {"[2606:4700:4700::1111]", ac::public_net},
      {"[2a00:1450:4001:82b::200e]", ac::public_net},
      // IPv4 inside IPv6: mapped, NAT64, 6to4
      {"[::ffff:127.0.0.1]", ac::loopback}, {"[::ffff:7f00:1]", ac::loopback}, {"[::ffff:10.0.0.1]", ac::private_use},
      {"[::ffff:8.8.8.8]", ac::public_net}, {"[64:ff9b::a9fe:a9fe]", ac::link_local}, {"[64:ff9b::808:808]", ac::public_net},
      {"[64:ff9b:1::1]", ac::private_use},  {"[2002:7f00:1::1]", ac::loopback},  {"[2002:0808:0808::1]", ac::public_net},
  };
  for (const auto& r : rows) EXPECT_EQ(classify_host(r.host), r.want) << r.host;
}

TEST(PushAddress, MalformedIpv6IsInvalid) {
  for (const char* h : {"[::g]", "[1:2:3:4:5:6:7:8:9]", "[::1", "[]", "[fe80::1%25eth0]", "1:2", "[v1.x]"})
    EXPECT_EQ(classify_host(h), ac::invalid) << h;
}

TEST(PushAddress, OnlyPublicAndNamesAreRoutable) {
  EXPECT_TRUE(publicly_routable(ac::public_net));
  EXPECT_TRUE(publicly_routable(ac::name));
  for (ac c : {ac::invalid, ac::loopback, ac::private_use, ac::link_local, ac::unspecified, ac::multicast, ac::reserved})
    EXPECT_FALSE(publicly_routable(c)) << to_string(c);
}

}  // namespace
}  // namespace confab::push
