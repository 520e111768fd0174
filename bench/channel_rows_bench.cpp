// Storage rows written per message (issue 12): a channel against a group of the same size, for
// each member count given. Rows are counted in the database (stream, events, mentions), not
// estimated; the time per message is printed too, for the record (speed is not asserted).
//
//   channel_rows_bench sqlite PATH  [members=10,1000,100000] [messages=20] [group_messages=3]
//   channel_rows_bench postgres DSN [members=10,1000,100000] [messages=20] [group_messages=3]
//
// Members are created in bulk by SQL (one statement each for users and members). Messages are
// sent through store::send one after another (each its own commit). Bounded: exactly the counts
// given. Prints one JSON line per (kind, members).
#include "bench_store.hpp"
#include "run_awaitable.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace confab;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

namespace {

using bench::exec;
using bench::run;

struct counts {
  std::int64_t stream = 0, events = 0, mentions = 0;
};

counts count_rows(storage::connection& c) {
  counts n;
  auto one = [&](const char* sql) {
    auto r = storage::query(c, sql);
    if (!r) throw std::runtime_error(std::string(sql) + ": " + r.error().message);
    return (*r)[0].i64(0);
  };
  n.stream = one("SELECT COUNT(*) FROM stream");
  n.events = one("SELECT COUNT(*) FROM events");
  n.mentions = one("SELECT COUNT(*) FROM mentions");
  return n;
}

// members - 1 users made by SQL (names prefix + i), added to conv as members.
void bulk_members(storage::connection& c, confab::id_t conv, int members, const std::string& prefix) {
  if (members < 2) return;
  exec(c, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(members - 1) +
              ") INSERT INTO users (username, password_hash, created_ms) SELECT '" + prefix + "' || i, 'x', 0 FROM k");
  exec(c, "INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(conv) +
              ", id, 'member', 1 FROM users WHERE username LIKE '" + prefix + "%'");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: channel_rows_bench sqlite PATH|postgres DSN [members=10,1000,100000] [messages=20] [group_messages=3]\n";
    return 2;
  }
  const std::string backend = argv[1], where = argv[2];
  std::vector<int> sizes;
  {
    std::stringstream ss(argc > 3 ? argv[3] : "10,1000,100000");
    for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::stoi(x));
  }
  const int messages = argc > 4 ? std::stoi(argv[4]) : 20;
  const int group_messages = argc > 5 ? std::stoi(argv[5]) : 3;
  auto opened = bench::open_store(backend, where);
  if (!opened.store) return 1;
  storage::store& st = *opened.store;
  auto raw = opened.factory();
  if (!raw) {
    std::cerr << "connect: " << raw.error().message << "\n";
    return 1;
  }
  asio::io_context ioc;
  const std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000);
  const auto owner = run(ioc, st.create_user("rows_owner_" + tag, "x"));
  if (!owner) return 1;
  int failures = 0;
  try {
    for (int n : sizes) {
      for (bool channel : {true, false}) {
        const std::string prefix = "r" + tag + (channel ? "c" : "g") + std::to_string(n) + "_";
        auto conv = channel ? run(ioc, st.create_channel(*owner, 1, "bench", "", true))
                            : run(ioc, st.create_group(*owner, 1, "bench", std::vector<confab::id_t>{}));
        if (!conv) throw std::runtime_error(conv.error().message);
        bulk_members(**raw, *conv, n, prefix);
        const int m = channel ? messages : group_messages;
        const auto before = count_rows(**raw);
        const auto t0 = clk::now();
        for (int i = 0; i < m; ++i) {
          send_request req{*owner, 1, *conv, prefix + std::to_string(i), "benchmark message", "text/plain", std::nullopt};
          auto r = run(ioc, st.send(req));
          if (!r && failures++ == 0) std::fprintf(stderr, "send: %s\n", r.error().message.c_str());
        }
        const double ms = std::chrono::duration<double, std::milli>(clk::now() - t0).count() / m;
        const auto after = count_rows(**raw);
        std::printf("{\"backend\":\"%s\",\"kind\":\"%s\",\"members\":%d,\"messages\":%d,\"stream_rows_per_message\":%.1f,"
                    "\"event_rows_per_message\":%.1f,\"mention_rows_per_message\":%.1f,\"ms_per_message\":%.2f}\n",
                    backend.c_str(), channel ? "channel" : "group", n, m, double(after.stream - before.stream) / m,
                    double(after.events - before.events) / m, double(after.mentions - before.mentions) / m, ms);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    st.stop();
    return 1;
  }
  st.stop();
  return failures ? 1 : 0;
}
