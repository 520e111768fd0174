#include "protocol/codec.hpp"

#include <charconv>

#include "core/utf8.hpp"
#include "protocol/payload_moderation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>

namespace confab::protocol {
namespace json = boost::json;

namespace {

result<json::object> parse_object(std::string_view text, std::size_t max_bytes, bool empty_ok) {
  if (text.size() > max_bytes)
    return make_error(errc::too_large, "frame of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                                           std::to_string(max_bytes));
  if (!valid_utf8(text)) return make_error(errc::invalid_utf8, "frame is not valid UTF-8");
  if (empty_ok && text.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object{};
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return make_error(errc::malformed, "invalid JSON: " + ec.message());
  if (!v.is_object()) return make_error(errc::malformed, "a frame must be a JSON object");
  return std::move(v.as_object());
}

error missing(std::string_view key) { return make_error(errc::missing_field, "missing field: " + std::string(key)); }
error invalid(std::string_view key, std::string_view want) {
  return make_error(errc::invalid_field, "field " + std::string(key) + " must be " + std::string(want));
}

}  // namespace

result<request> parse_frame(std::string_view text, std::size_t max_bytes) {
  auto o = parse_object(text, max_bytes, false);
  if (!o) return o.error();
  request r;
  if (auto* id = o->if_contains("id"); id && !id->is_null()) {
    if (!id->is_string() && !id->is_int64()) return invalid("id", "a string or a 64-bit signed integer");
    r.id = *id;
  }
  auto* op = o->if_contains("op");
  if (!op || op->is_null()) return missing("op");
  if (!op->is_string()) return invalid("op", "a string");
  r.op = std::string(op->as_string());
  r.args = std::move(*o);
  return r;
}

result<json::object> parse_body(std::string_view text, std::size_t max_bytes) { return parse_object(text, max_bytes, true); }

result<std::int64_t> get_int(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return missing(key);
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v->as_uint64());
  return invalid(key, "an integer");
}

result<std::optional<std::int64_t>> get_opt_int(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  auto r = get_int(o, key);
  if (!r) return r.error();
  return std::optional<std::int64_t>{*r};
}

result<std::string> get_string(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return missing(key);
  if (!v->is_string()) return invalid(key, "a string");
  // U+0000 is valid UTF-8 but not storable as text everywhere (PostgreSQL refuses it).
  if (v->as_string().find('\0') != boost::json::string::npos) return invalid(key, "a string without NUL characters");
  return std::string(v->as_string());
}

result<std::optional<std::string>> get_opt_string(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  auto s = get_string(o, key);
  if (!s) return s.error();
  return std::optional<std::string>{std::move(*s)};
}

result<std::vector<std::int64_t>> get_int_array(const json::object& o, std::string_view key, std::size_t max_items) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return missing(key);
  if (!v->is_array()) return invalid(key, "an array of integers");
  const auto& a = v->as_array();
  if (a.size() > max_items) return invalid(key, "an array of at most " + std::to_string(max_items) + " integers");
  std::vector<std::int64_t> out;
  out.reserve(a.size());
  for (const auto& x : a) {
    if (x.is_int64()) out.push_back(x.as_int64());
    else return invalid(key, "an array of integers");
  }
  return out;
}

namespace {
json::object error_object(const error& e) {
  json::object o{{"code", error_name(e.code)}, {"message", e.message}, {"retryable", retryable(e.code)}};
  if (e.retry_after_ms) o["retry_after_ms"] = *e.retry_after_ms;
  return o;
}
}  // namespace

std::string result_frame(const json::value& id, const json::value& data) {
  json::object o;
  o["type"] = "result";
  o["id"] = id;
  o["data"] = data;
  return json::serialize(o);
}

std::string error_frame(const json::value& id, const error& e) {
  json::object o;
  o["type"] = "error";
  o["id"] = id;
  o["error"] = error_object(e);
  return json::serialize(o);
}

std::string error_body(const error& e) {
  json::object o;
  o["error"] = error_object(e);
  return json::serialize(o);
}

namespace {

json::array id_array(const std::vector<id_t>& ids) { return json::array(ids.begin(), ids.end()); }

struct payload_to_json {
  json::object operator()(std::monostate) const { return {}; }
  json::object operator()(const created_payload& p) const {
    json::object o{{"kind", to_string(p.kind)}, {"members", id_array(p.members)}};
    if (p.kind != conv_kind::direct) o["title"] = p.title;  // groups and channels
    if (p.owner) o["owner"] = *p.owner;
    return o;
  }
  json::object operator()(const members_added_payload& p) const { return {{"users", id_array(p.users)}, {"by", p.by}}; }
  json::object operator()(const member_gone_payload& p) const { return {{"user", p.user}, {"by", p.by}}; }
  json::object operator()(const role_changed_payload& p) const {
    json::object o{{"user", p.user}, {"role", to_string(p.new_role)}, {"by", p.by}};
    if (p.previous_owner_role) o["previous_owner_role"] = to_string(*p.previous_owner_role);
    return o;
  }
  // i11-changes
  json::object operator()(const reaction_payload& p) const { return {{"target", p.target}, {"emoji", p.emoji}, {"added", p.added}, {"count", p.count}}; }
  json::object operator()(const edited_payload& p) const { return {{"target", p.target}, {"text", p.text}}; }
  json::object operator()(const deleted_payload& p) const { return {{"target", p.target}, {"by", p.by}}; }
  // moderation
  json::object operator()(const settings_payload& p) const { return detail::payload_json(p); }
  json::object operator()(const pin_payload& p) const { return detail::payload_json(p); }
  json::object operator()(const moderation_payload& p) const { return detail::payload_json(p); }
};

// Readers of a stored payload: a field missing or of the wrong type is a corrupt row (errc::internal).
error corrupt(std::string_view what) { return make_error(errc::internal, "stored event payload is corrupt: " + std::string(what)); }

result<std::vector<id_t>> ids_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return corrupt(key);
  std::vector<id_t> out;
  for (auto& x : v->get_array()) {
    if (!x.is_int64()) return corrupt(key);
    out.push_back(x.get_int64());
  }
  return out;
}

result<id_t> id_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_int64()) return corrupt(key);
  return v->get_int64();
}

