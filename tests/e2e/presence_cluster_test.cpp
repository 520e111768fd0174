// Presence across nodes when a node fails the way an operator sees it fail: three confabd nodes on
// one PostgreSQL and one real Redis; a node is frozen (SIGSTOP/SIGCONT) or killed (SIGKILL) at the
// worst moment. Every wait polls the observable state (the `presence` operation, which reads the
// Redis presence sets) until a bounded deadline; nothing asserts on elapsed time.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace e2e {
namespace {

const std::vector<std::string> quick_flags = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--rate-per-sec", "100000",
                                              "--rate-burst", "100000"};

class PresenceCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-presence-");
    pg_ = std::make_unique<pg_database>();
    redis_ = std::make_unique<redis_server>(dir_);
  }

  void TearDown() override {
    for (auto& s : nodes_) {
      ::kill(s->pid(), SIGCONT);  // a frozen node must be able to take its SIGTERM
      s->stop();
    }
    if (HasFailure()) {
      for (auto& s : nodes_)
        std::cerr << "---- " << s->log_path().string() << " (last lines)\n" << tail_file(s->log_path(), 30);
      std::cerr << "---- test files kept in " << dir_.string() << "\n";
    }
    nodes_.clear();
    redis_.reset();
    pg_.reset();
    if (!HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  server_process& start_node(int presence_ttl_ms) {
    auto dir = dir_ / ("node" + std::to_string(nodes_.size()));
    std::filesystem::create_directories(dir);
    nodes_.push_back(std::make_unique<server_process>(dir));
    std::vector<std::string> args{"--storage", "postgres", "--pg-dsn", pg_->dsn(), "--broker", "redis", "--redis",
                                  redis_->address(), "--presence-ttl-ms", std::to_string(presence_ttl_ms)};
    args.insert(args.end(), quick_flags.begin(), quick_flags.end());
    nodes_.back()->start(args);
    return *nodes_.back();
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<redis_server> redis_;
  std::vector<std::unique_ptr<server_process>> nodes_;
};

// Polls the watcher's `presence` operation until user's online state is want, or the deadline.
bool await_online(ws_client& watcher, std::int64_t user, bool want, std::chrono::milliseconds within) {
  const auto deadline = steady::now() + within;
  for (;;) {
    auto p = watcher.call_ok("presence", {{"users", json::array{user}}});
    if (jarr(p, "users").at(0).at("online").as_bool() == want) return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

// Polls Redis until confab:nodes holds n nodes, or the deadline.
bool await_registered(const redis_server& redis, int n, std::chrono::milliseconds within) {
  const auto deadline = steady::now() + within;
  for (;;) {
    auto out = redis.cli({"SCARD", "confab:nodes"});
    if (out.find(std::to_string(n)) == 0) return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

// Bug: a node frozen for longer than ~1.5 x --presence-ttl-ms is reaped by its peers; its users
// went offline and stayed offline after it resumed, although their sessions still worked. A node
// that finds it was declared dead must announce its users again.
TEST_F(PresenceCluster, FrozenNodeThatWasReapedAnnouncesItsUsersAgain) {
  constexpr int ttl_ms = 1500;
  for (int i = 0; i < 3; ++i) start_node(ttl_ms);
  http_client h0(nodes_[0]->port());
  auto ana = register_user(h0, "ana"), ben = register_user(h0, "ben");
  const auto conv = jint(h0.call("create_direct", {{"user_id", ben.user_id}}, ana.token), "conv");
  ws_client wa(nodes_[0]->port()), wb(nodes_[2]->port());
  wa.hello(ana.token);
  wb.hello(ben.token);
  ASSERT_TRUE(await_online(wa, ben.user_id, true, 10s)) << "ben never online";
  // Every node registered (heartbeat key and confab:nodes entry), so that the freeze is what makes
  // the node look dead, not a registration that had not happened yet.
  ASSERT_TRUE(await_registered(*redis_, 3, 10s));

  ASSERT_EQ(::kill(nodes_[2]->pid(), SIGSTOP), 0);
  // The peers reap the frozen node: ben goes offline (its heartbeat key expires after the TTL).
  const bool reaped = await_online(wa, ben.user_id, false, 10s * ttl_ms / 1000);
  ASSERT_EQ(::kill(nodes_[2]->pid(), SIGCONT), 0);
  ASSERT_TRUE(reaped) << "the frozen node was never reaped";

  // Resumed, the node notices it was declared dead and announces ben again.
  EXPECT_TRUE(await_online(wa, ben.user_id, true, 10s * ttl_ms / 1000)) << "ben stayed offline after the node resumed";
  // ben's session itself kept working throughout.
  h0.call("send", {{"conv", conv}, {"client_id", "after-freeze"}, {"text", "hi"}}, ana.token);
  bool got = false;
  for (int i = 0; i < 5 && !got; ++i) {
    auto e = wb.next_event();
    got = jstr(jobj(e, "event"), "kind") == "message" && jstr(jobj(e, "event"), "client_id") == "after-freeze";
  }
  EXPECT_TRUE(got);
}

// Bug: a node killed before its first heartbeat (the first one was lost while the broker had no
// slot map yet; the next came a third of the TTL later) was never registered, so nobody reaped it
// and its users stayed online for ever. A node must be registered before it announces any user.
TEST_F(PresenceCluster, NodeKilledRightAfterItsFirstUserCameOnlineIsReaped) {
  // A long TTL makes the old window (TTL / 3 without a heartbeat) wide enough to hit every time.
  constexpr int ttl_ms = 4000;
  start_node(ttl_ms);
  start_node(ttl_ms);
  http_client h0(nodes_[0]->port());
  auto ana = register_user(h0, "ana"), ben = register_user(h0, "ben");
  h0.call("create_direct", {{"user_id", ben.user_id}}, ana.token);
  ws_client wa(nodes_[0]->port());
  wa.hello(ana.token);

  auto& fresh = start_node(ttl_ms);
  const auto started = steady::now();
  {
    ws_client wb(fresh.port());
    wb.hello(ben.token);
    ASSERT_TRUE(await_online(wa, ben.user_id, true, 10s)) << "ben never online";
    fresh.kill9();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();
  std::cerr << "the new node was killed " << ms << " ms after it listened\n";
  EXPECT_TRUE(await_online(wa, ben.user_id, false, 5s * ttl_ms / 1000)) << "ben stayed online after his node died";
}

}  // namespace
}  // namespace e2e
