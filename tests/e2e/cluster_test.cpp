// Scale-out tests: three confabd processes on one PostgreSQL and one Redis (standalone, or a
// 3-master Redis Cluster), clients spread across them, some through haproxy. Real processes,
// real sockets; faults are real kills and restarts.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <libpq-fe.h>
#include <sys/wait.h>

namespace e2e {
namespace {

const std::vector<std::string> fast_flags = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--rate-per-sec", "100000",
                                             "--rate-burst", "100000", "--presence-ttl-ms", "1500", "--typing-ttl-ms", "1500"};

// A free port p whose cluster bus port p + 10000 is free too (Redis Cluster listens on both).
unsigned short free_port_with_bus() {
  for (int i = 0; i < 200; ++i) {
    auto p = free_port();
    if (p > 55000) continue;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc);
    boost::system::error_code ec;
    a.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) a.bind({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(p + 10000)}, ec);
    if (!ec) return p;
  }
  throw std::runtime_error("no free port pair for a Redis Cluster node");
}

// Redis: one standalone server, or three cluster masters (slots spread by redis-cli).
class redis_setup {
 public:
  redis_setup(std::filesystem::path dir, bool cluster) : dir_(std::move(dir)), cluster_(cluster) {
    const int n = cluster ? 3 : 1;
    for (int i = 0; i < n; ++i) ports_.push_back(cluster ? free_port_with_bus() : free_port());
    procs_.resize(n);
    for (int i = 0; i < n; ++i) start(i);
    if (cluster) {
      std::vector<std::string> argv{"redis-cli", "--cluster", "create"};
      for (auto p : ports_) argv.push_back("127.0.0.1:" + std::to_string(p));
      for (const char* a : {"--cluster-replicas", "0", "--cluster-yes"}) argv.push_back(a);
      child_process create;
      create.start(argv, dir_ / "cluster-create.log");
      for (int i = 0; i < 300 && create.running(); ++i) std::this_thread::sleep_for(50ms);
      wait_cluster_ok();
    }
  }

  void start(int i) {
    std::vector<std::string> argv{"redis-server", "--port", std::to_string(ports_[i]), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", dir_.string(),
                                  "--protected-mode", "no"};
    if (cluster_)
      for (const std::string& a : {std::string("--cluster-enabled"), std::string("yes"), std::string("--cluster-config-file"),
                                   "nodes-" + std::to_string(ports_[i]) + ".conf", std::string("--cluster-node-timeout"),
                                   std::string("1000")})
        argv.push_back(a);
    procs_[i] = std::make_unique<child_process>();
    procs_[i]->start(argv, dir_ / ("redis-" + std::to_string(ports_[i]) + ".log"));
    if (!wait_tcp(ports_[i])) throw std::runtime_error("redis-server did not start: " + tail_file(procs_[i]->log_path(), 20));
  }

  // Every master reports cluster_state:ok.
  void wait_cluster_ok() {
    const auto deadline = steady::now() + 30s;
    while (steady::now() < deadline) {
      bool ok = true;
      for (std::size_t i = 0; i < ports_.size() && ok; ++i) {
        auto out = dir_ / "cluster-info.txt";
        std::filesystem::remove(out);
        child_process info;
        info.start({"redis-cli", "-p", std::to_string(ports_[i]), "cluster", "info"}, out);
        for (int k = 0; k < 100 && info.running(); ++k) std::this_thread::sleep_for(20ms);
        ok = tail_file(out, 50).find("cluster_state:ok") != std::string::npos;
      }
      if (ok) return;
      std::this_thread::sleep_for(200ms);
    }
    throw std::runtime_error("redis cluster never became ok");
  }

  void kill(int i) { procs_[i]->kill9(); }
  void restart(int i) {
    procs_[i]->kill9();
    std::this_thread::sleep_for(300ms);
    start(i);
    if (cluster_) wait_cluster_ok();
  }