result<conv_role> role_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  std::optional<conv_role> r;
  if (v && v->is_string()) r = parse_role(v->get_string());
  if (!r || *r == conv_role::none) return corrupt(key);
  return *r;
}

result<std::string> text_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return corrupt(key);
  return std::string(v->get_string());
}

// i11-changes: the payloads of reaction, edited and deleted.
result<event_payload> parse_change_payload(event_kind kind, const json::object& o) {
  auto target = id_of(o, "target");
  if (!target) return target.error();
  if (kind == event_kind::reaction) {
    auto emoji = text_of(o, "emoji");
    auto* added = o.if_contains("added");
    auto count = id_of(o, "count");
    if (!emoji) return emoji.error();
    if (!added || !added->is_bool()) return corrupt("added");
    if (!count) return count.error();
    return event_payload{reaction_payload{*target, std::move(*emoji), added->get_bool(), *count}};
  }
  if (kind == event_kind::edited) {
    auto text = text_of(o, "text");
    if (!text) return text.error();
    return event_payload{edited_payload{*target, std::move(*text)}};
  }
  auto by = id_of(o, "by");
  if (!by) return by.error();
  return event_payload{deleted_payload{*target, *by}};
}

result<event_payload> parse_payload_object(event_kind kind, const json::object& o) {
  switch (kind) {
    // i11-changes
    case event_kind::reaction:
    case event_kind::edited:
    case event_kind::deleted:
      return parse_change_payload(kind, o);
    case event_kind::message:
      return event_payload{};
    case event_kind::created: {
      created_payload p;
      auto* k = o.if_contains("kind");
      std::optional<conv_kind> ck;
      if (k && k->is_string()) ck = parse_conv_kind(k->get_string());
      if (!ck) return corrupt("kind");
      p.kind = *ck;
      auto ms = ids_of(o, "members");
      if (!ms) return ms.error();
      p.members = std::move(*ms);
      if (auto* t = o.if_contains("title"); t && t->is_string()) p.title = std::string(t->get_string());
      if (o.contains("owner")) {
        auto ow = id_of(o, "owner");
        if (!ow) return ow.error();
        p.owner = *ow;
      }
      return event_payload{std::move(p)};
    }
    case event_kind::members_added: {
      auto us = ids_of(o, "users");
      auto by = id_of(o, "by");
      if (!us) return us.error();
      if (!by) return by.error();
      return event_payload{members_added_payload{std::move(*us), *by}};
    }
    case event_kind::member_removed:
    case event_kind::member_left: {
      auto u = id_of(o, "user");
      auto by = id_of(o, "by");
      if (!u) return u.error();
      if (!by) return by.error();
      return event_payload{member_gone_payload{*u, *by}};
    }
    case event_kind::role_changed: {
      role_changed_payload p;
      auto u = id_of(o, "user");
      auto by = id_of(o, "by");
      auto r = role_of(o, "role");
      if (!u) return u.error();
      if (!by) return by.error();
      if (!r) return r.error();
      p.user = *u;
      p.by = *by;
      p.new_role = *r;
      if (o.contains("previous_owner_role")) {
        auto pr = role_of(o, "previous_owner_role");
        if (!pr) return pr.error();
        p.previous_owner_role = *pr;
      }
      return event_payload{std::move(p)};
    }
    default:
      break;
  }
  // moderation
  if (auto p = detail::parse_moderation_payload(kind, o)) return std::move(*p);
  return corrupt("kind");
}

}  // namespace

