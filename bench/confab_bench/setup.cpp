#include "setup.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace confab::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

json::object post(const asio::ip::tcp::endpoint& server, const std::string& op, const json::object& body,
                  const std::string& token) {
  for (int attempt = 0;; ++attempt) {
    asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(60));
    s.connect(server);
    http::request<http::string_body> req{http::verb::post, "/v1/" + op, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.body() = json::serialize(body);
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(s, b, res);
    auto v = json::parse(res.body());
    if (res.result() == http::status::ok) return v.as_object();
    // register/login admission (8 at once per node) and rate limits are retryable
    if (res.result() == http::status::too_many_requests && attempt < 200) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    throw std::runtime_error(op + ": " + res.body());
  }
}

void in_parallel(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::string error;
  std::mutex mu;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      try {
        for (int i = next++; i < n; i = next++) fn(i);
      } catch (const std::exception& e) {
        std::lock_guard l(mu);
        error = e.what();
        next = n;
      }
    });
  for (auto& t : ts) t.join();
  if (!error.empty()) throw std::runtime_error(error);
}

std::vector<account> register_users(const asio::ip::tcp::endpoint& server, const std::string& prefix, int n,
                                    int threads) {
  std::vector<account> out(static_cast<std::size_t>(n));
  try {
    in_parallel(n, threads, [&](int i) {
      auto r = post(server, "register", {{"username", prefix + std::to_string(i)}, {"password", "bench-password"}});
      out[static_cast<std::size_t>(i)] = {r.at("user_id").as_int64(), std::string(r.at("token").as_string())};
    });
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("register: ") + e.what());
  }
  return out;
}

std::string run_tag() {
  std::random_device rd;
  static const char* a = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s = "b";
  for (int i = 0; i < 6; ++i) s += a[rd() % 36];
  return s + "_";
}

}  // namespace confab::bench
