// Measures the storage path of a send: commit throughput and ack latency with many concurrent
// senders, on SQLite or PostgreSQL. It shows what group commit buys: with C concurrent senders a
// batch commits up to C sends with one fsync.
//
//   store_send_bench sqlite PATH  [senders] [messages] [members]
//   store_send_bench postgres DSN [senders] [messages] [members]
//
// Bounded: it sends exactly `messages` messages and exits. Prints one JSON line of results.
#include "bench_store.hpp"
#include "run_awaitable.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace confab;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

namespace {

asio::awaitable<void> sender(storage::store& st, confab::id_t user, confab::id_t conv, int id, int count, std::vector<double>& lat,
                             int& failures, const std::string& tag) {
  for (int i = 0; i < count; ++i) {
    auto t0 = clk::now();
    // A named request, not a temporary inside co_await (GCC 12 miscompiles the latter).
    send_request req{user, 1000 + id, conv, tag + ":" + std::to_string(id) + ":" + std::to_string(i), "benchmark message text",
                     "text/plain", std::nullopt};
    auto r = co_await st.send(req);
    lat.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
    if (!r && failures++ == 0) std::fprintf(stderr, "first failure: %s\n", r.error().message.c_str());
  }
}

using bench::run;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: store_send_bench sqlite PATH|postgres DSN [senders=32] [messages=5000] [members=10]\n";
    return 2;
  }
  std::string backend = argv[1], where = argv[2];
  int senders = argc > 3 ? std::stoi(argv[3]) : 32;
  int messages = argc > 4 ? std::stoi(argv[4]) : 5000;
  int members = argc > 5 ? std::stoi(argv[5]) : 10;
  auto opened = bench::open_store(backend, where);
  if (!opened.store) return 1;
  storage::store& st = *opened.store;
  asio::io_context ioc;
  const std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<confab::id_t> users;
  for (int i = 0; i < members; ++i) users.push_back(*run(ioc, st.create_user("bench" + tag + "_" + std::to_string(i), "x")));
  confab::id_t conv = *run(ioc, st.create_group(users[0], 1, "bench", std::vector<confab::id_t>(users.begin() + 1, users.end())));

  std::vector<std::vector<double>> lat(senders);
  int failures = 0;
  const int per = messages / senders;
  auto t0 = clk::now();
  for (int s = 0; s < senders; ++s) asio::co_spawn(ioc, sender(st, users[s % members], conv, s, per, lat[s], failures, tag), asio::detached);
  ioc.restart();
  ioc.run();
  double secs = std::chrono::duration<double>(clk::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  std::printf(
      "{\"backend\":\"%s\",\"senders\":%d,\"messages\":%zu,\"members\":%d,\"seconds\":%.3f,\"msgs_per_sec\":%.0f,"
      "\"ack_p50_us\":%.0f,\"ack_p99_us\":%.0f,\"failures\":%d}\n",
      backend.c_str(), senders, all.size(), members, secs, all.size() / secs, pct(0.5), pct(0.99), failures);
  st.stop();
  return failures ? 1 : 0;
}
