// issue 17: the server administrators' operations. They are declared admin_only: the gateway
// refuses them with forbidden to anyone whose username the node's --admin does not name.
// What they read from the nodes comes from cluster queries (live_port::cluster), answered by every
// node (gateway/admin_queries.cpp). docs/protocol.md section 6 ("Server administration").
#include "chat/accounts.hpp"
#include "chat/service.hpp"
#include "storage/push_store.hpp"

#include <algorithm>
#include <cstdio>

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

struct admin_trace_req {
  std::optional<protocol::int_range<1, std::numeric_limits<std::int64_t>::max()>> trace_id;
  std::optional<protocol::int_range<1, std::numeric_limits<std::int64_t>::max()>> conv;
  std::optional<protocol::int_range<1, std::numeric_limits<std::int64_t>::max()>> seq;
  std::optional<std::string> username;  // with client_id: the sender's client id of the send
  std::optional<protocol::bytes<1, 64>> client_id;
};
BOOST_DESCRIBE_STRUCT(admin_trace_req, (), (trace_id, conv, seq, username, client_id))

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

// The items of list field of every node's answer, each tagged with its node ({"node": id, ...}).
std::vector<json::object> from_nodes(const json::object& answers, std::string_view field) {
  std::vector<json::object> out;
  for (auto& n : answers.at("nodes").as_array()) {
    const auto& node = n.as_object();
    const auto* list = node.if_contains(field);
    if (!list || !list->is_array()) continue;
    for (const auto& item : list->as_array()) {
      auto o = item.as_object();
      o["node"] = node.at("node");
      out.push_back(std::move(o));
    }
  }
  return out;
}

// Every node's sessions of user, each tagged with its node: {"sessions":[...], "missing":[...]}.
boost::asio::awaitable<result<json::object>> sessions_of(const deps& d, id_t user) {
  json::object args;  // not a braced temporary inside co_await (GCC 12)
  args["user"] = user;
  auto r = co_await d.live.cluster("user_sessions", std::move(args));
  if (!r) co_return r.error();
  json::array sessions;
  for (auto& s : from_nodes(*r, "sessions")) sessions.push_back(std::move(s));
  json::object out;
  out["sessions"] = std::move(sessions);
  out["missing"] = std::move(r->at("missing"));
  co_return out;
}

// The hops of every node's answer, each with its node, in time order (ties: the answers' order).
// Hops oldest first (a stable sort: one node's hops of the same microsecond keep their order).
void by_time(json::array& hops) {
  std::stable_sort(hops.begin(), hops.end(), [](const json::value& a, const json::value& b) {
    return a.at("at_us").to_number<std::int64_t>() < b.at("at_us").to_number<std::int64_t>();
  });
}

json::array merged_hops(const json::object& answers, std::int64_t& trace) {
  for (auto& n : answers.at("nodes").as_array())
    if (const auto* t = n.as_object().if_contains("trace_id"); t && t->is_int64() && t->as_int64() > 0) trace = t->as_int64();
  json::array out;
  for (auto& h : from_nodes(answers, "hops")) out.push_back(std::move(h));
  by_time(out);
  return out;
}

// The pushes of (conv, seq) as hops, from the durable queue (they are not in any node's
// recorder): "push_queued" when its row was queued (node "queue": which node's feed consumer
// queued it is not kept), and "push" when it ended, on the node that ended it.
boost::asio::awaitable<result<std::vector<json::object>>> push_hops(const deps& d, id_t conv, std::int64_t seq) {
  auto rows = co_await d.store.push().message_rows(conv, seq);
  if (!rows) co_return rows.error();
  std::vector<json::object> out;
  for (const auto& r : *rows) {
    out.push_back(json::object{{"hop", "push_queued"}, {"node", "queue"}, {"at_us", r.created_ms * 1000}, {"user", r.user},
                               {"device", r.device}, {"rule", r.rule}, {"due_ms", r.due_ms}});
    if (r.state == "queued") continue;
    out.push_back(json::object{{"hop", "push"}, {"node", r.node.empty() ? std::string("queue") : r.node},
                               {"at_us", r.updated_ms * 1000}, {"device", r.device}, {"state", r.state},
                               {"attempts", r.attempts}, {"detail", r.detail}});
  }
  co_return out;
}

// The message a trace's hops are of: its committed hop's (conv, seq), or {0, 0}.
std::pair<id_t, std::int64_t> traced_message(const json::array& hops) {
  for (const auto& h : hops) {
    const auto& o = h.as_object();
    if (o.at("hop") == "committed" && o.contains("conv") && o.contains("seq"))
      return {o.at("conv").to_number<id_t>(), o.at("seq").to_number<std::int64_t>()};
  }
  return {0, 0};
}

