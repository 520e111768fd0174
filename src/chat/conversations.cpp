// Conversations and membership: the list, one conversation, creating direct chats and groups,
// adding and removing members, leaving, roles, the member list.
#include "chat/profiles.hpp"
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

// Arrays of user ids are bounded by --max-group-members, checked in the handler; this bound only
// keeps a hostile request from being decoded at all.
constexpr std::size_t max_ids = 100'000;

struct conversations_req {
  std::optional<int_range<1, 100>> limit;
  std::optional<std::int64_t> before_ts;
  std::optional<std::int64_t> before_conv;
};
BOOST_DESCRIBE_STRUCT(conversations_req, (), (limit, before_ts, before_conv))

struct conv_req {
  std::int64_t conv;
};
BOOST_DESCRIBE_STRUCT(conv_req, (), (conv))

struct create_direct_req {
  std::optional<std::int64_t> user_id;
  std::optional<std::string> username;
};
BOOST_DESCRIBE_STRUCT(create_direct_req, (), (user_id, username))

struct create_group_req {
  bytes<1, 200> title;
  protocol::id_list<max_ids> members;
};
BOOST_DESCRIBE_STRUCT(create_group_req, (), (title, members))

struct add_members_req {
  std::int64_t conv;
  protocol::id_list<max_ids> users;
};
BOOST_DESCRIBE_STRUCT(add_members_req, (), (conv, users))

struct remove_member_req {
  std::int64_t conv;
  std::int64_t user_id;
};
BOOST_DESCRIBE_STRUCT(remove_member_req, (), (conv, user_id))

struct set_role_req {
  std::int64_t conv;
  std::int64_t user_id;
  std::string role;
};
BOOST_DESCRIBE_STRUCT(set_role_req, (), (conv, user_id, role))

result<nothing> check_group_size(std::string_view field, std::size_t n, std::size_t max) {
  if (n > max)
    return make_error(errc::invalid_field, "field " + std::string(field) + " must be an array of at most " + std::to_string(max) + " integers");
  return nothing{};
}

json::value seq_result(id_t conv, result<std::int64_t>& r) { return json::object{{"conv", conv}, {"seq", *r}}; }

void add_membership_ops(op_table& t, const deps& dref);

}  // namespace

void add_conversation_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<conversations_req>("conversations", authed, [d](const op_context& c, const conversations_req& r) -> op_result {
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    std::optional<storage::conv_cursor> cur;
    if (r.before_ts || r.before_conv) {
      if (!r.before_ts || !r.before_conv) co_return make_error(errc::invalid_field, "give both before_ts and before_conv");
      cur = storage::conv_cursor{*r.before_ts, *r.before_conv};
    }
    auto list = co_await d->store.conversations(c.who->user_id, cur, limit);
    if (!list) co_return list.error();
    json::array out;
    for (auto& s : *list) out.push_back(protocol::to_json(s));
    fill_setting_defaults(out, d->lim);  // moderation
    const auto objs = summary_members(out);
    if (auto n = co_await add_display_names(d->store, objs); !n) co_return n.error();
    json::value next = nullptr;
    if (static_cast<int>(list->size()) == limit)
      next = json::object{{"before_ts", list->back().last_ms}, {"before_conv", list->back().id}};
    co_return json::object{{"conversations", std::move(out)}, {"next", next}};
  });
  t.add<conv_req>("conversation", authed, [d](const op_context& c, const conv_req& r) -> op_result {
    auto s = co_await d->store.conversation(c.who->user_id, r.conv);
    if (!s) co_return s.error();
    json::array out{protocol::to_json(*s)};
    fill_setting_defaults(out, d->lim);  // moderation
    const auto objs = summary_members(out);
    if (auto n = co_await add_display_names(d->store, objs); !n) co_return n.error();
    co_return std::move(out[0]);
  });
  add_membership_ops(t, dref);
}

namespace {
// Creating conversations and changing who is in them, and in which role.
void add_membership_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<create_direct_req>("create_direct", authed, [d](const op_context& c, const create_direct_req& r) -> op_result {
    id_t target = 0;
    if (r.user_id) {
      target = *r.user_id;
    } else if (r.username) {
      auto id = co_await d->store.find_user_id(*r.username);
      if (!id) co_return id.error();
      target = *id;
    } else {
      co_return make_error(errc::missing_field, "missing field: user_id (or username)");
    }
    auto created = co_await d->store.create_direct(c.who->user_id, c.who->device_id, target);
    if (!created) co_return created.error();
    co_return json::object{{"conv", created->conv}, {"created", created->is_new}};
  });
  t.add<create_group_req>("create_group", authed, [d](const op_context& c, const create_group_req& r) -> op_result {
    if (auto ok = check_group_size("members", r.members.value.size(), d->lim.max_group_members); !ok) co_return ok.error();
    auto conv = co_await d->store.create_group(c.who->user_id, c.who->device_id, r.title.value, r.members.value);
    if (!conv) co_return conv.error();
    co_return json::object{{"conv", *conv}};
  });
  t.add<add_members_req>("add_members", authed, [d](const op_context& c, const add_members_req& r) -> op_result {
    if (auto ok = check_group_size("users", r.users.value.size(), d->lim.max_group_members); !ok) co_return ok.error();
    if (r.users.value.empty()) co_return make_error(errc::invalid_field, "field users must not be empty");
    auto seq = co_await d->store.add_members(c.who->user_id, c.who->device_id, r.conv, r.users.value);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, seq);
  });
  t.add<remove_member_req>("remove_member", authed, [d](const op_context& c, const remove_member_req& r) -> op_result {
    auto seq = co_await d->store.remove_member(c.who->user_id, c.who->device_id, r.conv, r.user_id);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, seq);
  });
  t.add<conv_req>("leave", authed, [d](const op_context& c, const conv_req& r) -> op_result {
    auto seq = co_await d->store.remove_member(c.who->user_id, c.who->device_id, r.conv, c.who->user_id);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, seq);
  });
  t.add<set_role_req>("set_role", authed, [d](const op_context& c, const set_role_req& r) -> op_result {
    auto role = parse_role(r.role);
    if (!role || *role == conv_role::none) co_return make_error(errc::invalid_field, "role must be owner, admin or member");
    auto seq = co_await d->store.set_role(c.who->user_id, c.who->device_id, r.conv, r.user_id, *role);
    if (!seq) co_return seq.error();
    co_return seq_result(r.conv, seq);
  });
  t.add<conv_req>("members", authed, [d](const op_context& c, const conv_req& r) -> op_result {
    auto ms = co_await d->store.members(c.who->user_id, r.conv);
    if (!ms) co_return ms.error();
    json::array out;
    for (auto& m : *ms) out.push_back(protocol::to_json(m));
    const auto objs = objects_of(out);
    if (auto n = co_await add_display_names(d->store, objs); !n) co_return n.error();
    co_return json::object{{"members", std::move(out)}};
  });
}

}  // namespace

}  // namespace confab::chat
