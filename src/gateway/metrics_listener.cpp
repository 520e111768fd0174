#include "gateway/metrics_listener.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace confab::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

http::response<http::string_body> answer(const http::request<http::string_body>& req) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "confabd");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  if (get && target == "/metrics") {
    res.set(http::field::content_type, metrics::content_type);
    if (req.method() == http::verb::get) res.body() = metrics::global().render();
  } else {
    res.result(get ? http::status::not_found : http::status::method_not_allowed);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "this listener serves GET /metrics only\n";
  }
  res.prepare_payload();
  return res;
}

asio::awaitable<void> serve(beast::tcp_stream stream) {
  beast::flat_buffer buf;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(4096);
    parser.header_limit(16 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buf, parser, tuple_awaitable);
    if (ec) break;
    auto res = answer(parser.get());
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()), tuple_awaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      log::warn("metrics accept failed", "\"error\":" + log::quote(ec.message()));
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(tuple_awaitable);
      continue;
    }
    auto ex = sock.get_executor();
    asio::co_spawn(ex, serve(beast::tcp_stream(std::move(sock))), asio::detached);
  }
}

}  // namespace

boost::system::error_code bind_and_listen(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

metrics_listener::metrics_listener(asio::io_context& ioc) : acceptor_(asio::make_strand(ioc)) {}

boost::system::error_code metrics_listener::start(const asio::ip::tcp::endpoint& ep) {
  metrics::node();  // every metric is registered before the first scrape
  if (auto ec = bind_and_listen(acceptor_, ep)) return ec;
  asio::co_spawn(acceptor_.get_executor(), accept_loop(acceptor_), asio::detached);
  return {};
}

asio::ip::tcp::endpoint metrics_listener::local_endpoint() const { return acceptor_.local_endpoint(); }

void metrics_listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

}  // namespace confab::gateway
