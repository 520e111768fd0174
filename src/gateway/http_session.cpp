#include "gateway/http_session.hpp"

#include "gateway/static_files.hpp"
#include "gateway/ws_session.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

namespace confab::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

const char* index_html = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Confab</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Confab is running</h1>
<p>This <code>confabd</code> serves the JSON API at <code>POST /v1/&lt;operation&gt;</code> and the real-time
protocol over WebSocket at <code>/v1/ws</code>. The browser chat client is served here once it ships;
until then, see <code>docs/protocol.md</code> to talk to the server.</p>
<p>Health: <a href="/healthz">/healthz</a></p></body></html>
)";

using response = http::response<http::string_body>;

response make_json(unsigned status, std::string body, unsigned version, bool keep_alive) {
  response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "confabd");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response make_error_response(const error& e, unsigned version, bool keep_alive) {
  auto res = make_json(http_status(e.code), protocol::error_body(e), version, keep_alive);
  if (e.code == errc::unauthenticated || e.code == errc::invalid_credentials)
    res.set(http::field::www_authenticate, "Bearer");
  return res;
}

std::string_view bearer(const http::request<http::string_body>& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v = it->value();
  constexpr std::string_view prefix = "Bearer ";
  if (v.size() <= prefix.size() || v.substr(0, prefix.size()) != prefix) return {};
  return v.substr(prefix.size());
}

asio::awaitable<response> route(http::request<http::string_body>& req, api& api) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  std::string_view target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);

  constexpr std::string_view api_prefix = "/v1/";
  const bool api_path = target.substr(0, api_prefix.size()) == api_prefix;
  const bool head = req.method() == http::verb::head;
  if ((req.method() == http::verb::get || head) && !api_path && target != "/healthz") {
    const static_request sr{target, req[http::field::accept_encoding], head, api.opts().web_source_maps, v, ka};
    if (auto res = serve_static_file(api.opts().web_root, sr)) co_return std::move(*res);
  }
  if (req.method() == http::verb::get && (target == "/" || target == "/index.html")) {
    response res{http::status::ok, v};
    res.set(http::field::server, "confabd");
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.keep_alive(ka);
    res.body() = index_html;
    res.prepare_payload();
    co_return res;
  }
  if (req.method() == http::verb::get && target == "/healthz") co_return make_json(200, R"({"ok":true})", v, ka);

  if (!api_path || target == "/v1/ws")
    co_return make_error_response(make_error(errc::unknown_op, "no such endpoint"), v, ka);
  if (req.method() != http::verb::post) {
    auto res = make_error_response(make_error(errc::unknown_op, "API operations take POST"), v, ka);
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "POST");
    co_return res;
  }
  std::string op(target.substr(api_prefix.size()));
  auto body = protocol::parse_body(req.body(), api.opts().max_frame_bytes);
  if (!body) co_return make_error_response(body.error(), v, ka);

  const std::string token(bearer(req));
  auto r = co_await api.call_http(op, *body, token);
  if (!r) co_return make_error_response(r.error(), v, ka);
  co_return make_json(200, json::serialize(*r), v, ka);
}

}  // namespace

asio::awaitable<void> serve_http(beast::tcp_stream stream, api& api, std::shared_ptr<hub> hub,
                                 std::shared_ptr<void> slot) {
  beast::flat_buffer buf;
  const auto& opts = api.opts();
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(opts.max_frame_bytes);
    parser.header_limit(16 * 1024);
    stream.expires_after(opts.http_idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buf, parser, tuple_awaitable);
    if (ec == http::error::body_limit) {
      auto res = make_error_response(make_error(errc::too_large, "request body exceeds the limit of " +
                                                                     std::to_string(opts.max_frame_bytes) + " bytes"),
                                     11, false);
      stream.expires_after(opts.handshake_timeout);
      co_await http::async_write(stream, res, tuple_awaitable);
      break;
    }
    if (ec) break;
    auto req = parser.release();
    if (hub->stopping()) {
      auto res = make_error_response(make_error(errc::unavailable, "server shutting down"), req.version(), false);
      stream.expires_after(opts.handshake_timeout);
      co_await http::async_write(stream, res, tuple_awaitable);
      break;
    }
    if (beast::websocket::is_upgrade(req)) {
      std::string_view target = req.target();
      if (target.substr(0, target.find('?')) == "/v1/ws") {
        stream.expires_never();
        std::make_shared<ws_session>(std::move(stream), api, hub, std::move(slot))->start(std::move(req));
        co_return;
      }
    }
    auto res = co_await route(req, api);
    stream.expires_after(opts.http_idle_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace confab::gateway