// A Mermaid sequence diagram of the hops: one participant per node, a note per hop with the time
// since the previous hop, an arrow where the message moves to another node.
std::string mermaid(const json::array& hops) {
  std::string out = "sequenceDiagram\n";
  std::vector<std::string> nodes;
  for (const auto& h : hops) {
    std::string n(h.at("node").as_string());
    if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) out += "  participant N" + std::to_string(i) + " as node " + nodes[i] + "\n";
  auto index = [&](const json::value& h) {
    return std::find(nodes.begin(), nodes.end(), std::string(h.at("node").as_string())) - nodes.begin();
  };
  std::int64_t prev_at = 0;
  std::ptrdiff_t prev_node = -1;
  for (const auto& h : hops) {
    const auto at = h.at("at_us").to_number<std::int64_t>();
    const auto node = index(h);
    const double ms = prev_node < 0 ? 0 : static_cast<double>(at - prev_at) / 1000.0;
    char dur[32];
    std::snprintf(dur, sizeof dur, "+%.3f ms", ms);
    const std::string kind(h.at("hop").as_string());
    if (prev_node >= 0 && node != prev_node)
      out += "  N" + std::to_string(prev_node) + "->>N" + std::to_string(node) + ": " + kind + " " + dur + "\n";
    else
      out += "  Note over N" + std::to_string(node) + ": " + kind + " " + dur + "\n";
    prev_at = at;
    prev_node = node;
  }
  return out;
}

}  // namespace

boost::asio::awaitable<result<user_record>> named_user(const deps& d, const std::string& username) {
  if (auto ok = check_username(username, "field username"); !ok) co_return ok.error();
  co_return co_await d.store.find_user(username);
}


void add_admin_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy admin{.admin_only = true};
  t.add<protocol::no_fields>("admin_nodes", admin, [d](const op_context&, const protocol::no_fields&) -> op_result {
    auto r = co_await d->live.cluster("node", json::object{});
    if (!r) co_return r.error();
    co_return std::move(*r);
  });
  t.add<protocol::no_fields>("admin_server", admin, [d](const op_context&, const protocol::no_fields&) -> op_result {
    co_return json::object{{"version", CONFAB_VERSION}, {"node", d->live.node_id()},
                           {"config", config_object(d->lim.effective_config)}};
  });
  t.add<admin_trace_req>("admin_trace", admin, [d](const op_context&, const admin_trace_req& r) -> op_result {
    json::object args;
    std::int64_t trace = r.trace_id ? r.trace_id->value : 0;
    if (r.trace_id) {
      args["trace_id"] = r.trace_id->value;
    } else if (r.conv && r.seq) {
      args["conv"] = r.conv->value;
      args["seq"] = r.seq->value;
    } else if (r.username && r.client_id) {
      // Only the sender's node knows the client id: find the trace id there, then ask every node.
      auto u = co_await named_user(*d, *r.username);
      if (!u) co_return u.error();
      json::object who;
      who["user"] = u->id;
      who["client_id"] = r.client_id->value;
      auto found = co_await d->live.cluster("trace", std::move(who));
      if (!found) co_return found.error();
      (void)merged_hops(*found, trace);
      if (trace == 0) co_return make_error(errc::not_found, "no node traced a send by this user with this client_id");
      args["trace_id"] = trace;
    } else {
      co_return make_error(errc::missing_field, "give trace_id, or conv and seq, or username and client_id");
    }
    auto q = co_await d->live.cluster("trace", std::move(args));
    if (!q) co_return q.error();
    auto hops = merged_hops(*q, trace);
    if (hops.empty()) co_return make_error(errc::not_found, "no node holds hops of this message (not traced, or forgotten)");
    std::pair<id_t, std::int64_t> message = traced_message(hops);
    if (r.conv && r.seq) message = {r.conv->value, r.seq->value};
    const id_t conv = message.first;
    const std::int64_t seq = message.second;
    if (conv > 0) {
      auto pushes = co_await push_hops(*d, conv, seq);
      if (!pushes) co_return pushes.error();
      for (auto& p : *pushes) hops.push_back(std::move(p));
      by_time(hops);
    }
    json::object out;
    out["trace_id"] = trace;
    out["total_us"] = hops.back().at("at_us").to_number<std::int64_t>() - hops.front().at("at_us").to_number<std::int64_t>();
    out["mermaid"] = mermaid(hops);
    out["hops"] = std::move(hops);
    out["missing"] = std::move(q->at("missing"));
    co_return out;
  });
  t.add<admin_user_req>("admin_user", admin, [d](const op_context&, const admin_user_req& r) -> op_result {
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
  t.add<admin_disconnect_req>("admin_disconnect", admin, [d](const op_context&, const admin_disconnect_req& r) -> op_result {
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