  std::string seeds() const {
    std::string s;
    for (auto p : ports_) s += (s.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(p);
    return s;
  }
  std::string seed() const { return "127.0.0.1:" + std::to_string(ports_[0]); }

 private:
  std::filesystem::path dir_;
  bool cluster_;
  std::vector<unsigned short> ports_;
  std::vector<std::unique_ptr<child_process>> procs_;
};

class Cluster : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-cluster-");
    pg_ = std::make_unique<pg_database>();
    redis_ = std::make_unique<redis_setup>(dir_, GetParam() == "cluster");
    for (int i = 0; i < 3; ++i) start_node();
  }

  void TearDown() override {
    lb_.reset();
    for (auto& s : nodes_) s->stop();
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

  void start_node() {
    auto dir = dir_ / ("node" + std::to_string(nodes_.size()));
    std::filesystem::create_directories(dir);
    nodes_.push_back(std::make_unique<server_process>(dir));
    restart_node(*nodes_.back());
  }
  void restart_node(server_process& s) {
    std::vector<std::string> args{"--storage", "postgres", "--pg-dsn", pg_->dsn(), "--broker", "redis", "--redis",
                                  GetParam() == "cluster" ? redis_->seed() : redis_->seeds(),
                                  "--admin", "root", "--trusted-proxy", "127.0.0.1"};
    args.insert(args.end(), fast_flags.begin(), fast_flags.end());
    s.start(args);
  }

  // haproxy over the three nodes with deploy/haproxy.cfg; returns its port.
  unsigned short start_haproxy() {
    const auto port = free_port();
    ::setenv("CONFAB_LB_BIND", ("127.0.0.1:" + std::to_string(port)).c_str(), 1);
    for (int i = 0; i < 3; ++i)
      ::setenv(("CONFAB_NODE" + std::to_string(i + 1)).c_str(), ("127.0.0.1:" + std::to_string(nodes_[i]->port())).c_str(), 1);
    lb_ = std::make_unique<child_process>();
    // spawn() drops CONFAB_* from the child's environment, so pass them through env(1).
    std::vector<std::string> argv{"env"};
    for (const char* v : {"CONFAB_LB_BIND", "CONFAB_NODE1", "CONFAB_NODE2", "CONFAB_NODE3"})
      argv.push_back(std::string("X") + v + "=" + ::getenv(v));
    for (auto& a : argv)
      if (a[0] == 'X') a = a.substr(1);
    argv.insert(argv.end(), {"haproxy", "-db", "-f", std::string(CONFAB_SOURCE_DIR) + "/deploy/haproxy.cfg"});
    lb_->start(argv, dir_ / "haproxy.log");
    if (!wait_tcp(port)) throw std::runtime_error("haproxy did not start: " + tail_file(dir_ / "haproxy.log", 20));
    std::this_thread::sleep_for(1500ms);  // first health checks
    return port;
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<redis_setup> redis_;
  std::vector<std::unique_ptr<server_process>> nodes_;
  std::unique_ptr<child_process> lb_;
};

json::object send_fields(std::int64_t conv, const std::string& client_id, const std::string& text) {
  return {{"conv", conv}, {"client_id", client_id}, {"text", text}};
}

// A device's view: every event received, checked for gapless positions, keyed by seq.
struct device_view {
  std::unique_ptr<ws_client> ws;
  std::int64_t pos = 0;
  std::vector<json::object> events;  // in arrival order
  void take(const std::vector<json::object>& frames) {
    for (auto& f : frames) {
      const auto p = jint(f, "pos");
      if (p != pos + 1) throw std::runtime_error("position " + std::to_string(p) + " after " + std::to_string(pos));
      pos = p;
      events.push_back(jobj(f, "event"));
    }
  }
};

// Waits until the device holds n events (it must never hold more or see a gap).
void collect(device_view& d, std::size_t n, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = steady::now() + timeout;
  while (d.events.size() < n && steady::now() < deadline) d.take(d.ws->drain_events(100ms));
  if (d.events.size() < n)
    throw std::runtime_error("device has " + std::to_string(d.events.size()) + " of " + std::to_string(n) + " events");
  d.take(d.ws->drain_events(200ms));
  if (d.events.size() != n) throw std::runtime_error("more events than committed");
}

// ============================================================================ ordering across nodes

TEST_P(Cluster, ConcurrentSendersOnEveryNodeGiveIdenticalGaplessSequences) {
  constexpr int members = 9, per_sender = 25;
  http_client http0(nodes_[0]->port());
  std::vector<account> users;
  json::array others;
  for (int i = 0; i < members; ++i) {
    users.push_back(register_user(http0, "u" + std::to_string(i)));
    if (i > 0) others.push_back(users.back().user_id);
  }
  const auto conv = jint(http0.call("create_group", {{"title", "spread"}, {"members", others}}, users[0].token), "conv");
  std::vector<device_view> devs(members);
  for (int i = 0; i < members; ++i) {
    devs[i].ws = std::make_unique<ws_client>(nodes_[i % 3]->port());
    devs[i].ws->hello(users[i].token, 0);
  }
  // One sender per node, concurrently.
  std::vector<std::thread> threads;
  std::vector<std::string> errors(3);
  for (int k = 0; k < 3; ++k)
    threads.emplace_back([&, k] {
      try {
        http_client h(nodes_[k]->port());
        for (int i = 0; i < per_sender; ++i)
          h.call("send", send_fields(conv, "n" + std::to_string(k) + "-" + std::to_string(i), "hello " + std::to_string(i)),
                 users[k].token);
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors) ASSERT_EQ(e, "");
  const std::size_t total = 1 + 3 * per_sender;
  for (int i = 0; i < members; ++i) {
    SCOPED_TRACE("member " + std::to_string(i));
    collect(devs[i], total);
    for (std::size_t s = 0; s < total; ++s) EXPECT_EQ(jint(devs[i].events[s], "seq"), static_cast<std::int64_t>(s + 1));
    EXPECT_EQ(devs[i].events, devs[0].events);
  }
  // Each sender's messages are in the order it sent them.
  for (int k = 0; k < 3; ++k) {
    int next = 0;
    for (auto& e : devs[0].events) {
      if (jstr(e, "kind") == "message" && jint(e, "sender") == users[k].user_id) {
        EXPECT_EQ(jstr(e, "client_id"), "n" + std::to_string(k) + "-" + std::to_string(next++));
      }
    }
    EXPECT_EQ(next, per_sender);
  }
}

// ============================================================================ Redis restarts

TEST_P(Cluster, RedisRestartMidTrafficLosesAndDuplicatesNothing) {
  http_client http0(nodes_[0]->port());
  auto a = register_user(http0, "alice"), b = register_user(http0, "bob"), c = register_user(http0, "carol");
  const auto conv = jint(http0.call("create_group", {{"title", "g"}, {"members", json::array{b.user_id, c.user_id}}}, a.token), "conv");
  std::vector<device_view> devs(3);
  const account* accts[] = {&a, &b, &c};
  for (int i = 0; i < 3; ++i) {
    devs[i].ws = std::make_unique<ws_client>(nodes_[i]->port());
    devs[i].ws->hello(accts[i]->token, 0);
  }
  std::atomic<bool> stop{false}, done{false};
  std::atomic<int> sent{0};
  std::string error;  // written by the sender before done, read after
  std::thread sender([&] {
    try {
      http_client h(nodes_[1]->port());
      // Bounded: stops when told, or after 5 000 sends.
      for (int i = 0; i < 5000 && !stop; ++i) {
        h.call("send", send_fields(conv, "r" + std::to_string(i), "m" + std::to_string(i)), b.token);
        ++sent;
        std::this_thread::sleep_for(5ms);
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    done = true;
  });
  // Regression: these waits looked only at the count, and hung when the sender had already
  // finished (a slow cluster restart let it send everything first).
  auto wait_sent = [&](int n) {
    const auto deadline = steady::now() + 60s;
    while (sent < n && !done && steady::now() < deadline) std::this_thread::sleep_for(10ms);
  };
  wait_sent(20);
  redis_->restart(0);  // the standalone server, or one of the three masters
  wait_sent(sent + 30);
  stop = true;
  sender.join();
  ASSERT_EQ(error, "");
  const std::size_t total = 1 + static_cast<std::size_t>(sent.load());
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("member " + std::to_string(i));
    collect(devs[i], total, 40s);
    for (std::size_t s = 0; s < total; ++s) EXPECT_EQ(jint(devs[i].events[s], "seq"), static_cast<std::int64_t>(s + 1));
  }
}

// Issue 17: the admin topology's view of the deployment: each node names the Redis masters and
// their slots as its broker sees them, and the load balancer its sessions came through.
TEST_P(Cluster, EveryNodeNamesTheRedisShardsAndTheLoadBalancer) {
  const auto lb = start_haproxy();
  http_client h0(nodes_[0]->port());
  auto root = register_user(h0, "root");
  auto ann = register_user(h0, "ann");
  std::vector<std::unique_ptr<ws_client>> through_lb;
  for (int i = 0; i < 3; ++i) {
    through_lb.push_back(std::make_unique<ws_client>(lb));
    through_lb.back()->hello(ann.token, 0);
  }
  ws_client direct(nodes_[1]->port());
  direct.hello(ann.token, 0);

  auto nodes = h0.call("admin_nodes", {}, root.token);
  ASSERT_EQ(jarr(nodes, "nodes").size(), 3u) << dump(nodes);
  std::int64_t via_lb = 0, sessions = 0;
  for (const auto& n : jarr(nodes, "nodes")) {
    SCOPED_TRACE(dump(n));
    const auto& b = jobj(n, "broker");
    EXPECT_EQ(jstr(b, "kind"), "redis");
    EXPECT_EQ(b.at("cluster").as_bool(), GetParam() == "cluster");
    const auto& shards = jarr(b, "shards");
    ASSERT_EQ(shards.size(), GetParam() == "cluster" ? 3u : 1u);
    std::vector<int> owners(16384, 0);
    for (const auto& sh : shards) {
      EXPECT_TRUE(sh.at("connected").as_bool());
      EXPECT_NE(redis_->seeds().find(jstr(sh, "address")), std::string::npos);
      for (const auto& r : jarr(sh, "slots"))
        for (auto slot = r.as_array()[0].as_int64(); slot <= r.as_array()[1].as_int64(); ++slot) ++owners[slot];
    }
    EXPECT_EQ(std::count(owners.begin(), owners.end(), 1), 16384) << "every slot served by exactly one shard";
    std::int64_t channels = 0;
    for (const auto& sh : shards) channels += jint(sh, "channels");
    EXPECT_GE(channels, 1);  // confab:all and the node's own channel at least
    for (const auto& p : jarr(n, "proxies")) {
      EXPECT_EQ(jstr(p, "address"), "127.0.0.1");
      via_lb += jint(p, "sessions");
    }
    sessions += jint(n, "sessions");
  }
  EXPECT_EQ(via_lb, 3) << "the three sessions through haproxy, not the direct one";
  EXPECT_EQ(sessions, 4);
  // A session through the load balancer shows the client's address and the proxy.
  auto user = h0.call("admin_user", {{"username", "ann"}}, root.token);
  int with_via = 0;
  for (const auto& s : jarr(user, "sessions")) {
    if (s.as_object().contains("via")) {
      ++with_via;
      EXPECT_EQ(jstr(s, "via"), "127.0.0.1");
      EXPECT_EQ(jstr(s, "remote"), "127.0.0.1");  // X-Forwarded-For carries no port
    } else {
      EXPECT_EQ(jstr(s, "remote").rfind("127.0.0.1:", 0), 0u);
    }
  }
  EXPECT_EQ(with_via, 3) << dump(user);
}

INSTANTIATE_TEST_SUITE_P(Redis, Cluster, ::testing::Values("standalone", "cluster"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// ============================================================================ standalone-only scenarios

class Nodes : public Cluster {};

TEST_P(Nodes, ResumeAndIdempotencyAcrossNodes) {
  http_client h0(nodes_[0]->port()), h2(nodes_[2]->port());
  auto a = register_user(h0, "alice"), b = register_user(h0, "bob");
  const auto conv = jint(h0.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  device_view bob;
  bob.ws = std::make_unique<ws_client>(nodes_[0]->port());
  bob.ws->hello(b.token, 0);
  for (int i = 0; i < 5; ++i) h0.call("send", send_fields(conv, "x" + std::to_string(i), "t"), a.token);
  collect(bob, 6);
  // A retry that lands on another node returns the original ack.
  auto first = h0.call("send", send_fields(conv, "retry-me", "once"), a.token);
  auto again = h2.call("send", send_fields(conv, "retry-me", "once"), a.token);
  EXPECT_FALSE(first.at("duplicate").as_bool());
  EXPECT_TRUE(again.at("duplicate").as_bool());
  EXPECT_EQ(jint(again, "seq"), jint(first, "seq"));
  collect(bob, 7);
  // Bob drops off node 0; messages arrive while he is away; he resumes on node 2.
  bob.ws->abort();
  for (int i = 0; i < 4; ++i) h2.call("send", send_fields(conv, "y" + std::to_string(i), "t"), a.token);
  bob.ws = std::make_unique<ws_client>(nodes_[2]->port());
  bob.ws->hello(b.token, bob.pos);
  collect(bob, 11);
  h0.call("send", send_fields(conv, "live", "t"), a.token);  // live across nodes again
  collect(bob, 12);
  EXPECT_EQ(jstr(bob.events.back(), "client_id"), "live");
}

// Regression: the same send racing on two nodes (each with its own writer) used to make the loser
// fail with conflict on the (device, client_id) key instead of returning the original ack.
TEST_P(Nodes, SameSendRacingOnTwoNodesGivesOneMessage) {
  http_client h0(nodes_[0]->port()), h1(nodes_[1]->port());
  auto a = register_user(h0, "alice"), b = register_user(h0, "bob");
  const auto conv = jint(h0.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  for (int i = 0; i < 30; ++i) {
    const auto cid = "race-" + std::to_string(i);
    http_response r0, r1;
    std::thread t([&] { r1 = h1.post("send", send_fields(conv, cid, "x"), a.token); });
    r0 = h0.post("send", send_fields(conv, cid, "x"), a.token);
    t.join();
    ASSERT_EQ(r0.status, 200u) << r0.body;
    ASSERT_EQ(r1.status, 200u) << r1.body;
    EXPECT_EQ(jint(r0.json, "seq"), jint(r1.json, "seq"));
    EXPECT_NE(r0.json.at("duplicate").as_bool(), r1.json.at("duplicate").as_bool());
  }
  auto hist = h0.call("history", {{"conv", conv}, {"limit", 100}}, a.token);
  EXPECT_EQ(jarr(hist, "events").size(), 31u);  // created + 30 messages
}

// A revocation on one node closes the device's session on another, even when Redis is down at
// that moment (the kick is retried, and every session re-checks its device after a broker reset).
TEST_P(Nodes, RevocationReachesOtherNodesAcrossARedisRestart) {
  http_client h0(nodes_[0]->port());
  auto a = register_user(h0, "alice");
  auto phone = login(h0, "alice", "phone");
  ws_client w1(nodes_[1]->port()), w2(nodes_[2]->port());
  w1.hello(a.token);
  w2.hello(phone.token);
  h0.call("revoke_device", {{"device_id", a.device_id}}, phone.token);  // Redis up: live kick
  auto c = w1.wait_close();
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, 4001);
  auto tablet = login(h0, "alice", "tablet");
  ws_client w3(nodes_[1]->port());
  w3.hello(tablet.token);
  redis_->kill(0);  // the kick cannot be published now
  h0.call("revoke_device", {{"device_id", tablet.device_id}}, phone.token);
  std::this_thread::sleep_for(500ms);
  redis_->start(0);  // back, empty
  auto c3 = w3.wait_close(15s);
  ASSERT_TRUE(c3);
  EXPECT_EQ(*c3, 4001);
  EXPECT_FALSE(w2.closed());  // the phone itself stays
}

TEST_P(Nodes, PresenceTypingAndReceiptsAcrossNodes) {
  http_client h0(nodes_[0]->port());
  auto a = register_user(h0, "ana"), b = register_user(h0, "ben"), c = register_user(h0, "cy");
  const auto conv = jint(h0.call("create_group", {{"title", "g"}, {"members", json::array{b.user_id, c.user_id}}}, a.token), "conv");
  ws_client wa(nodes_[0]->port()), wb(nodes_[1]->port());
  wa.hello(a.token);
  wb.hello(b.token);
  // Presence: ana (node 0) watches ben (node 1, online) and cy (offline, never seen).
  auto p = wa.call_ok("presence", {{"users", json::array{b.user_id, c.user_id}}});
  auto& list = jarr(p, "users");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[0].at("online").as_bool());
  EXPECT_FALSE(list[1].at("online").as_bool());
  EXPECT_TRUE(list[1].at("last_seen_ts").is_null());
  // cy comes online on node 2: ana sees it.
  auto wc = std::make_unique<ws_client>(nodes_[2]->port());
  wc->hello(c.token);
  auto on = wa.next("presence");
  ASSERT_TRUE(on);
  EXPECT_EQ(jint(*on, "user_id"), c.user_id);
  EXPECT_TRUE(on->at("online").as_bool());
  // Watching a user with no shared conversation is refused.
  auto stranger = register_user(h0, "stranger");
  auto bad = wa.call("presence", {{"users", json::array{stranger.user_id}}});
  EXPECT_EQ(jstr(jobj(bad, "error"), "code"), "forbidden");

  // Typing from ben (node 1) reaches ana (node 0) and cy (node 2), not ben; expires by itself.
  wb.call_ok("typing", {{"conv", conv}});
  auto t = wa.next("typing");
  ASSERT_TRUE(t);
  EXPECT_EQ(jint(*t, "user_id"), b.user_id);
  EXPECT_EQ(jstr(*t, "username"), "ben");
  EXPECT_TRUE(t->at("active").as_bool());
  ASSERT_TRUE(wc->next("typing"));
  auto gone = wa.next("typing", 5s);  // --typing-ttl-ms 1500: the server ends it
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->at("active").as_bool());
  EXPECT_EQ(wb.count_pending("typing"), 0u);
  // Sending a message ends typing at once.
  wb.call_ok("typing", {{"conv", conv}});
  ASSERT_TRUE(wa.next("typing"));
  wb.call_ok("send", send_fields(conv, "m1", "hi"));
  auto stop = wa.next("typing");
  ASSERT_TRUE(stop);
  EXPECT_FALSE(stop->at("active").as_bool());
  // Typing in a conversation one is not in is refused.
  auto other = jint(h0.call("create_direct", {{"user_id", stranger.user_id}}, a.token), "conv");
  EXPECT_EQ(jstr(jobj(wb.call("typing", {{"conv", other}}), "error"), "code"), "forbidden");

  // Receipts: cy reads on node 2; ana (node 0) and ben (node 1) get the receipt.
  const auto seq = jint(jobj(wa.next_event(), "event"), "seq");  // ben's message
  ASSERT_EQ(seq, 2);
  auto d = wc->call_ok("delivered", {{"conv", conv}, {"seq", seq}});
  EXPECT_EQ(jint(d, "delivered_seq"), 2);
  auto r1 = wa.next("receipt");
  ASSERT_TRUE(r1);
  EXPECT_EQ(jint(*r1, "user_id"), c.user_id);
  EXPECT_EQ(jint(*r1, "delivered_seq"), 2);
  EXPECT_EQ(jint(*r1, "read_seq"), 0);
  wc->call_ok("read", {{"conv", conv}, {"seq", 2}});
  auto r2 = wb.next("receipt");
  ASSERT_TRUE(r2);
  r2 = wb.next("receipt");  // the second: the read
  ASSERT_TRUE(r2);
  EXPECT_EQ(jint(*r2, "read_seq"), 2);
  // "Read by" is derivable from receipts; unread is consistent for cy's other device.
  auto rec = h0.call("receipts", {{"conv", conv}}, a.token);
  for (auto& m : jarr(rec, "members")) {
    if (jint(m, "user_id") == c.user_id) {
      EXPECT_EQ(jint(m, "read_seq"), 2);
    }
  }
  EXPECT_EQ(jint(h0.call("conversation", {{"conv", conv}}, c.token), "unread"), 0);

  // cy goes offline: ana sees it with a last-seen time, which is durable.
  wc->close();
  wc.reset();
  auto off = wa.next("presence", 5s);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->at("online").as_bool());
  EXPECT_GT(jint(*off, "last_seen_ts"), 0);
  std::this_thread::sleep_for(300ms);
  auto again = wa.call_ok("presence", {{"users", json::array{c.user_id}}});
  EXPECT_FALSE(jarr(again, "users")[0].at("online").as_bool());
  EXPECT_GT(jint(jarr(again, "users")[0], "last_seen_ts"), 0);
}

TEST_P(Nodes, Kill9NodeUsersGoOfflineAndClientsResumeThroughHaproxy) {
  const auto lb = start_haproxy();
  http_client h0(nodes_[0]->port()), hlb(lb);
  auto a = register_user(h0, "ana"), b = register_user(h0, "ben");
  const auto conv = jint(h0.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  // ana on node 0 watches ben; ben is on node 2, which will die.
  ws_client wa(nodes_[0]->port());
  wa.hello(a.token);
  device_view ben;
  ben.ws = std::make_unique<ws_client>(nodes_[2]->port());
  ben.ws->hello(b.token, 0);
  auto p = wa.call_ok("presence", {{"users", json::array{b.user_id}}});
  ASSERT_TRUE(jarr(p, "users")[0].at("online").as_bool());
  // ben sends through node 2 while it dies.
  std::vector<std::pair<std::string, bool>> sends;  // client id, acked
  for (int i = 0; i < 10; ++i) {
    ben.ws->call_ok("send", send_fields(conv, "b" + std::to_string(i), "t"));
    sends.emplace_back("b" + std::to_string(i), true);
  }
  ben.ws->send_op("send", send_fields(conv, "b-unacked", "t"));  // maybe committed, never acked
  nodes_[2]->kill9();
  // ben's user goes offline within the TTL (1.5 s) plus the reaper's period.
  auto off = wa.next("presence", 8s);
  ASSERT_TRUE(off) << "no offline presence after the node died";
  EXPECT_EQ(jint(*off, "user_id"), b.user_id);
  EXPECT_FALSE(off->at("online").as_bool());
  // ben reconnects through haproxy (to a live node), resumes and retries the unacked send.
  ben.take(ben.ws->drain_events(100ms));
  ben.ws = std::make_unique<ws_client>(lb);
  ben.ws->hello(b.token, ben.pos);
  auto retry = ben.ws->call_ok("send", send_fields(conv, "b-unacked", "t"));
  hlb.call("send", send_fields(conv, "after", "t"), a.token);
  const std::size_t total = 1 + 10 + 1 + 1;
  collect(ben, total);
  std::vector<std::string> ids;
  for (auto& e : ben.events)
    if (jstr(e, "kind") == "message") ids.push_back(jstr(e, "client_id"));
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i) want.push_back("b" + std::to_string(i));
  want.push_back("b-unacked");
  want.push_back("after");
  EXPECT_EQ(ids, want);
  for (std::size_t s = 0; s < total; ++s) EXPECT_EQ(jint(ben.events[s], "seq"), static_cast<std::int64_t>(s + 1));
  (void)retry;
  // ben is online again (through a live node), which ana sees.
  auto on = wa.next("presence", 5s);
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->at("online").as_bool());
}

// Regression: every node with the Redis broker leaked it at exit (its connections' callbacks held
// the broker, which held the connections), so LeakSanitizer failed the exit status of every
// confabd in the ASan build. A node that served traffic must shut down with status 0.
// Issue 17: a traced send through haproxy into a group whose devices are on all three nodes: the
// trace has every hop in order on the node where it happened, a queued and a written hop for
// every recipient device, and its span from receipt to the last write lies inside the time the
// clients measured, within 500 ms (haproxy, the HTTP round trip and the clients' own reads; the
// sanitizer build is several times slower).
TEST_P(Nodes, ATracedSendThroughHaproxyShowsEveryRecipientDeviceOnEveryNode) {
  const auto lb = start_haproxy();
  http_client h0(nodes_[0]->port()), hlb(lb);
  auto root = register_user(h0, "root");
  auto ann = register_user(h0, "ann"), bea = register_user(h0, "bea"), cid = register_user(h0, "cid");
  auto bea2 = login(h0, "bea");
  const auto conv = jint(h0.call("create_group", {{"title", "t"}, {"members", json::array{bea.user_id, cid.user_id}}}, ann.token),
                         "conv");
  std::vector<std::pair<std::int64_t, std::unique_ptr<ws_client>>> devices;  // (device id, its client)
  devices.emplace_back(bea.device_id, std::make_unique<ws_client>(nodes_[1]->port()));
  devices.emplace_back(cid.device_id, std::make_unique<ws_client>(nodes_[2]->port()));
  devices.emplace_back(bea2.device_id, std::make_unique<ws_client>(lb));
  devices[0].second->hello(bea.token, 0);
  devices[1].second->hello(cid.token, 0);
  devices[2].second->hello(bea2.token, 0);
  for (auto& [id, ws] : devices) ws->until_synced();  // past the group's creation

  const auto t0 = std::chrono::steady_clock::now();
  const auto ack = hlb.call("send", {{"conv", conv}, {"client_id", "traced-3"}, {"text", "to every node"}, {"trace", true}},
                            ann.token);
  const auto trace = jint(ack, "trace_id");
  const auto seq = jint(ack, "seq");
  std::int64_t client_us = 0;
  for (auto& [id, ws] : devices) {
    EXPECT_EQ(jint(jobj(ws->next_event(), "event"), "seq"), seq);
    client_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  // Every write is recorded once the frames went out; ask until the last one is there.
  json::value t;
  auto written = [&] {
    std::set<std::int64_t> out;
    for (auto& h : jarr(t, "hops"))
      if (jstr(h, "hop") == "written") out.insert(jint(h, "device"));
    return out;
  };
  ASSERT_TRUE(eventually([&] {
    t = h0.call("admin_trace", {{"trace_id", trace}}, root.token);
    return written().size() == devices.size();
  })) << dump(t);
  EXPECT_TRUE(jarr(t, "missing").empty());
  // Every recipient device: queued and written, on the node it is connected to.
  const auto& hops = jarr(t, "hops");
  std::string sender_node;
  for (auto& h : hops)
    if (jstr(h, "hop") == "received") sender_node = jstr(h, "node");
  ASSERT_FALSE(sender_node.empty()) << dump(t);
  for (auto& [id, ws] : devices) {
    SCOPED_TRACE("device " + std::to_string(id));
    std::string queued_on, written_on;
    for (auto& h : hops) {
      if (!h.as_object().contains("device") || jint(h, "device") != id) continue;
      if (jstr(h, "hop") == "queued") queued_on = jstr(h, "node");
      if (jstr(h, "hop") == "written") written_on = jstr(h, "node");
    }
    EXPECT_FALSE(queued_on.empty());
    EXPECT_EQ(queued_on, written_on);
    // A node other than the sender's got the message from Redis first.
    if (queued_on != sender_node) {
      bool relayed = false;
      for (auto& h : hops) relayed = relayed || (jstr(h, "hop") == "broker_received" && jstr(h, "node") == queued_on);
      EXPECT_TRUE(relayed) << queued_on;
    }
  }
  // The sender's node's hops in their order.
  std::vector<std::string> on_sender;
  for (auto& h : hops)
    if (jstr(h, "node") == sender_node) {
      const auto k = jstr(h, "hop");
      if (k == "received" || k == "validated" || k == "committed" || k == "published" || k == "acked") on_sender.push_back(k);
    }
  EXPECT_EQ(on_sender, (std::vector<std::string>{"received", "validated", "committed", "published", "acked"})) << dump(t);
  // From receipt to the last write, inside what the clients measured (one clock: one machine).
  std::int64_t first = 0, last = 0;
  for (auto& h : hops) {
    const auto at = jint(h, "at_us");
    if (jstr(h, "hop") == "received") first = at;
    if (jstr(h, "hop") == "written") last = std::max(last, at);
  }
  const auto span = last - first;
  EXPECT_GT(span, 0);
  EXPECT_LE(span, client_us);
  EXPECT_LE(client_us - span, 500000) << "the clients' reads took longer than the margin: " << client_us << " µs against " << span;
}

TEST_P(Nodes, NodesShutDownCleanlyAfterServingTraffic) {
  http_client h0(nodes_[0]->port());
  auto a = register_user(h0, "alice"), b = register_user(h0, "bob");
  const auto conv = jint(h0.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  device_view bob;
  bob.ws = std::make_unique<ws_client>(nodes_[1]->port());
  bob.ws->hello(b.token, 0);
  http_client(nodes_[2]->port()).call("send", send_fields(conv, "bye", "t"), a.token);
  collect(bob, 2);
  bob.ws.reset();
  for (auto& n : nodes_) {
    const int status = n->stop(10s);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << ", log " << n->log_path();
  }
}

// ============================================================================ writes racing across nodes

// A plain libpq session on the test database, for holding row locks while nodes race.
class pg_session {
 public:
  explicit pg_session(const std::string& dsn) : c_(PQconnectdb(dsn.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(std::string("psql session: ") + PQerrorMessage(c_));
  }
  ~pg_session() { PQfinish(c_); }
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;
  // Runs sql; returns the first cell of the first row ("" if none). Throws on error.
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    std::string out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    const std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) throw std::runtime_error(sql + ": " + err);
    return out;
  }
  // Waits (bounded) until n other sessions of this database wait for a lock.
  void wait_for_lock_waiters(int n) {
    const auto deadline = steady::now() + 20s;
    std::string got;
    while (steady::now() < deadline) {
      got = exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      if (got == std::to_string(n)) return;
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("expected " + std::to_string(n) + " sessions waiting for a lock, saw " + got);
  }

 private:
  PGconn* c_;
};

// Runs first on node a, waits until its write queues behind the held conversation row lock, then
// second on node b, waits likewise, and releases the lock: PostgreSQL grants a row's waiters in
// arrival order, so first commits before second takes the row. Deterministic, no timing luck.
std::pair<http_response, http_response> race_behind_lock(pg_session& holder, std::int64_t conv,
                                                          const std::function<http_response()>& first,
                                                          const std::function<http_response()>& second) {
  holder.exec("BEGIN");
  holder.exec("SELECT id FROM conversations WHERE id = " + std::to_string(conv) + " FOR UPDATE");
  http_response r1, r2;
  std::thread t1([&] { r1 = first(); });
  try {
    holder.wait_for_lock_waiters(1);
  } catch (...) {
    holder.exec("ROLLBACK");
    t1.join();
    throw;
  }
  std::thread t2([&] { r2 = second(); });
  try {
    holder.wait_for_lock_waiters(2);
  } catch (...) {
    holder.exec("ROLLBACK");
    t1.join();
    t2.join();
    throw;
  }
  holder.exec("COMMIT");
  t1.join();
  t2.join();
  return {r1, r2};
}

// Regression: a send's membership check ran before the conversation's row lock, and the append
// did not check the sender again, so a member removed on node A while their send waited on node
// B for the row still posted it. Checks now run under the row lock.
TEST_P(Nodes, MemberRemovedOnOneNodeCannotPostThroughAnother) {
  http_client h0(nodes_[0]->port()), h1(nodes_[1]->port());
  auto owner = register_user(h0, "owner"), m = register_user(h0, "mallory");
  const auto conv = jint(h0.call("create_group", {{"title", "g"}, {"members", json::array{m.user_id}}}, owner.token), "conv");
  h1.call("send", send_fields(conv, "before", "still a member"), m.token);
  pg_session holder(pg_->dsn());
  auto [removed, sent] = race_behind_lock(
      holder, conv, [&] { return h0.post("remove_member", {{"conv", conv}, {"user_id", m.user_id}}, owner.token); },
      [&] { return h1.post("send", send_fields(conv, "after", "removed meanwhile"), m.token); });
  ASSERT_EQ(removed.status, 200u) << removed.body;
  EXPECT_EQ(sent.status, 403u) << sent.body;
  EXPECT_EQ(sent.error_code(), "forbidden") << sent.body;
  // Nothing from mallory after the removal: the removal is the last event.
  auto page = h0.call("history", {{"conv", conv}, {"limit", 10}}, owner.token);
  const auto& evs = jarr(page, "events");
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(jstr(evs.back(), "kind"), "member_removed") << dump(page);
  EXPECT_EQ(jint(evs.back(), "seq"), jint(removed.json, "seq"));
}

// Regression: role checks ran before the conversation's row lock, so two ownership transfers by
// the owner on two nodes both passed "only the owner changes roles" and left two owners.
TEST_P(Nodes, ConcurrentOwnershipTransfersOnTwoNodesLeaveOneOwner) {
  http_client h0(nodes_[0]->port()), h1(nodes_[1]->port());
  auto owner = register_user(h0, "owner"), x = register_user(h0, "xavier"), y = register_user(h0, "yvonne");
  const auto conv =
      jint(h0.call("create_group", {{"title", "g"}, {"members", json::array{x.user_id, y.user_id}}}, owner.token), "conv");
  pg_session holder(pg_->dsn());
  auto [to_x, to_y] = race_behind_lock(
      holder, conv, [&] { return h0.post("set_role", {{"conv", conv}, {"user_id", x.user_id}, {"role", "owner"}}, owner.token); },
      [&] { return h1.post("set_role", {{"conv", conv}, {"user_id", y.user_id}, {"role", "owner"}}, owner.token); });
  ASSERT_EQ(to_x.status, 200u) << to_x.body;
  EXPECT_EQ(to_y.status, 403u) << to_y.body;  // the caller is no longer the owner
  EXPECT_EQ(to_y.error_code(), "forbidden") << to_y.body;
  auto ms = h0.call("members", {{"conv", conv}}, x.token);
  int owners = 0;
  for (auto& mem : jarr(ms, "members")) {
    if (jstr(mem, "role") == "owner") {
      ++owners;
      EXPECT_EQ(jint(mem, "user_id"), x.user_id);
    }
  }
  EXPECT_EQ(owners, 1) << dump(ms);
}

// Counts the "storage batch re-run" lines of a node's log and keeps the first one.
int count_reruns(const std::filesystem::path& log, std::string& first) {
  std::ifstream in(log);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.find("storage batch re-run") != std::string::npos && n++ == 0) first = line;
  return n;
}

// Writers on three nodes appending to different conversations that share members: the per-user
// stream position is taken from a head row per user, locked in ascending user id after the
// conversations' rows (also ascending), so writers wait for each other briefly instead of
// colliding on the stream's key (a whole batch re-run each) or deadlocking (a 1 s
// deadlock_timeout each). 48 HTTP senders, 16 per node, each a member of two of 4
// conversations, sending into the first; the owner is in all four. Every send succeeds once (no
// `unavailable`), every conversation's seqs are gapless, every user's stream holds each event of
// their conversations exactly once at gapless positions, and no node re-ran a batch (with these
// unique client ids, a re-run can only be a collision or a deadlock; before the head rows this
// logged stream_pkey conflicts and deadlocks, and under ASan a batch ran out of re-runs: a 503).
TEST_P(Nodes, WritersOnThreeNodesIntoConversationsWithSharedMembersNeverCollide) {
  constexpr int convs = 4, senders = 48, per_sender = 30;
  http_client h0(nodes_[0]->port());
  auto owner = register_user(h0, "owner");
  std::vector<account> users;
  std::vector<json::array> members(convs);
  for (int k = 0; k < senders; ++k) {
    users.push_back(register_user(h0, "s" + std::to_string(k)));
    members[k % convs].push_back(users.back().user_id);
    members[(k + 1) % convs].push_back(users.back().user_id);  // overlap: everyone is in two
  }
  std::vector<std::int64_t> conv_ids;
  for (int c = 0; c < convs; ++c)
    conv_ids.push_back(jint(h0.call("create_group", {{"title", "g" + std::to_string(c)}, {"members", members[c]}}, owner.token), "conv"));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(senders);
  for (int k = 0; k < senders; ++k)
    threads.emplace_back([&, k] {
      try {
        http_client h(nodes_[k % 3]->port());
        for (int i = 0; i < per_sender; ++i)
          h.call("send", send_fields(conv_ids[k % convs], "w" + std::to_string(k) + "-" + std::to_string(i), "x"), users[k].token);
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < senders; ++k) ASSERT_EQ(errors[k], "") << "sender " << k;
  const std::int64_t sends_per_conv = senders / convs * per_sender;
  for (int c = 0; c < convs; ++c)
    EXPECT_EQ(jint(h0.call("conversation", {{"conv", conv_ids[c]}}, owner.token), "last_seq"), 1 + sends_per_conv);
  // Every user's stream, read back from storage on some node: positions 1..N, each event of
  // their conversations exactly once.
  auto check_stream = [&](const account& a, const std::set<std::int64_t>& in, unsigned short port) {
    SCOPED_TRACE("user " + a.username);
    ws_client ws(port);
    ws.hello(a.token, 0);
    std::int64_t synced = 0;
    auto evs = ws.until_synced(&synced, 60s);
    ASSERT_EQ(static_cast<std::int64_t>(evs.size()), static_cast<std::int64_t>(in.size()) * (1 + sends_per_conv));
    EXPECT_EQ(synced, static_cast<std::int64_t>(evs.size()));
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    for (std::size_t i = 0; i < evs.size(); ++i) {
      ASSERT_EQ(jint(evs[i], "pos"), static_cast<std::int64_t>(i + 1));
      const auto& e = jobj(evs[i], "event");
      EXPECT_TRUE(in.count(jint(e, "conv")));
      EXPECT_TRUE(seen.emplace(jint(e, "conv"), jint(e, "seq")).second) << "duplicate " << dump(e);
    }
  };
  check_stream(owner, std::set<std::int64_t>(conv_ids.begin(), conv_ids.end()), nodes_[0]->port());
  for (int k = 0; k < senders; ++k)
    check_stream(users[k], {conv_ids[k % convs], conv_ids[(k + 1) % convs]}, nodes_[k % 3]->port());
  for (auto& n : nodes_) {
    std::string first;
    EXPECT_EQ(count_reruns(n->log_path(), first), 0) << n->log_path() << ": " << first;
  }
}

INSTANTIATE_TEST_SUITE_P(Redis, Nodes, ::testing::Values("standalone"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace e2e
