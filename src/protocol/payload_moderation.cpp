#include "protocol/payload_moderation.hpp"

#include <boost/json/value.hpp>

namespace confab::protocol::detail {
namespace json = boost::json;

namespace {

error corrupt(std::string_view what) { return make_error(errc::internal, "stored event payload is corrupt: " + std::string(what)); }

// An optional integer field: absent is nullopt, present but not an integer is corrupt.
result<std::optional<std::int64_t>> opt_int(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::optional<std::int64_t>{};
  if (!v->is_int64()) return corrupt(key);
  return std::optional<std::int64_t>{v->get_int64()};
}

result<std::int64_t> req_int(const json::object& o, std::string_view key) {
  auto v = opt_int(o, key);
  if (!v) return v.error();
  if (!*v) return corrupt(key);
  return **v;
}

result<std::optional<std::string>> opt_text(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::optional<std::string>{};
  if (!v->is_string()) return corrupt(key);
  return std::optional<std::string>{std::string(v->get_string())};
}

result<std::optional<conv_policy>> opt_policy(const json::object& o, std::string_view key) {
  auto t = opt_text(o, key);
  if (!t) return t.error();
  if (!*t) return std::optional<conv_policy>{};
  auto p = parse_policy(**t);
  if (!p) return corrupt(key);
  return std::optional<conv_policy>{*p};
}

result<event_payload> parse_settings(const json::object& o) {
  settings_payload p;
  auto by = req_int(o, "by");
  auto title = opt_text(o, "title");
  auto description = opt_text(o, "description");
  auto post = opt_policy(o, "post_policy");
  auto pin = opt_policy(o, "pin_policy");
  auto wildcard = opt_int(o, "wildcard_limit");
  auto slow = opt_int(o, "slow_mode_s");
  if (!by) return by.error();
  if (!title) return title.error();
  if (!description) return description.error();
  if (!post) return post.error();
  if (!pin) return pin.error();
  if (!wildcard) return wildcard.error();
  if (!slow) return slow.error();
  p.by = *by;
  p.title = std::move(*title);
  p.description = std::move(*description);
  p.post_policy = *post;
  p.pin_policy = *pin;
  p.wildcard_limit = *wildcard;
  p.slow_mode_s = *slow;
  return event_payload{std::move(p)};
}

}  // namespace

json::object payload_json(const settings_payload& p) {
  json::object o{{"by", p.by}};
  if (p.title) o["title"] = *p.title;
  if (p.description) o["description"] = *p.description;
  if (p.post_policy) o["post_policy"] = to_string(*p.post_policy);
  if (p.pin_policy) o["pin_policy"] = to_string(*p.pin_policy);
  if (p.wildcard_limit) o["wildcard_limit"] = *p.wildcard_limit;
  if (p.slow_mode_s) o["slow_mode_s"] = *p.slow_mode_s;
  return o;
}

json::object payload_json(const pin_payload& p) { return {{"target", p.target}, {"by", p.by}}; }

json::object payload_json(const moderation_payload& p) {
  json::object o{{"user", p.user}, {"by", p.by}};
  if (p.until_ms) o["until"] = *p.until_ms;
  return o;
}

std::optional<result<event_payload>> parse_moderation_payload(event_kind kind, const json::object& o) {
  switch (kind) {
    case event_kind::settings_changed:
      return parse_settings(o);
    case event_kind::pinned:
    case event_kind::unpinned: {
      auto target = req_int(o, "target");
      auto by = req_int(o, "by");
      if (!target) return result<event_payload>(target.error());
      if (!by) return result<event_payload>(by.error());
      return result<event_payload>(event_payload{pin_payload{*target, *by}});
    }
    case event_kind::member_muted:
    case event_kind::member_unmuted:
    case event_kind::member_banned:
    case event_kind::member_unbanned: {
      auto user = req_int(o, "user");
      auto by = req_int(o, "by");
      auto until = opt_int(o, "until");
      if (!user) return result<event_payload>(user.error());
      if (!by) return result<event_payload>(by.error());
      if (!until) return result<event_payload>(until.error());
      if (kind == event_kind::member_muted && !*until) return result<event_payload>(corrupt("until"));
      return result<event_payload>(event_payload{moderation_payload{*user, *by, *until}});
    }
    default:
      return std::nullopt;
  }
}

void add_moderation_fields(const conversation_summary& s, json::object& o) {
  o["description"] = s.description;
  json::object st{{"post_policy", to_string(s.settings.post_policy)},
                  {"pin_policy", to_string(s.settings.pin_policy)},
                  {"slow_mode_s", s.settings.slow_mode_s}};
  st["wildcard_limit"] = s.settings.wildcard_limit ? json::value(*s.settings.wildcard_limit) : json::value(nullptr);
  o["settings"] = std::move(st);
  o["notify"] = s.notify;
  if (s.muted_until) o["muted_until"] = *s.muted_until;
  if (s.member_muted_until) o["member_muted_until"] = *s.member_muted_until;
}

}  // namespace confab::protocol::detail
