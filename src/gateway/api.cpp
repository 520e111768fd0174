#include "gateway/api.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <unordered_map>

namespace confab::gateway {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
// Awaits a callback-style call: start(done) must call done(T) once, on any thread; the awaiting
// coroutine resumes on its own executor. Not a coroutine itself: the initiation's lambda must not
// be a temporary inside a co_await expression (GCC 12 destroys such temporaries twice).
template <class T, class Start>
asio::awaitable<T> from_callback(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(
      [start = std::move(start)](auto handler) mutable {
        auto ex = asio::get_associated_executor(handler);
        // std::function needs a copyable target: share the move-only completion handler.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h, ex](T r) mutable { asio::post(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); }); });
      },
      asio::use_awaitable);
}
}  // namespace

// The hub, as the chat operations see it.
class api::hub_live final : public chat::live_port {
 public:
  explicit hub_live(hub& h) : hub_(h) {}
  void receipt(id_t conv, const receipt_record& r) override { hub_.receipt(conv, r); }
  void typing(id_t user, const std::string& username, id_t conv, bool active, std::optional<std::int64_t> thread) override {
    hub_.typing(user, username, conv, active, thread);
  }
  void disconnect_device(id_t user, id_t device, std::uint16_t code, const std::string& reason) override {
    hub_.disconnect_device(user, device, code, reason);
  }
  std::optional<bool> local_member(id_t user, id_t conv) const override { return hub_.local_member(user, conv); }
  // issue 11, threads and mentions.
  asio::awaitable<std::vector<bool>> online(const std::vector<id_t>& users) override {
    return from_callback<std::vector<bool>>(
        [this, who = users](auto done) mutable { hub_.presence_query(std::move(who), std::move(done)); });
  }
  // issue 17.
  asio::awaitable<result<json::object>> cluster(std::string kind, json::object args) override {
    return from_callback<result<json::object>>([this, kind = std::move(kind), args = std::move(args)](auto done) mutable {
      hub_.ask(std::move(kind), std::move(args), [done](result<cluster_query::answers> r) mutable { done(to_json(std::move(r))); });
    });
  }
  std::string node_id() const override { return hub_.node_id(); }
  std::int64_t trace_begin(id_t user, id_t device, const std::string& client_id) override {
    return hub_.traces().begin(user, device, client_id);
  }
  void trace_hop(std::int64_t trace, std::string kind, json::object attrs) override {
    hub_.traces().hop(trace, std::move(kind), std::move(attrs));
  }

 private:
  static result<json::object> to_json(result<cluster_query::answers> r) {
    if (!r) return r.error();
    json::array nodes, missing;
    for (auto& [node, body] : r->by_node) {
      json::object o{{"node", node}};
      for (auto& [k, v] : body) o[k] = std::move(v);
      nodes.push_back(std::move(o));
    }
    for (auto& m : r->missing) missing.push_back(json::string(m));
    return json::object{{"nodes", std::move(nodes)}, {"missing", std::move(missing)}};
  }
  hub& hub_;
};

namespace {
chat::limits chat_limits(const options& o) {
  chat::limits l{o.max_text_bytes, o.max_group_members, o.argon2};
  l.wildcard_mention_limit = o.wildcard_mention_limit;
  l.search_time_limit = o.search_time_limit;
  l.max_reactions_per_message = static_cast<std::int64_t>(o.max_reactions_per_message);
  l.push = o.push;  // issue 15
  l.edit_window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(o.edit_window).count();
  l.effective_config = o.effective_config;
  l.trace_sample = o.trace_sample;
  return l;
}
}  // namespace

// Per operation, its counter for each result, looked up in the family once and then kept (the
// operation table is fixed once the service is built, so the map is never written after that).
struct api::op_stats {
  static constexpr std::size_t max_codes = 64;
  struct row {
    std::string name;
    std::array<std::atomic<metrics::counter*>, max_codes> by_result{};
  };
  explicit op_stats(const chat::op_table& t) {
    for (const auto& n : t.names()) {
      auto r = std::make_unique<row>();
      r->name = n;
      metrics::node().operations.labels({n, "ok"});  // every operation is listed from start-up
      rows.emplace(t.find(n), std::move(r));
    }
    unknown.name = "unknown";
  }
  void count(const chat::operation* op, errc code) {
    auto it = op ? rows.find(op) : rows.end();
    row& r = it == rows.end() ? unknown : *it->second;
    const auto i = static_cast<std::size_t>(code);
    if (i >= max_codes) {
      metrics::node().operations.labels({r.name, error_name(code)}).inc();
      return;
    }
    auto* c = r.by_result[i].load(std::memory_order_acquire);
    if (!c) {
      c = &metrics::node().operations.labels({r.name, code == errc::ok ? std::string_view("ok") : error_name(code)});
      r.by_result[i].store(c, std::memory_order_release);
    }
    c->inc();
  }
  std::unordered_map<const chat::operation*, std::unique_ptr<row>> rows;
  row unknown;
};

