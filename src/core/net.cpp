#include "core/net.hpp"

#include <charconv>

namespace confab::core {
namespace ip = boost::asio::ip;

namespace {

// addr with every bit past prefix cleared.
ip::address masked(const ip::address& addr, unsigned prefix) {
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    for (unsigned i = 0; i < b.size(); ++i) {
      const unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
      b[i] = static_cast<unsigned char>(b[i] & (0xFFu << (8 - keep)));
    }
    return ip::address_v4(b);
  }
  auto b = addr.to_v6().to_bytes();
  for (unsigned i = 0; i < b.size(); ++i) {
    const unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
    b[i] = static_cast<unsigned char>(b[i] & (0xFFu << (8 - keep)));
  }
  return ip::address_v6(b);
}

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<ip::address> parse_address(std::string_view s) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().scope_id() != 0) return std::nullopt;  // no zone ids
  return a;
}

}  // namespace

std::string cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

std::optional<cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = parse_address(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const unsigned max = addr->is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc{} || end != p.data() + p.size() || prefix > max) return std::nullopt;
  }
  return cidr{masked(*addr, prefix), prefix};
}

bool contains(const cidr& range, const ip::address& addr) {
  const auto a = unmapped(addr);
  if (a.is_v4() != range.network.is_v4()) return false;
  return masked(a, range.prefix) == range.network;
}

bool contains_any(const std::vector<cidr>& ranges, const ip::address& addr) {
  for (const auto& r : ranges)
    if (contains(r, addr)) return true;
  return false;
}

std::string last_forwarded_for(std::string_view header) {
  const auto comma = header.rfind(',');
  auto last = comma == std::string_view::npos ? header : header.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  auto a = parse_address(last);
  return a ? unmapped(*a).to_string() : std::string();
}

std::optional<proxied_client> client_behind_proxy(const std::vector<cidr>& trusted, const boost::asio::ip::address& peer,
                                                  std::string_view xff) {
  if (xff.empty() || !contains_any(trusted, peer)) return std::nullopt;
  auto client = last_forwarded_for(xff);
  if (client.empty()) return std::nullopt;
  return proxied_client{unmapped(peer).to_string(), std::move(client)};
}

}  // namespace confab::core
