// The push queue's storage cost (issue 15): for groups of each size whose members all have a push
// target, the time to queue one message's pushes (push_store::enqueue, one INSERT … SELECT), the
// rows it writes, and the time to claim and finish them (what every node's worker does; the claim
// also reads the rows' targets, pointers, messages and badges). Speed is printed, not asserted.
//
//   push_bench sqlite PATH  [members=10,100,1000] [messages=20] [conversations_per_user=1]
//   push_bench postgres DSN [members=10,100,1000] [messages=20] [conversations_per_user=1]
//
// conversations_per_user > 1 puts every member in that many more (read) groups first: the badge
// that each claim computes looks at every conversation of the user with unread messages.
// Bounded: exactly the counts given. Prints one JSON line per group size.
#include "bench_store.hpp"
#include "run_awaitable.hpp"
#include "storage/push_store.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace confab;
using clk = std::chrono::steady_clock;
using bench::exec;
using bench::run;

namespace {

double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: push_bench sqlite PATH|postgres DSN [members=10,100,1000] [messages=20] [conversations_per_user=1]\n";
    return 2;
  }
  const std::string backend = argv[1], where = argv[2];
  std::vector<int> sizes;
  {
    std::stringstream ss(argc > 3 ? argv[3] : "10,100,1000");
    for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::stoi(x));
  }
  const int messages = argc > 4 ? std::stoi(argv[4]) : 20;
  const int extra_convs = argc > 5 ? std::stoi(argv[5]) - 1 : 0;
  auto opened = bench::open_store(backend, where);
  if (!opened.store) return 1;
  storage::store& st = *opened.store;
  auto raw = opened.factory();
  if (!raw) {
    std::cerr << "connect: " << raw.error().message << "\n";
    return 1;
  }
  boost::asio::io_context ioc;
  const std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000);
  const auto owner = run(ioc, st.create_user("push_owner_" + tag, "x"));
  if (!owner) return 1;
  try {
    for (int n : sizes) {
      const std::string prefix = "p" + tag + "_" + std::to_string(n) + "_";
      auto conv = run(ioc, st.create_group(*owner, 1, "bench", std::vector<confab::id_t>{}));
      if (!conv) throw std::runtime_error(conv.error().message);
      // n - 1 members by SQL, each with one device id (its user id + 1e9) and an FCM target.
      exec(**raw, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(n - 1) +
                      ") INSERT INTO users (username, password_hash, created_ms) SELECT '" + prefix + "' || i, 'x', 0 FROM k");
      const std::string members = "SELECT id FROM users WHERE username LIKE '" + prefix + "%'";
      exec(**raw, "INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(*conv) +
                      ", id, 'member', 1 FROM users WHERE username LIKE '" + prefix + "%'");
      exec(**raw, "INSERT INTO push_targets (device_id, user_id, kind, target, created_ms) SELECT id + 1000000000, id, 'fcm', "
                  "'{\"kind\":\"fcm\",\"token\":\"t\"}', 0 FROM users WHERE username LIKE '" + prefix + "%'");
      for (int k = 0; k < extra_convs; ++k) {
        auto other = run(ioc, st.create_group(*owner, 1, "other", std::vector<confab::id_t>{}));
        if (!other) throw std::runtime_error(other.error().message);
        exec(**raw, "INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(*other) +
                        ", id, 'member', 1 FROM (" + members + ") u");
        send_request req{*owner, 1, *other, prefix + "o" + std::to_string(k), "unread elsewhere", "text/plain", std::nullopt};
        if (auto r = run(ioc, st.send(req)); !r) throw std::runtime_error(r.error().message);
      }
      std::vector<event> evs;
      for (int i = 0; i < messages; ++i) {
        send_request req{*owner, 1, *conv, prefix + std::to_string(i), "benchmark message", "text/plain", std::nullopt};
        auto a = run(ioc, st.send(req));
        if (!a) throw std::runtime_error(a.error().message);
        event e;
        e.conv = *conv;
        e.seq = a->seq;
        e.kind = event_kind::message;
        e.sender = *owner;
        e.ts_ms = a->ts_ms;
        evs.push_back(e);
      }
      std::int64_t queued = 0;
      auto t0 = clk::now();
      for (const auto& e : evs) {  // one message per call, as a feed batch of one
        auto q = run(ioc, st.push().enqueue({e}, 0));
        if (!q) throw std::runtime_error(q.error().message);
        queued += *q;
      }
      const double enqueue_ms = ms_since(t0) / messages;
      std::int64_t claimed = 0;
      t0 = clk::now();
      for (;;) {
        auto jobs = run(ioc, st.push().claim("bench", 256, 60000));
        if (!jobs) throw std::runtime_error(jobs.error().message);
        if (jobs->empty()) break;
        std::vector<storage::push_outcome> done;
        for (const auto& j : *jobs) done.push_back({j.id, "sent", "200", std::nullopt, "", j.attempts});
        claimed += static_cast<std::int64_t>(jobs->size());
        if (auto f = run(ioc, st.push().finish("bench", std::move(done))); !f) throw std::runtime_error(f.error().message);
      }
      const double claim_ms = ms_since(t0);
      std::printf("{\"backend\":\"%s\",\"members\":%d,\"conversations_per_user\":%d,\"messages\":%d,\"rows_per_message\":%.1f,"
                  "\"enqueue_ms_per_message\":%.2f,\"claim_finish_us_per_row\":%.1f}\n",
                  backend.c_str(), n, extra_convs + 1, messages, double(queued) / messages, enqueue_ms,
                  claimed ? 1000.0 * claim_ms / double(claimed) : 0.0);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    st.stop();
    return 1;
  }
  st.stop();
  return 0;
}
