// issue 17: the server administrators' operations. An administrator is a user whose username the
// node's configuration names (--admin); every operation here refuses anyone else with forbidden.
// What they read from the nodes comes from cluster queries (live_port::cluster), answered by every
// node (gateway/admin_queries.cpp). docs/protocol.md section 6 ("Server administration").
#include "chat/accounts.hpp"
#include "chat/service.hpp"

#include <algorithm>

namespace confab::chat {
namespace json = boost::json;

namespace {

struct admin_user_req {
  std::string username;
};
BOOST_DESCRIBE_STRUCT(admin_user_req, (), (username))

struct admin_disconnect_req {
  std::string username;
  protocol::int_range<1, std::numeric_limits<std::int64_t>::max()> device_id;
  std::optional<bool> revoke;
};
BOOST_DESCRIBE_STRUCT(admin_disconnect_req, (), (username, device_id, revoke))

bool is_admin(const limits& lim, const principal& who) {
  return std::find(lim.admins.begin(), lim.admins.end(), who.username) != lim.admins.end();
}

error not_admin() { return make_error(errc::forbidden, "server administrators only"); }

// The config-file lines "name = value" as an object (values as written).
json::object config_object(const std::string& text) {
  json::object out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + at, nl - at);
    if (auto eq = line.find(" = "); eq != std::string_view::npos) out[line.substr(0, eq)] = line.substr(eq + 3);
    at = nl + 1;
  }
  return out;
}

// The user a username names, as {"id", "username"}; not_found otherwise.
boost::asio::awaitable<result<user_record>> named_user(const deps& d, const std::string& username) {
  if (auto ok = check_username(username, "field username"); !ok) co_return ok.error();
  co_return co_await d.store.find_user(username);
}

// Every node's sessions of user, each tagged with its node: {"sessions":[...], "missing":[...]}.
boost::asio::awaitable<result<json::object>> sessions_of(const deps& d, id_t user) {
  json::object args;  // not a braced temporary inside co_await (GCC 12)
  args["user"] = user;
  auto r = co_await d.live.cluster("user_sessions", std::move(args));
  if (!r) co_return r.error();
  json::array sessions;
  for (auto& n : r->at("nodes").as_array()) {
    auto& node = n.as_object();
    auto* list = node.if_contains("sessions");
    if (!list || !list->is_array()) continue;
    for (auto& s : list->as_array()) {
      auto o = s.as_object();
      o["node"] = node.at("node");
      sessions.push_back(std::move(o));
    }
  }
  json::object out;
  out["sessions"] = std::move(sessions);
  out["missing"] = std::move(r->at("missing"));
  co_return out;
}

}  // namespace

void add_admin_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<protocol::no_fields>("admin_nodes", authed, [d](const op_context& c, const protocol::no_fields&) -> op_result {
    if (!is_admin(d->lim, *c.who)) co_return not_admin();
    auto r = co_await d->live.cluster("node", json::object{});
    if (!r) co_return r.error();
    co_return std::move(*r);
  });
  t.add<protocol::no_fields>("admin_server", authed, [d](const op_context& c, const protocol::no_fields&) -> op_result {
    if (!is_admin(d->lim, *c.who)) co_return not_admin();
    co_return json::object{{"version", CONFAB_VERSION}, {"node", d->live.node_id()},
                           {"config", config_object(d->lim.effective_config)}};
  });
  t.add<admin_user_req>("admin_user", authed, [d](const op_context& c, const admin_user_req& r) -> op_result {
    if (!is_admin(d->lim, *c.who)) co_return not_admin();
    auto u = co_await named_user(*d, r.username);
    if (!u) co_return u.error();
    auto devs = co_await devices_json(d->store, u->id);
    if (!devs) co_return devs.error();
    auto live = co_await sessions_of(*d, u->id);
    if (!live) co_return live.error();
    json::object out;
    out["user"] = json::object{{"id", u->id}, {"username", u->username}};
    out["devices"] = std::move(*devs);
    out["sessions"] = std::move(live->at("sessions"));
    out["missing"] = std::move(live->at("missing"));
    co_return out;
  });
  t.add<admin_disconnect_req>("admin_disconnect", authed, [d](const op_context& c, const admin_disconnect_req& r) -> op_result {
    if (!is_admin(d->lim, *c.who)) co_return not_admin();
    auto u = co_await named_user(*d, r.username);
    if (!u) co_return u.error();
    const id_t device = r.device_id.value;
    if (r.revoke.value_or(false)) {
      auto rv = co_await d->store.revoke_device(u->id, device);  // not_found unless the user's own device
      if (!rv) co_return rv.error();
      d->live.disconnect_device(u->id, device, 4001, "device revoked");
      co_return json::object{{"revoked", true}};
    }
    auto devs = co_await d->store.list_devices(u->id);
    if (!devs) co_return devs.error();
    if (std::none_of(devs->begin(), devs->end(), [&](const device_record& x) { return x.id == device; }))
      co_return make_error(errc::not_found, "no such device of this user");
    json::object args;  // not a braced temporary inside co_await (GCC 12)
    args["device"] = device;
    auto q = co_await d->live.cluster("disconnect_device", std::move(args));
    if (!q) co_return q.error();
    std::int64_t closed = 0;
    for (auto& n : q->at("nodes").as_array())
      if (auto* k = n.as_object().if_contains("closed"); k && k->is_number()) closed += k->to_number<std::int64_t>();
    json::object out;
    out["revoked"] = false;
    out["closed"] = closed;
    out["missing"] = std::move(q->at("missing"));
    co_return out;
  });
}

}  // namespace confab::chat
