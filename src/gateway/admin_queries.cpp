// issue 17: what this node answers to the cluster queries of the admin operations
// (cluster_query.hpp; the operations are in chat/admin.cpp, the formats in docs/protocol.md).
#include "core/metrics.hpp"
#include "gateway/hub.hpp"

#include <atomic>
#include <cmath>
#include <map>

namespace confab::gateway {
namespace json = boost::json;

namespace {

// The positive integer args[key], or 0.
std::int64_t id_arg(const json::object& args, std::string_view key) {
  const auto* v = args.if_contains(key);
  return v && v->is_int64() && v->as_int64() > 0 ? v->as_int64() : 0;
}

// Calls done once with every session's description, in the sessions' order.
void describe_all(std::vector<session_ptr> sessions, std::function<void(json::array)> done) {
  if (sessions.empty()) {
    done({});
    return;
  }
  struct gather {
    std::vector<json::object> out;
    std::atomic<std::size_t> left;
    std::function<void(json::array)> done;
  };
  auto g = std::make_shared<gather>();
  g->out.resize(sessions.size());
  g->left = sessions.size();
  g->done = std::move(done);
  for (std::size_t i = 0; i < sessions.size(); ++i)
    sessions[i]->describe([g, i](json::object o) {
      g->out[i] = std::move(o);  // each slot written by one session only; the last decrement publishes them
      if (g->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        json::array a;
        for (auto& x : g->out) a.push_back(std::move(x));
        g->done(std::move(a));
      }
    });
}

// The trusted proxies the sessions came through, with how many came through each, by address.
json::array proxies_of(const std::vector<session_ptr>& sessions) {
  std::map<std::string, std::int64_t> count;
  for (const auto& s : sessions)
    if (!s->via().empty()) ++count[s->via()];
  json::array out;
  for (const auto& [address, n] : count) out.push_back(json::object{{"address", address}, {"sessions", n}});
  return out;
}

json::object to_json(const broker::broker_view& v) {
  json::array shards;
  for (const auto& s : v.shards) {
    json::array slots;
    for (const auto& [first, last] : s.slots) slots.push_back(json::array{first, last});
    shards.push_back(json::object{{"address", s.address}, {"slots", std::move(slots)}, {"connected", s.connected},
                                  {"channels", s.channels}});
  }
  return {{"kind", v.kind}, {"cluster", v.cluster}, {"shards", std::move(shards)}};
}

}  // namespace

void hub::add_admin_responders() {
  std::weak_ptr<hub> w = weak_from_this();
  // The node's status and load: its own metrics, summed over their labels.
  cluster_->on("node", [w](const json::object&, cluster_query::done_fn done) {
    auto h = w.lock();
    if (!h) return done({{"error", "stopping"}});
    json::object o;
    o["version"] = CONFAB_VERSION;
    o["started_at_ms"] = h->started_ms_;
    o["sessions"] = h->sessions_.count();
    o["users"] = h->sessions_.users().size();
    o["stopping"] = h->stopping();
    json::object m;
    for (const auto& [name, v] : metrics::totals(metrics::global().render())) {
      if (v == std::trunc(v) && std::abs(v) < 9e15)
        m[name] = static_cast<std::int64_t>(v);  // counts as integers
      else
        m[name] = v;
    }
    o["metrics"] = std::move(m);
    o["proxies"] = proxies_of(h->sessions_.all());
    h->link_.describe_broker([o = std::move(o), done](broker::broker_view v) mutable {
      o["broker"] = to_json(v);
      done(std::move(o));
    });
  });
  cluster_->on("user_sessions", [w](const json::object& args, cluster_query::done_fn done) {
    auto h = w.lock();
    const auto user = id_arg(args, "user");
    if (!h || user == 0) return done({{"error", h ? "bad arguments" : "stopping"}});
    describe_all(h->sessions_.of_user(user), [done](json::array a) { done({{"sessions", std::move(a)}}); });
  });
  // issue 17: the hops of one traced message on this node, by trace id or by (conv, seq).
  cluster_->on("trace", [w](const json::object& args, cluster_query::done_fn done) {
    auto h = w.lock();
    if (!h) return done({{"error", "stopping"}});
    std::int64_t trace = id_arg(args, "trace_id");
    if (const auto* cid = args.if_contains("client_id"); trace == 0 && cid && cid->is_string())
      trace = h->traces_.of_client(id_arg(args, "user"), std::string(cid->as_string()));
    else if (trace == 0)
      trace = h->traces_.of(id_arg(args, "conv"), id_arg(args, "seq"));
    json::object o{{"trace_id", trace}};
    o["hops"] = trace ? h->traces_.hops(trace) : json::array{};
    done(std::move(o));
  });
  cluster_->on("disconnect_device", [w](const json::object& args, cluster_query::done_fn done) {
    auto h = w.lock();
    const auto device = id_arg(args, "device");
    if (!h || device == 0) return done({{"error", h ? "bad arguments" : "stopping"}});
    auto sessions = h->sessions_.of_device(device);
    for (auto& s : sessions) s->kick(4002, "disconnected by an administrator");
    done({{"closed", sessions.size()}});
  });
}

}  // namespace confab::gateway
