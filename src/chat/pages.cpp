#include "chat/pages.hpp"

#include <boost/json/array.hpp>

#include <charconv>

namespace confab::chat {
namespace json = boost::json;

std::string cursor_text(const storage::keyset_cursor& c) {
  return std::to_string(c.ms) + "." + std::to_string(c.conv) + "." + std::to_string(c.seq);
}

result<std::optional<storage::keyset_cursor>> parse_cursor(const std::optional<protocol::bytes<1, 64>>& b) {
  if (!b) return std::optional<storage::keyset_cursor>{};
  std::int64_t v[3] = {};
  std::string_view s = b->value;
  for (int i = 0; i < 3; ++i) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v[i]);
    const auto used = static_cast<std::size_t>(p - s.data());
    if (ec != std::errc{} || used == 0 || v[i] < 0) return make_error(errc::invalid_field, "field before must be a cursor from next");
    s.remove_prefix(used);
    if (i < 2) {
      if (s.empty() || s.front() != '.') return make_error(errc::invalid_field, "field before must be a cursor from next");
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return make_error(errc::invalid_field, "field before must be a cursor from next");
  return std::optional<storage::keyset_cursor>{storage::keyset_cursor{v[0], v[1], v[2]}};
}

json::object list_json(std::string_view key, const storage::event_list_page& p) {
  json::array evs;
  for (auto& e : p.events) evs.push_back(protocol::event_object(e));
  json::object o{{key, std::move(evs)}};
  o["next"] = p.next ? json::value(cursor_text(*p.next)) : json::value(nullptr);
  return o;
}


}  // namespace confab::chat
