// Moderation: conversation settings (set_conversation), pins (pin, unpin, pins), and muting and
// banning members (mute_member, unmute_member, ban_member, unban_member). Every change is an event
// in the conversation's log; who may do what is in rules.hpp, checked by storage under the
// conversation's row lock.
#include "chat/service.hpp"
#include "core/time.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

#include <limits>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

constexpr std::int64_t max_i64 = std::numeric_limits<std::int64_t>::max();

struct set_conversation_req {
  std::int64_t conv;
  std::optional<bytes<1, 200>> title;
  std::optional<bytes<0, 2000>> description;
  std::optional<std::string> post_policy;
  std::optional<std::string> pin_policy;
  std::optional<int_range<0, 100000>> wildcard_limit;
  std::optional<int_range<0, 86400>> slow_mode_s;
};
BOOST_DESCRIBE_STRUCT(set_conversation_req, (), (conv, title, description, post_policy, pin_policy, wildcard_limit, slow_mode_s))

struct pin_req {
  std::int64_t conv;
  int_range<1, max_i64> seq;
};
BOOST_DESCRIBE_STRUCT(pin_req, (), (conv, seq))

struct conv_req {
  std::int64_t conv;
};
BOOST_DESCRIBE_STRUCT(conv_req, (), (conv))

constexpr std::int64_t max_mute_s = 366LL * 24 * 3600;

struct mute_req {
  std::int64_t conv;
  std::int64_t user_id;
  int_range<1, max_mute_s> duration_s;
};
BOOST_DESCRIBE_STRUCT(mute_req, (), (conv, user_id, duration_s))

struct member_req {
  std::int64_t conv;
  std::int64_t user_id;
};
BOOST_DESCRIBE_STRUCT(member_req, (), (conv, user_id))

result<std::optional<conv_policy>> policy_field(std::string_view name, const std::optional<std::string>& v) {
  if (!v) return std::optional<conv_policy>{};
  auto p = parse_policy(*v);
  if (!p) return make_error(errc::invalid_field, "field " + std::string(name) + " must be \"everyone\" or \"admins\"");
  return std::optional<conv_policy>{*p};
}

result<settings_payload> to_change(const set_conversation_req& r) {
  settings_payload ch;
  auto post = policy_field("post_policy", r.post_policy);
  if (!post) return post.error();
  auto pin = policy_field("pin_policy", r.pin_policy);
  if (!pin) return pin.error();
  if (r.title) ch.title = r.title->value;
  if (r.description) ch.description = r.description->value;
  ch.post_policy = *post;
  ch.pin_policy = *pin;
  if (r.wildcard_limit) ch.wildcard_limit = r.wildcard_limit->value;
  if (r.slow_mode_s) ch.slow_mode_s = r.slow_mode_s->value;
  if (!ch.title && !ch.description && !ch.post_policy && !ch.pin_policy && !ch.wildcard_limit && !ch.slow_mode_s)
    return make_error(errc::invalid_field, "give at least one setting to change");
  return ch;
}

json::value seq_result(id_t conv, std::int64_t seq) { return json::object{{"conv", conv}, {"seq", seq}}; }

void add_member_moderation_ops(op_table& t, const deps* d);

}  // namespace

void fill_setting_defaults(json::array& summaries, const limits& lim) {
  for (auto& s : summaries) {
    auto* st = s.as_object().if_contains("settings");
    if (!st || !st->is_object()) continue;
    auto& w = st->as_object()["wildcard_limit"];
    if (w.is_null()) w = static_cast<std::int64_t>(lim.wildcard_mention_limit);
  }
}

void add_moderation_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<set_conversation_req>("set_conversation", authed, [d](const op_context& c, const set_conversation_req& r) -> op_result {
    auto ch = to_change(r);
    if (!ch) co_return ch.error();
    auto seq = co_await d->store.set_conversation(c.who->user_id, c.who->device_id, r.conv, *ch);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, *seq);
  });
  for (bool pin : {true, false}) {
    t.add<pin_req>(pin ? "pin" : "unpin", authed, [d, pin](const op_context& c, const pin_req& r) -> op_result {
      auto seq = co_await d->store.set_pin(c.who->user_id, c.who->device_id, r.conv, r.seq.value, pin);
      if (!seq) co_return seq.error();
      co_return seq_result(r.conv, *seq);
    });
  }
  t.add<conv_req>("pins", authed, [d](const op_context& c, const conv_req& r) -> op_result {
    auto ps = co_await d->store.pins(c.who->user_id, r.conv);
    if (!ps) co_return ps.error();
    json::array out;
    for (auto& p : *ps)
      out.push_back(json::object{{"seq", p.seq}, {"by", p.by}, {"ts", p.pinned_ms}, {"message", protocol::event_object(p.message)}});
    co_return json::object{{"conv", r.conv}, {"pins", std::move(out)}};
  });
  add_member_moderation_ops(t, d);
}

namespace {

void add_member_moderation_ops(op_table& t, const deps* d) {
  constexpr op_policy authed{};
  t.add<mute_req>("mute_member", authed, [d](const op_context& c, const mute_req& r) -> op_result {
    const std::int64_t until = now_ms() + r.duration_s.value * 1000;
    auto seq = co_await d->store.mute_member(c.who->user_id, c.who->device_id, r.conv, r.user_id, until);
    if (!seq) co_return seq.error();
    co_return json::object{{"conv", r.conv}, {"seq", *seq}, {"until", until}};
  });
  t.add<member_req>("unmute_member", authed, [d](const op_context& c, const member_req& r) -> op_result {
    auto seq = co_await d->store.mute_member(c.who->user_id, c.who->device_id, r.conv, r.user_id, std::nullopt);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, *seq);
  });
  for (bool ban : {true, false}) {
    t.add<member_req>(ban ? "ban_member" : "unban_member", authed, [d, ban](const op_context& c, const member_req& r) -> op_result {
      auto seq = co_await d->store.ban_member(c.who->user_id, c.who->device_id, r.conv, r.user_id, ban);
      if (!seq) co_return seq.error();
      co_return seq_result(r.conv, *seq);
    });
  }
}

}  // namespace

}  // namespace confab::chat