api::api(storage::store& store, hub& hub, const options& opts, asio::thread_pool& blocking)
    : store_(store),
      opts_(opts),
      live_(std::make_unique<hub_live>(hub)),
      service_(std::make_unique<chat::service>(
          chat::deps{store, *live_, blocking, chat_limits(opts)})),
      limiter_(opts.rate_per_sec, opts.rate_burst),
      stats_(std::make_unique<op_stats>(service_->ops())) {}

api::~api() = default;

asio::awaitable<result<principal>> api::authenticate(std::string_view token) { return service_->authenticate(token); }

namespace {
error unknown(std::string_view op) { return make_error(errc::unknown_op, "unknown operation: " + std::string(op.substr(0, 64))); }
}  // namespace

asio::awaitable<result<json::value>> api::call(std::string_view name, const json::object& args, const chat::op_context& ctx) {
  const chat::operation* op = service_->ops().find(name);
  const auto start = std::chrono::steady_clock::now();
  auto r = co_await dispatch(op, name, args, ctx);
  stats_->count(op, r ? errc::ok : r.error().code);
  if (!r && (r.error().code == errc::internal || r.error().code == errc::unavailable)) log_failure(name, r.error(), ctx);
  if (r && op && op->name == "send")
    metrics::node().send_commit.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  co_return r;
}

// A request the server could not carry out (not the client's mistake): what, for whom, why, and
// the trace id of the message it concerned, if it was traced.
void api::log_failure(std::string_view name, const error& e, const chat::op_context& ctx) {
  std::string f = "\"op\":" + log::quote(name.substr(0, 64)) + ",\"error\":" + log::quote(error_name(e.code)) +
                  ",\"message\":" + log::quote(e.message);
  if (ctx.who) f += ",\"user\":" + std::to_string(ctx.who->user_id) + ",\"device\":" + std::to_string(ctx.who->device_id);
  if (ctx.trace) f += ",\"trace_id\":" + std::to_string(ctx.trace);
  log::warn("request failed", f);
}

asio::awaitable<result<json::value>> api::dispatch(const chat::operation* op, std::string_view name, const json::object& args,
                                                   const chat::op_context& ctx) {
  const bool ws = ctx.via == chat::transport::ws;
  if (ws && !ctx.who && !(op && op->policy.before_hello))
    co_return make_error(errc::unauthenticated, "send hello with a token first");
  if (op && !op->policy.needs_auth) {
    if (!(ws ? op->policy.ws : op->policy.http)) co_return unknown(name);
    co_return co_await op->run(ctx, args);
  }
  if (!ctx.who) co_return make_error(errc::unauthenticated, "this operation needs a token");
  // Every authenticated call costs its tokens, whether or not the operation exists.
  const int cost = op ? op->policy.rate_cost : 1;
  for (int i = 0; i < cost; ++i)
    if (!limiter_.allow(ctx.who->device_id)) co_return make_error(errc::rate_limited, "too many requests from this device");
  if (!op || !(ws ? op->policy.ws : op->policy.http)) co_return unknown(name);
  if (op->policy.admin_only && std::find(opts_.admins.begin(), opts_.admins.end(), ctx.who->username) == opts_.admins.end())
    co_return make_error(errc::forbidden, "server administrators only");
  co_return co_await op->run(ctx, args);
}

asio::awaitable<result<json::value>> api::call_http(std::string_view name, const json::object& args, std::string_view bearer) {
  const chat::operation* op = service_->ops().find(name);
  chat::op_context ctx;
  ctx.via = chat::transport::http;
  std::optional<principal> who;
  if (!op || op->policy.needs_auth) {
    auto p = co_await authenticate(bearer);
    if (!p) {
      stats_->count(op, p.error().code);
      co_return p.error();
    }
    who = std::move(*p);
    ctx.who = &*who;
  }
  co_return co_await call(name, args, ctx);
}

}  // namespace confab::gateway
