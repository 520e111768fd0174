#include "chat/profiles.hpp"

#include "core/utf8.hpp"

#include <algorithm>

namespace confab::chat {
namespace json = boost::json;

json::object brief_json(const user_brief& u) {
  return {{"user_id", u.id}, {"username", u.username}, {"display_name", u.display_name}};
}

result<std::string> check_display_name(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  if (s.size() > 64) return make_error(errc::invalid_field, "field display_name must be at most 64 bytes");
  if (!valid_utf8(s)) return make_error(errc::invalid_field, "field display_name is not valid UTF-8");
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    // C0, DEL and C1 (U+0080..U+009F): a name must not break a line or hide in a notification.
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (c < 0x20 || c == 0x7F || c1) return make_error(errc::invalid_field, "field display_name must not hold control characters");
  }
  return std::string(s);
}

std::vector<json::object*> objects_of(json::array& arr) {
  std::vector<json::object*> out;
  for (auto& v : arr) out.push_back(&v.as_object());
  return out;
}

std::vector<json::object*> summary_members(json::array& summaries) {
  std::vector<json::object*> out;
  for (auto& s : summaries)
    if (auto* ms = s.as_object().if_contains("members"))
      for (auto& m : ms->as_array()) out.push_back(&m.as_object());
  return out;
}

boost::asio::awaitable<result<nothing>> add_display_names(storage::store& store, const std::vector<json::object*>& objs) {
  std::vector<id_t> ids;
  for (auto* o : objs) ids.push_back(o->at("user_id").to_number<id_t>());
  if (ids.empty()) co_return nothing{};
  auto briefs = co_await store.user_briefs(ids);
  if (!briefs) co_return briefs.error();
  for (auto* o : objs) {
    const auto id = o->at("user_id").to_number<id_t>();
    auto it = std::lower_bound(briefs->begin(), briefs->end(), id, [](const user_brief& b, id_t v) { return b.id < v; });
    (*o)["display_name"] = it != briefs->end() && it->id == id ? it->display_name : std::string();
  }
  co_return nothing{};
}

bool activity_recorder::due(id_t device, std::int64_t now) {
  std::lock_guard lock(mu_);
  // Bounded: past this many devices the map starts over (at worst one extra write per device).
  if (touched_.size() > 100'000) touched_.clear();
  auto [it, fresh] = touched_.try_emplace(device, now);
  if (!fresh && now - it->second < 60'000) return false;
  it->second = now;
  return true;
}

namespace {

struct users_req {
  protocol::id_list<100> ids;
};
BOOST_DESCRIBE_STRUCT(users_req, (), (ids))

struct set_profile_req {
  std::string display_name;
};
BOOST_DESCRIBE_STRUCT(set_profile_req, (), (display_name))

}  // namespace

void add_profile_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<users_req>("users", authed, [d](const op_context& c, const users_req& r) -> op_result {
    if (r.ids.value.empty()) co_return make_error(errc::invalid_field, "field ids must hold 1 to 100 user ids");
    auto users = co_await d->store.visible_users(c.who->user_id, r.ids.value);
    if (!users) co_return users.error();
    json::array out;
    for (auto& u : *users) out.push_back(brief_json(u));
    co_return json::object{{"users", std::move(out)}};
  });
  t.add<set_profile_req>("set_profile", authed, [d](const op_context& c, const set_profile_req& r) -> op_result {
    auto clean = check_display_name(r.display_name);
    if (!clean) co_return clean.error();
    auto u = co_await d->store.set_display_name(c.who->user_id, *clean);
    if (!u) co_return u.error();
    co_return brief_json(*u);
  });
}

}  // namespace confab::chat
