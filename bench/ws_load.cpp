// A bounded WebSocket load generator for a running confabd: it measures delivery latency,
// throughput and server memory per connection, and checks while it measures that every receiver
// sees each message exactly once and in order (per-conversation seq and per-user pos both
// contiguous).
//
//   ws_load PORT PID [receivers=50] [senders=5] [messages_per_sender=200] [idle_connections=1000]
//
// PID is confabd's process id (its RSS is read from /proc). Loopback only; every loop is bounded
// in count, and a watchdog ends the whole run after 300 s. Prints one JSON line; exits 1 on any
// violation (and 3 if the watchdog fired).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using clk = std::chrono::steady_clock;

namespace {

unsigned short port;

long rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

json::object post(const std::string& op, const json::object& body, const std::string& token = {}) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
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
  if (res.result() != http::status::ok) throw std::runtime_error(op + ": " + res.body());
  return v.as_object();
}

// Synchronous clients share one io_context (sync operations need no run()); per-connection
// contexts would cost three file descriptors each.
asio::io_context shared_ioc;

struct conn {
  websocket::stream<beast::tcp_stream> ws{shared_ioc};
  beast::flat_buffer buf;
  void open(const std::string& token) {
    beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.handshake("127.0.0.1", "/v1/ws");
    send(json::object{{"op", "hello"}, {"id", 0}, {"token", token}});
    for (;;) {  // until the synced frame
      auto f = read();
      if (f["type"] == "synced") break;
    }
  }
  void send(const json::object& o) {
    ws.text(true);
    ws.write(asio::buffer(json::serialize(o)));
  }
  json::object read() {
    buf.consume(buf.size());
    ws.read(buf);
    return json::parse(beast::buffers_to_string(buf.data())).as_object();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: ws_load PORT PID [receivers=50] [senders=5] [messages_per_sender=200] [idle_connections=1000]\n";
    return 2;
  }
  port = static_cast<unsigned short>(std::stoi(argv[1]));
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(300));
    std::fprintf(stderr, "ws_load: watchdog: run exceeded 300 s\n");
    std::_Exit(3);
  }).detach();
  const int pid = std::stoi(argv[2]);
  const int receivers = argc > 3 ? std::stoi(argv[3]) : 50;
  const int senders = argc > 4 ? std::stoi(argv[4]) : 5;
  const int per_sender = argc > 5 ? std::stoi(argv[5]) : 200;
  const int idle = argc > 6 ? std::stoi(argv[6]) : 1000;
  const std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000);

  // Accounts: the receivers are the members of one group; the first `senders` of them also send.
  std::vector<std::string> tokens;
  json::array ids;
  for (int i = 0; i < std::max(receivers, senders); ++i) {
    auto r = post("register", {{"username", "load" + tag + "_" + std::to_string(i)}, {"password", "load-password"}});
    tokens.push_back(std::string(r["token"].as_string()));
    if (i > 0) ids.push_back(r["user_id"]);
  }
  auto g = post("create_group", {{"title", "load"}, {"members", ids}}, tokens[0]);
  const auto conv = g["conv"].as_int64();

  // Idle connections: server memory per open, authenticated WebSocket.
  const long rss0 = rss_kib(pid);
  std::vector<std::unique_ptr<conn>> idlers;
  for (int i = 0; i < idle; ++i) {
    idlers.push_back(std::make_unique<conn>());
    idlers.back()->open(tokens[i % tokens.size()]);
  }
  const long rss1 = rss_kib(pid);
  idlers.clear();

  // Live delivery: every receiver reads the whole run and checks order and exactly-once.
  const int total = senders * per_sender;
  std::atomic<long> violations{0};
  std::mutex lat_mu;
  std::vector<double> lat_us;
  std::vector<std::thread> rs;
  std::atomic<int> ready{0};
  for (int r = 0; r < receivers; ++r)
    rs.emplace_back([&, r] {
      conn c;
      c.open(tokens[r]);
      ++ready;
      std::int64_t last_seq = -1, last_pos = -1;
      int got = 0;
      std::vector<double> mine;
      while (got < total) {
        json::object f;
        try {
          f = c.read();
        } catch (const std::exception&) {
          violations += total - got;  // a receiver that stops receiving counts every missing message
          break;
        }
        if (f["type"] != "event") continue;
        auto& e = f["event"].as_object();
        const auto pos = f["pos"].as_int64();
        const auto seq = e["seq"].as_int64();
        if ((last_pos >= 0 && pos != last_pos + 1) || (last_seq >= 0 && seq != last_seq + 1)) ++violations;
        last_pos = pos;
        last_seq = seq;
        if (e["conv"].as_int64() != conv || e["kind"] != "message") continue;
        ++got;
        const auto sent_ns = std::stoll(std::string(e["text"].as_string()));
        mine.push_back((clk::now().time_since_epoch().count() - sent_ns) / 1000.0);
      }
      std::lock_guard l(lat_mu);
      lat_us.insert(lat_us.end(), mine.begin(), mine.end());
    });
  while (ready < receivers) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const long rss2 = rss_kib(pid);

  const auto t0 = clk::now();
  std::vector<std::thread> ss;
  for (int s = 0; s < senders; ++s)
    ss.emplace_back([&, s] {
      conn c;
      c.open(tokens[s]);
      for (int i = 0; i < per_sender; ++i) {
        c.send({{"op", "send"}, {"id", i}, {"conv", conv}, {"client_id", tag + "-" + std::to_string(s) + "-" + std::to_string(i)},
                {"text", std::to_string(clk::now().time_since_epoch().count())}});
        for (;;) {  // wait for this send's result (events for this sender are skipped)
          auto f = c.read();
          if (f["type"] == "error") {
            ++violations;
            break;
          }
          if (f["type"] == "result" && f["id"].as_int64() == i) break;
        }
      }
    });
  for (auto& t : ss) t.join();
  for (auto& t : rs) t.join();
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const long rss3 = rss_kib(pid);

  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) { return lat_us.empty() ? 0.0 : lat_us[std::min(lat_us.size() - 1, static_cast<std::size_t>(p * lat_us.size()))]; };
  std::printf(
      "{\"receivers\":%d,\"senders\":%d,\"messages\":%d,\"deliveries\":%zu,\"seconds\":%.2f,\"sends_per_sec\":%.0f,"
      "\"deliveries_per_sec\":%.0f,\"latency_p50_us\":%.0f,\"latency_p99_us\":%.0f,\"violations\":%ld,"
      "\"idle_connections\":%d,\"rss_kib_before\":%ld,\"rss_kib_with_idle\":%ld,\"bytes_per_idle_connection\":%.0f,"
      "\"rss_kib_receivers_connected\":%ld,\"rss_kib_after_run\":%ld}\n",
      receivers, senders, total, lat_us.size(), secs, total / secs, lat_us.size() / secs, pct(0.5), pct(0.99),
      violations.load(), idle, rss0, rss1, idle ? (rss1 - rss0) * 1024.0 / idle : 0.0, rss2, rss3);
  return violations ? 1 : 0;
}
