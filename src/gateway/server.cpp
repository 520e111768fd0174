#include "gateway/server.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "gateway/http_session.hpp"
#include "gateway/metrics_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace confab::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;

server::server(asio::io_context& ioc, storage::store& store, options opts, std::shared_ptr<broker::broker> broker,
               hub_options hopts)
    : ioc_(ioc),
      opts_(std::move(opts)),
      hub_(std::make_shared<hub>(ioc.get_executor(), store, std::move(broker), hopts)),
      api_(store, *hub_, opts_, blocking_),
      acceptor_(asio::make_strand(ioc)) {
  store.set_sink(hub_.get());
  auto& m = metrics::node();
  metric_sources_.push_back(m.connections.add({}, [open = open_] { return static_cast<double>(open->load()); }));
  metric_sources_.push_back(m.websocket_sessions.add({}, [g = gates_] { return static_cast<double>(g->websockets.count()); }));
  metric_sources_.push_back(m.sessions.add({}, [h = hub_] { return static_cast<double>(h->session_count()); }));
}

boost::system::error_code server::start(const asio::ip::tcp::endpoint& ep) {
  if (auto ec = bind_and_listen(acceptor_, ep)) return ec;
  hub_->start();
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  return {};
}

asio::ip::tcp::endpoint server::local_endpoint() const { return acceptor_.local_endpoint(); }

asio::awaitable<void> server::accept_loop() {
  for (;;) {
    asio::io_context& ctx = conn_ctxs_.empty() ? ioc_ : *conn_ctxs_[next_ctx_++ % conn_ctxs_.size()];
    auto [ec, sock] = co_await acceptor_.async_accept(asio::make_strand(ctx), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: back off briefly rather than spin.
      log::warn("accept failed", "\"error\":" + log::quote(ec.message()));
      asio::steady_timer t(ioc_, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (open_->load() >= opts_.max_connections) {
      boost::system::error_code ignored;
      sock.close(ignored);  // over the connection limit: refuse rather than exhaust file descriptors
      metrics::node().connections_refused.inc();
      log::warn("connection refused: limit reached", "\"limit\":" + std::to_string(opts_.max_connections));
      continue;
    }
    open_->fetch_add(1);
    std::shared_ptr<void> slot(nullptr, [open = open_](void*) { open->fetch_sub(1); });
    boost::system::error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto exec = sock.get_executor();
    asio::co_spawn(exec, serve_http(beast::tcp_stream(std::move(sock)), api_, hub_, std::move(slot), gates_), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("http session failed", "\"error\":" + boost::json::serialize(boost::json::string(ex.what())));
      }
    });
  }
}

asio::awaitable<void> server::shutdown() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    hub_->close_all(1001, "server shutting down");
  });
  // Requests first: an upgrade in progress still enters the WebSocket gate, which is closed after.
  log::info("shutdown: waiting for requests in progress",
            "\"requests\":" + std::to_string(gates_->requests.count()) + ",\"websockets\":" +
                std::to_string(gates_->websockets.count()));
  co_await gates_->requests.close();
  co_await gates_->websockets.close();
}

}  // namespace confab::gateway
