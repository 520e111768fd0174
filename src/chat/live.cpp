// Receipts, typing and presence: delivery and read pointers, typing indicators, who is online.
#include "chat/profiles.hpp"
#include "chat/service.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <limits>

namespace confab::chat {
namespace json = boost::json;

namespace {

constexpr std::int64_t max_i64 = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t max_watched = 256;  // users one connection watches for presence

struct pointer_req {
  std::int64_t conv;
  protocol::int_range<0, max_i64> seq;
};
BOOST_DESCRIBE_STRUCT(pointer_req, (), (conv, seq))

struct conv_req {
  std::int64_t conv;
};
BOOST_DESCRIBE_STRUCT(conv_req, (), (conv))

struct typing_req {
  std::int64_t conv;
  std::optional<bool> active;
  std::optional<protocol::int_range<1, max_i64>> thread;  // issue 11: the root seq when typing in a thread
};
BOOST_DESCRIBE_STRUCT(typing_req, (), (conv, active, thread))

struct presence_req {
  protocol::id_list<max_watched> users;
};
BOOST_DESCRIBE_STRUCT(presence_req, (), (users))

op_result move_pointer(const deps* d, const op_context& c, const pointer_req& r, bool read) {
  const id_t me = c.who->user_id;
  auto mark = read ? d->store.mark_read(me, c.who->device_id, r.conv, r.seq.value)
                    : d->store.mark_delivered(me, c.who->device_id, r.conv, r.seq.value);
  auto p = co_await std::move(mark);
  if (!p) co_return p.error();
  if (!p->channel) d->live.receipt(r.conv, *p);  // issue 12: a channel's members get no receipt frames
  co_return json::object{{"conv", r.conv}, {"read_seq", p->read_seq}, {"delivered_seq", p->delivered_seq}};
}

// The first of users (sorted) missing from shared (sorted), or 0.
id_t first_missing(const std::vector<id_t>& users, const std::vector<id_t>& shared) {
  for (auto u : users)
    if (!std::binary_search(shared.begin(), shared.end(), u)) return u;
  return 0;
}

}  // namespace

void add_live_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<pointer_req>("read", authed, [d](const op_context& c, const pointer_req& r) { return move_pointer(d, c, r, true); });
  t.add<pointer_req>("delivered", authed, [d](const op_context& c, const pointer_req& r) { return move_pointer(d, c, r, false); });
  t.add<conv_req>("receipts", authed, [d](const op_context& c, const conv_req& r) -> op_result {
    auto rs = co_await d->store.receipts(c.who->user_id, r.conv);
    if (!rs) co_return rs.error();
    json::array members;
    for (auto& m : *rs)
      members.push_back(json::object{{"user_id", m.user_id}, {"username", m.username},
                                     {"delivered_seq", m.delivered_seq}, {"read_seq", m.read_seq}});
    const auto objs = objects_of(members);
    if (auto n = co_await add_display_names(d->store, objs); !n) co_return n.error();
    co_return json::object{{"conv", r.conv}, {"members", std::move(members)}};
  });
  t.add<typing_req>("typing", authed, [d](const op_context& c, const typing_req& r) -> op_result {
    const id_t me = c.who->user_id;
    bool member = false;
    if (auto known = d->live.local_member(me, r.conv)) {
      member = *known;
    } else {
      auto m = co_await d->store.is_member(me, r.conv);
      if (!m) co_return m.error();
      member = *m;
    }
    if (!member) co_return make_error(errc::forbidden, "not a member of this conversation");
    d->live.typing(me, c.who->username, r.conv, r.active.value_or(true),
                   r.thread ? std::optional<std::int64_t>(r.thread->value) : std::nullopt);
    co_return json::object{{"ok", true}};
  });
  constexpr op_policy ws_only{.http = false};
  t.add<presence_req>("presence", ws_only, [d](const op_context& c, const presence_req& r) -> op_result {
    std::vector<id_t> users = r.users.value;
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    // Presence is visible only to people who share a conversation.
    auto shared = co_await d->store.shared_users(c.who->user_id, users);
    if (!shared) co_return shared.error();
    if (shared->size() != users.size())
      co_return make_error(errc::forbidden, "you share no conversation with user " + std::to_string(first_missing(users, *shared)));
    auto online = co_await c.session->watch_presence(users);
    auto seen = co_await d->store.last_seen(users);
    if (!seen) co_return seen.error();
    json::array out;
    for (std::size_t i = 0; i < users.size(); ++i) {
      json::object o{{"user_id", users[i]}, {"online", i < online.size() && online[i]}};
      o["last_seen_ts"] = (*seen)[i] ? json::value(*(*seen)[i]) : json::value(nullptr);
      out.push_back(std::move(o));
    }
    co_return json::object{{"users", std::move(out)}};
  });
}

}  // namespace confab::chat