json::object payload_object(const event_payload& p) { return std::visit(payload_to_json{}, p); }

std::string payload_text(const event_payload& p) {
  if (std::holds_alternative<std::monostate>(p)) return {};
  return json::serialize(payload_object(p));
}

result<event_payload> parse_payload(event_kind kind, std::string_view text) {
  if (kind == event_kind::message) return event_payload{};
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 4;
  auto v = json::parse(text, ec, {}, opts);
  if (ec || !v.is_object()) return corrupt("not a JSON object");
  return parse_payload_object(kind, v.get_object());
}

namespace {
// issue 11, threads and mentions: a message's thread and mention fields, each only when set.
void add_thread_fields(json::object& o, const event& ev) {
  if (ev.thread_root) {
    o["thread_root"] = *ev.thread_root;
    if (ev.also_in_conversation) o["also_in_conversation"] = true;
  }
  if (!ev.mentions.empty()) o["mentions"] = id_array(ev.mentions);
  if (ev.mention_all) o["mention_all"] = true;
  if (ev.mention_here) o["mention_here"] = true;
  if (ev.thread) {
    const auto& t = *ev.thread;
    o["thread"] = json::object{{"replies", t.replies},     {"last_ts", t.last_ms},     {"last_seq", t.last_seq},
                               {"participants", id_array(t.participants)}, {"following", t.following}, {"unread", t.unread}};
  }
}
}  // namespace

json::object event_object(const event& ev) {
  json::object o;
  o["conv"] = ev.conv;
  o["seq"] = ev.seq;
  o["kind"] = to_string(ev.kind);
  o["sender"] = ev.sender;
  o["device"] = ev.device;
  o["ts"] = ev.ts_ms;
  if (ev.kind == event_kind::message) {
    o["client_id"] = ev.client_id;
    o["text"] = ev.text;
    o["content_type"] = ev.content_type;
    if (ev.reply_to) o["reply_to"] = *ev.reply_to;
    // i11-changes: the message's current state
    if (ev.edited_ms) o["edited_ts"] = *ev.edited_ms;
    if (ev.deleted) o["deleted"] = true;
    if (!ev.reactions.empty()) {
      json::array rs;
      for (auto& r : ev.reactions) rs.push_back(json::object{{"emoji", r.emoji}, {"count", r.count}, {"me", r.me}});
      o["reactions"] = std::move(rs);
    }
    add_thread_fields(o, ev);  // issue 11, threads and mentions
  } else if (!std::holds_alternative<std::monostate>(ev.payload)) {
    o["data"] = payload_object(ev.payload);
  }
  return o;
}

std::string event_json(const event& ev) { return json::serialize(event_object(ev)); }

std::string event_frame(std::int64_t pos, std::string_view event_json_text) {
  char head[event_frame_head_max];
  const auto n = event_frame_head(pos, head);
  std::string out;
  out.reserve(n + event_json_text.size() + 1);
  out.append(head, n);
  out += event_json_text;
  out += '}';
  return out;
}

std::size_t event_frame_head(std::int64_t pos, char* out) {
  constexpr std::string_view a = R"({"type":"event","pos":)", b = R"(,"event":)";
  char* p = std::copy(a.begin(), a.end(), out);
  p = std::to_chars(p, out + event_frame_head_max - b.size(), pos).ptr;
  p = std::copy(b.begin(), b.end(), p);
  return static_cast<std::size_t>(p - out);
}

json::object to_json(const member_record& m) {
  return {{"user_id", m.user_id}, {"username", m.username}, {"role", to_string(m.role)}, {"joined_seq", m.joined_seq}};
}

json::object to_json(const conversation_summary& s) {
  json::object o{{"conv", s.id},          {"kind", to_string(s.kind)}, {"title", s.title},
                 {"last_seq", s.last_seq}, {"last_ts", s.last_ms},      {"read_seq", s.read_seq},
                 {"unread", s.unread},     {"role", to_string(s.role)}};
  o["last_message"] = s.last_message ? json::value(event_object(*s.last_message)) : json::value(nullptr);
  o["unread_mentions"] = s.unread_mentions;  // issue 11, threads and mentions
  if (s.kind == conv_kind::direct) {
    json::array ms;
    for (auto& m : s.members) ms.push_back(to_json(m));
    o["members"] = std::move(ms);
  }
  detail::add_moderation_fields(s, o);  // moderation
  if (s.channel)  // issue 12
    o["channel"] = json::object{{"topic", s.channel->topic},
                                {"visibility", s.channel->is_public ? "public" : "private"},
                                {"member_count", s.channel->member_count}};
  return o;
}

json::object to_json(const device_record& d) {
  json::object o{{"device_id", d.id}, {"name", d.name}, {"created_ts", d.created_ms}};
  o["revoked_ts"] = d.revoked_ms ? json::value(*d.revoked_ms) : json::value(nullptr);
  return o;
}

}  // namespace confab::protocol
