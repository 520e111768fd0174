// issue 17: server administration. One node per backend: the authorization matrix of every admin
// operation (over HTTP and WebSocket), the configuration with its secrets redacted, bad input.
// Two nodes over PostgreSQL and a real Redis: a user's sessions on both nodes, disconnecting and
// revoking a device on another node, and a node killed with SIGKILL named as not answering.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace e2e {
namespace {

// No sampled traces: a test traces what it asks for.
const std::vector<std::string> fast = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--admin", "root,ops.team", "--trace-sample", "0"};
const std::vector<std::string> admin_ops = {"admin_nodes", "admin_server", "admin_user", "admin_disconnect", "admin_trace"};

std::vector<std::string> backend_args(const std::string& backend, const std::filesystem::path& dir, const pg_database* pg) {
  if (backend == "postgres") return {"--storage", "postgres", "--pg-dsn", pg->dsn() + " password=hunter2-secret"};
  return {"--storage", "sqlite", "--sqlite-path", (dir / "confab.db").string()};
}

class Admin : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-admin-");
    if (GetParam() == "postgres") pg_ = std::make_unique<pg_database>();
    auto a = fast;
    for (auto& x : backend_args(GetParam(), dir_, pg_.get())) a.push_back(x);
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(a);
    http_ = std::make_unique<http_client>(srv_->port());
    root_ = register_user(*http_, "root");
    bob_ = register_user(*http_, "bob");
  }
  void TearDown() override {
    if (srv_ && HasFailure()) std::cerr << "---- confabd log\n" << tail_file(srv_->log_path(), 30);
  }
  // Arguments that name a real target, so that only the caller's role decides.
  json::object args_of(const std::string& op) const {
    if (op == "admin_user") return {{"username", "bob"}};
    if (op == "admin_disconnect") return {{"username", "bob"}, {"device_id", bob_.device_id}};
    if (op == "admin_trace") return {{"trace_id", 12345}};
    return {};
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
  account root_, bob_;
};

TEST_P(Admin, OnlyAdministratorsMayUseEveryAdminOperation) {
  ws_client bob_ws(srv_->port());
  bob_ws.hello(bob_.token, 0);
  ws_client root_ws(srv_->port());
  root_ws.hello(root_.token, 0);
  for (const auto& op : admin_ops) {
    SCOPED_TRACE(op);
    EXPECT_EQ(http_->post(op, args_of(op), bob_.token).error_code(), "forbidden");
    EXPECT_EQ(http_->post(op, args_of(op)).error_code(), "unauthenticated");
    EXPECT_EQ(jstr(jobj(bob_ws.call(op, args_of(op)), "error"), "code"), "forbidden");
  }
  EXPECT_FALSE(bob_ws.wait_close(200ms)) << "a refused admin_disconnect closed the session";
  // An administrator named second in the list counts too.
  auto ops = register_user(*http_, "ops.team");
  for (const auto& op : {"admin_nodes", "admin_server", "admin_user"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(http_->post(op, args_of(op), ops.token).status, 200u);
    EXPECT_EQ(jstr(root_ws.call(op, args_of(op)), "type"), "result");
  }
  // Past the role check, a trace nobody holds is not_found.
  EXPECT_EQ(http_->post("admin_trace", args_of("admin_trace"), ops.token).error_code(), "not_found");
  // Last: it closes bob's session.
  EXPECT_EQ(jint(root_ws.call_ok("admin_disconnect", args_of("admin_disconnect")), "closed"), 1);
}

TEST_P(Admin, NodesServerAndUserDescribeThisNode) {
  ws_client bob_ws(srv_->port());
  bob_ws.hello(bob_.token, 0);
  auto server = http_->call("admin_server", {}, root_.token);
  const auto node = jstr(server, "node");
  EXPECT_EQ(jstr(server, "version"), "0.1.0");
  EXPECT_EQ(jstr(jobj(server, "config"), "admin"), "root,ops.team");
  EXPECT_EQ(jstr(jobj(server, "config"), "storage"), GetParam());

  auto nodes = http_->call("admin_nodes", {}, root_.token);
  ASSERT_EQ(jarr(nodes, "nodes").size(), 1u);
  EXPECT_TRUE(jarr(nodes, "missing").empty());
  const auto& self = jarr(nodes, "nodes")[0].as_object();
  EXPECT_EQ(jstr(self, "node"), node);
  EXPECT_EQ(jint(self, "sessions"), 1);
  EXPECT_EQ(jint(jobj(self, "metrics"), "confab_sessions"), 1);
  EXPECT_GE(jint(jobj(self, "metrics"), "confab_operations_total"), 3);  // register twice, admin_server
  EXPECT_EQ(jstr(jobj(self, "broker"), "kind"), "inproc");
  EXPECT_TRUE(jarr(jobj(self, "broker"), "shards").empty());
  EXPECT_TRUE(jarr(self, "proxies").empty());

  auto user = http_->call("admin_user", {{"username", "bob"}}, root_.token);
  EXPECT_EQ(jint(jobj(user, "user"), "id"), bob_.user_id);
  ASSERT_EQ(jarr(user, "devices").size(), 1u);
  EXPECT_EQ(jint(jarr(user, "devices")[0], "device_id"), bob_.device_id);
  ASSERT_EQ(jarr(user, "sessions").size(), 1u);
  const auto& s = jarr(user, "sessions")[0].as_object();
  EXPECT_EQ(jstr(s, "node"), node);
  EXPECT_EQ(jint(s, "device"), bob_.device_id);
  EXPECT_EQ(jint(s, "user"), bob_.user_id);
  EXPECT_EQ(jstr(s, "remote").rfind("127.0.0.1:", 0), 0u);
  EXPECT_FALSE(s.contains("via"));
}

// Issue 17: X-Forwarded-For is believed from a --trusted-proxy peer only.
TEST_P(Admin, ForwardedForIsBelievedFromTrustedProxiesOnly) {
  ws_client::options o;
  // A field the client forged, then the one a proxy appends after it.
  o.headers = {{"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "198.51.100.1, 203.0.113.9"}};
  auto sessions = [&] {
    return jarr(http_client(srv_->port()).call("admin_user", {{"username", "bob"}}, root_.token), "sessions");
  };
  {
    ws_client forged(srv_->port(), o);  // this node trusts no proxy
    forged.hello(bob_.token, 0);
    const auto s = sessions();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(jstr(s[0], "remote").rfind("127.0.0.1:", 0), 0u) << dump(s);
    EXPECT_FALSE(s[0].as_object().contains("via"));
  }
  srv_->stop();
  auto a = fast;
  for (const std::string& x : {std::string("--trusted-proxy"), std::string("127.0.0.0/8")}) a.push_back(x);
  for (auto& x : backend_args(GetParam(), dir_, pg_.get())) a.push_back(x);
  srv_->start(a);
  ws_client proxied(srv_->port(), o);
  proxied.hello(bob_.token, 0);
  const auto s = sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(jstr(s[0], "remote"), "203.0.113.9") << "the address the trusted proxy appended";
  EXPECT_EQ(jstr(s[0], "via"), "127.0.0.1");
  auto node = jarr(http_client(srv_->port()).call("admin_nodes", {}, root_.token), "nodes")[0];
  ASSERT_EQ(jarr(node, "proxies").size(), 1u);
  EXPECT_EQ(jint(jarr(node, "proxies")[0], "sessions"), 1);
}

TEST_P(Admin, TheConfigurationHidesSecrets) {
  const auto body = http_->post("admin_server", {}, root_.token).body;
  EXPECT_EQ(body.find("hunter2"), std::string::npos);
  if (GetParam() == "postgres") {
    auto server = http_->call("admin_server", {}, root_.token);
    EXPECT_NE(jstr(jobj(server, "config"), "pg-dsn").find("password=***"), std::string::npos);
  }
}

TEST_P(Admin, DisconnectAndRevoke) {
  ws_client a(srv_->port());
  a.hello(bob_.token, 0);
  auto r = http_->call("admin_disconnect", {{"username", "bob"}, {"device_id", bob_.device_id}}, root_.token);
  EXPECT_EQ(jint(r, "closed"), 1);
  EXPECT_EQ(a.wait_close(), 4002);
  // Not revoked: the token still works.
  ws_client b(srv_->port());
  b.hello(bob_.token, 0);
  r = http_->call("admin_disconnect", {{"username", "bob"}, {"device_id", bob_.device_id}, {"revoke", true}}, root_.token);
  EXPECT_TRUE(r.as_object().at("revoked").as_bool());
  EXPECT_EQ(b.wait_close(), 4001);
  EXPECT_EQ(http_->post("me", {}, bob_.token).error_code(), "unauthenticated");
}

TEST_P(Admin, BadInputGetsTypedErrors) {
  auto code = [&](std::string_view op, const json::object& args) { return http_->post(op, args, root_.token).error_code(); };
  EXPECT_EQ(code("admin_user", {}), "missing_field");
  EXPECT_EQ(code("admin_user", {{"username", 5}}), "invalid_field");
  EXPECT_EQ(code("admin_user", {{"username", "no such"}}), "invalid_field");
  EXPECT_EQ(code("admin_user", {{"username", "nobody"}}), "not_found");
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}}), "missing_field");
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}, {"device_id", 0}}), "invalid_field");
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}, {"device_id", "1"}}), "invalid_field");
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}, {"device_id", bob_.device_id}, {"revoke", "yes"}}), "invalid_field");
  // Another user's device is not bob's: nothing happens to it.
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}, {"device_id", root_.device_id}}), "not_found");
  EXPECT_EQ(code("admin_disconnect", {{"username", "bob"}, {"device_id", root_.device_id}, {"revoke", true}}), "not_found");
  EXPECT_EQ(http_->post("me", {}, root_.token).status, 200u);
  EXPECT_EQ(code("admin_trace", {}), "missing_field");
  EXPECT_EQ(code("admin_trace", {{"conv", 1}}), "missing_field");
  EXPECT_EQ(code("admin_trace", {{"trace_id", 0}}), "invalid_field");
  EXPECT_EQ(code("admin_trace", {{"conv", 1}, {"seq", "1"}}), "invalid_field");
  EXPECT_EQ(code("admin_trace", {{"client_id", "x"}}), "missing_field");
  EXPECT_EQ(code("admin_trace", {{"username", "bob"}, {"client_id", ""}}), "invalid_field");
  EXPECT_EQ(code("admin_trace", {{"username", "bob"}, {"client_id", std::string(65, 'x')}}), "invalid_field");
  EXPECT_EQ(code("admin_trace", {{"username", "nobody"}, {"client_id", "x"}}), "not_found");
  EXPECT_EQ(code("admin_trace", {{"username", "bob"}, {"client_id", "never-sent"}}), "not_found");
}

// Issue 17: a traced send is found by its sender's client id, also when it failed; the failure is
// a hop of its own.
TEST_P(Admin, ATracedSendIsFoundByItsClientIdEvenWhenItFailed) {
  auto conv = jint(http_->call("create_direct", {{"username", "bob"}}, root_.token), "conv");
  auto ok = http_->call("send", {{"conv", conv}, {"client_id", "c-ok"}, {"text", "hi"}, {"trace", true}}, root_.token);
  auto t = http_->call("admin_trace", {{"username", "root"}, {"client_id", "c-ok"}}, root_.token);
  EXPECT_EQ(jint(t, "trace_id"), jint(ok, "trace_id"));
  EXPECT_EQ(http_->post("admin_trace", {{"username", "bob"}, {"client_id", "c-ok"}}, root_.token).error_code(), "not_found")
      << "bob sent nothing with that client id";
  // Into a conversation root is not in: refused, and the trace says so.
  auto refused = http_->post("send", {{"conv", conv + 1000}, {"client_id", "c-bad"}, {"text", "hi"}, {"trace", true}}, root_.token);
  ASSERT_NE(refused.error_code(), "");
  auto f = http_->call("admin_trace", {{"username", "root"}, {"client_id", "c-bad"}}, root_.token);
  std::vector<std::string> kinds;
  for (const auto& h : jarr(f, "hops")) kinds.push_back(jstr(h, "hop"));
  EXPECT_EQ(kinds, (std::vector<std::string>{"received", "validated", "failed"})) << dump(f);
  EXPECT_EQ(jstr(jarr(f, "hops")[2], "error"), refused.error_code());
  // Refused by the checks before storage (a thread field without its root): the same.
  auto early = http_->post("send", {{"conv", conv}, {"client_id", "c-early"}, {"text", "hi"}, {"also_in_conversation", true},
                                    {"trace", true}}, root_.token);
  EXPECT_EQ(early.error_code(), "invalid_field");
  auto e = http_->call("admin_trace", {{"username", "root"}, {"client_id", "c-early"}}, root_.token);
  ASSERT_EQ(jarr(e, "hops").size(), 2u) << dump(e);
  EXPECT_EQ(jstr(jarr(e, "hops")[1], "hop"), "failed");
  EXPECT_EQ(jstr(jarr(e, "hops")[1], "error"), "invalid_field");
}

// A plain send is not traced (--trace-sample 0); with --trace-sample 1 every send is.
TEST_P(Admin, SendsAreTracedWhenAskedOrSampled) {
  auto conv = jint(http_->call("create_direct", {{"username", "bob"}}, root_.token), "conv");
  auto plain = http_->call("send", {{"conv", conv}, {"client_id", "p1"}, {"text", "hi"}}, root_.token);
  EXPECT_FALSE(plain.as_object().contains("trace_id"));
  EXPECT_EQ(http_->post("admin_trace", {{"conv", conv}, {"seq", jint(plain, "seq")}}, root_.token).error_code(), "not_found");
  auto asked = http_->call("send", {{"conv", conv}, {"client_id", "p2"}, {"text", "hi"}, {"trace", true}}, root_.token);
  const auto id = jint(asked, "trace_id");
  auto t = http_->call("admin_trace", {{"conv", conv}, {"seq", jint(asked, "seq")}}, root_.token);
  EXPECT_EQ(jint(t, "trace_id"), id);
  // The search index's consumer records when it indexed the message.
  EXPECT_TRUE(eventually([&] {
    const auto now = http_->call("admin_trace", {{"trace_id", id}}, root_.token);
    for (auto& h : jarr(now, "hops"))
      if (jstr(h, "hop") == "indexed") return jint(h, "seq") == jint(asked, "seq");
    return false;
  }));

  srv_->stop();
  auto a = fast;
  a.back() = "1";  // --trace-sample 1
  for (auto& x : backend_args(GetParam(), dir_, pg_.get())) a.push_back(x);
  srv_->start(a);
  http_client h(srv_->port());
  auto sampled = h.call("send", {{"conv", conv}, {"client_id", "p3"}, {"text", "hi"}}, root_.token);
  EXPECT_GT(jint(sampled, "trace_id"), 0);
  EXPECT_EQ(jint(h.call("admin_trace", {{"trace_id", jint(sampled, "trace_id")}}, root_.token), "trace_id"), jint(sampled, "trace_id"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Admin, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// Two nodes on one PostgreSQL database and one Redis.
class AdminCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-admin-cluster-");
    redis_ = std::make_unique<redis_server>(dir_);
    for (int i = 0; i < 2; ++i) {
      auto a = fast;
      for (auto& x : backend_args("postgres", dir_, &pg_)) a.push_back(x);
      for (const std::string& x : {std::string("--broker"), std::string("redis"), std::string("--redis"), redis_->address(),
                                   std::string("--presence-ttl-ms"), std::string("3000")})
        a.push_back(x);
      nodes_.push_back(std::make_unique<server_process>(dir_ / ("n" + std::to_string(i))));
      std::filesystem::create_directories(dir_ / ("n" + std::to_string(i)));
      nodes_.back()->start(a);
    }
    http_a_ = std::make_unique<http_client>(nodes_[0]->port());
    root_ = register_user(*http_a_, "root");
    bob_ = register_user(*http_a_, "bob");
    // Both nodes registered in Redis.
    ASSERT_TRUE(eventually([&] { return jarr(http_a_->call("admin_nodes", {}, root_.token), "nodes").size() == 2; }));
  }
  void TearDown() override {
    if (HasFailure())
      for (auto& n : nodes_) std::cerr << "---- confabd log\n" << tail_file(n->log_path(), 30);
  }
  std::string node_id(int i) const {
    return jstr(http_client(nodes_[i]->port()).call("admin_server", {}, root_.token), "node");
  }

  std::filesystem::path dir_;
  pg_database pg_;
  std::unique_ptr<redis_server> redis_;
  std::vector<std::unique_ptr<server_process>> nodes_;
  std::unique_ptr<http_client> http_a_;
  account root_, bob_;
};

TEST_F(AdminCluster, SessionsOnEveryNodeAreListedAndClosed) {
  const auto a_id = node_id(0), b_id = node_id(1);
  ASSERT_NE(a_id, b_id);
  ws_client on_a(nodes_[0]->port()), on_b(nodes_[1]->port());
  on_a.hello(bob_.token, 0);
  on_b.hello(bob_.token, 0);

  auto nodes = http_a_->call("admin_nodes", {}, root_.token);
  std::set<std::string> ids;
  for (auto& n : jarr(nodes, "nodes")) {
    ids.insert(jstr(n, "node"));
    EXPECT_EQ(jint(n, "sessions"), 1) << dump(n);
  }
  EXPECT_EQ(ids, (std::set<std::string>{a_id, b_id}));
  EXPECT_EQ(jstr(jarr(nodes, "nodes")[0], "node"), a_id);  // the asking node first
  EXPECT_TRUE(jarr(nodes, "missing").empty());

  auto user = http_a_->call("admin_user", {{"username", "bob"}}, root_.token);
  std::set<std::string> where;
  for (auto& s : jarr(user, "sessions")) {
    where.insert(jstr(s, "node"));
    EXPECT_EQ(jint(s, "device"), bob_.device_id);
  }
  EXPECT_EQ(where, (std::set<std::string>{a_id, b_id}));

  // Asked on node A, the session on node B closes too.
  auto r = http_a_->call("admin_disconnect", {{"username", "bob"}, {"device_id", bob_.device_id}}, root_.token);
  EXPECT_EQ(jint(r, "closed"), 2);
  EXPECT_EQ(on_a.wait_close(), 4002);
  EXPECT_EQ(on_b.wait_close(), 4002);

  ws_client again(nodes_[1]->port());
  again.hello(bob_.token, 0);
  http_a_->call("admin_disconnect", {{"username", "bob"}, {"device_id", bob_.device_id}, {"revoke", true}}, root_.token);
  EXPECT_EQ(again.wait_close(), 4001);
}

// The names of the hops, in the order admin_trace returns them, each with its node.
std::vector<std::pair<std::string, std::string>> hop_list(const json::value& t) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& h : jarr(t, "hops")) out.emplace_back(jstr(h, "hop"), jstr(h, "node"));
  return out;
}

const json::object* find_hop(const json::value& t, std::string_view hop) {
  for (auto& h : jarr(t, "hops"))
    if (jstr(h, "hop") == hop) return &h.as_object();
  return nullptr;
}

TEST_F(AdminCluster, ATracedSendShowsItsHopsOnEveryNode) {
  const auto a_id = node_id(0), b_id = node_id(1);
  auto alice = register_user(*http_a_, "alice");
  const auto conv = jint(http_a_->call("create_direct", {{"username", "bob"}}, alice.token), "conv");
  ws_client bob(nodes_[1]->port());
  bob.hello(bob_.token, 0);
  bob.until_synced();

  const auto t0 = std::chrono::steady_clock::now();
  auto sent = http_a_->call("send", {{"conv", conv}, {"client_id", "traced-1"}, {"text", "where does the time go"}, {"trace", true}},
                            alice.token);
  auto ev = bob.next_event();
  const auto client_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  const auto trace = jint(sent, "trace_id");
  const auto seq = jint(sent, "seq");
  ASSERT_GT(trace, 0);
  bob.call_ok("delivered", {{"conv", conv}, {"seq", seq}});
  bob.call_ok("read", {{"conv", conv}, {"seq", seq}});

  // Asked on node B by conversation and seq: node A's hops before the commit come too. The search
  // consumer's "indexed" hop is the one recorded apart from the message's path: wait for it, so
  // that the two answers compared below are taken of the same finished trace.
  json::value t;
  EXPECT_TRUE(eventually([&] {
    t = http_client(nodes_[1]->port()).call("admin_trace", {{"conv", conv}, {"seq", seq}}, root_.token);
    return find_hop(t, "indexed") != nullptr;
  })) << dump(t);
  EXPECT_EQ(jint(t, "trace_id"), trace);
  EXPECT_TRUE(jarr(t, "missing").empty());
  const auto hops = hop_list(t);
  auto at = [&](std::string_view hop, const std::string& node) {
    for (std::size_t i = 0; i < hops.size(); ++i)
      if (hops[i].first == hop && hops[i].second == node) return static_cast<int>(i);
    ADD_FAILURE() << "no hop " << hop << " on node " << node << " in " << dump(t);
    return -1;
  };
  const int received = at("received", a_id), validated = at("validated", a_id), committed = at("committed", a_id),
            published = at("published", a_id),
            relayed = at("broker_received", b_id), queued = at("queued", b_id), acked = at("acked", a_id),
            delivered = at("delivered", b_id), read = at("read", b_id), written = at("written", b_id);
  EXPECT_LT(received, validated);
  EXPECT_LT(validated, committed);
  EXPECT_LT(relayed, written);
  EXPECT_LT(written, delivered) << "bob's client got the frame the node wrote, and then said so";
  EXPECT_LT(committed, published);
  EXPECT_LT(published, relayed);
  EXPECT_LT(relayed, queued);
  EXPECT_LT(committed, acked);
  EXPECT_LT(queued, delivered);
  EXPECT_LT(delivered, read);
  // The details each hop carries.
  const auto* q = find_hop(t, "queued");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(jint(*q, "device"), bob_.device_id);
  EXPECT_EQ(jint(*q, "pos"), jint(ev, "pos"));
  const auto* w = find_hop(t, "written");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(jint(*w, "device"), bob_.device_id);
  EXPECT_EQ(jint(*w, "pos"), jint(ev, "pos"));
  const auto* c = find_hop(t, "committed");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(jint(*c, "seq"), seq);
  const auto* pub = find_hop(t, "published");
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(jstr(*pub, "channel"), "c:" + std::to_string(conv));
  EXPECT_GE(jint(*pub, "slot"), 0);
  EXPECT_LT(jint(*pub, "slot"), 16384);
  EXPECT_GE(jint(*c, "batch_writes"), 1);
  EXPECT_GE(jint(*c, "batch_us"), jint(*c, "commit_us"));
  EXPECT_EQ(jint(*find_hop(t, "received"), "device"), alice.device_id);
  EXPECT_EQ(jint(*find_hop(t, "delivered"), "user"), bob_.user_id);
  // The server's span from receipt to bob's session lies inside what the clients measured.
  const auto span = jint(*q, "at_us") - jint(*find_hop(t, "received"), "at_us");
  EXPECT_GE(span, 0);
  EXPECT_LE(span, client_us);
  const auto diagram = jstr(t, "mermaid");
  EXPECT_EQ(diagram.rfind("sequenceDiagram\n", 0), 0u);
  EXPECT_NE(diagram.find("->>"), std::string::npos);  // the message crossed nodes
  // By trace id, through node A: the same hops.
  auto by_id = http_a_->call("admin_trace", {{"trace_id", trace}}, root_.token);
  auto same = hop_list(by_id), mine = hops;  // the same set; hops at the same instant may swap
  std::sort(same.begin(), same.end());
  std::sort(mine.begin(), mine.end());
  EXPECT_EQ(same, mine);
  // By the sender's client id, through node B (only node A knows it): the same trace.
  auto by_client = http_client(nodes_[1]->port()).call("admin_trace", {{"username", "alice"}, {"client_id", "traced-1"}}, root_.token);
  EXPECT_EQ(jint(by_client, "trace_id"), trace);
  EXPECT_EQ(hop_list(by_client).size(), hops.size());
  // The broker counters moved on both sides of Redis.
  auto nodes = http_a_->call("admin_nodes", {}, root_.token);
  for (auto& n : jarr(nodes, "nodes")) {
    const auto& m = jobj(n, "metrics");
    if (jstr(n, "node") == a_id) {
      EXPECT_GE(jint(m, "confab_broker_published_total"), 1) << dump(m);
    }
    if (jstr(n, "node") == b_id) {
      EXPECT_GE(jint(m, "confab_broker_received_total"), 1) << dump(m);
    }
  }
}

TEST_F(AdminCluster, AKilledNodeIsNamedAsNotAnswering) {
  const auto b_id = node_id(1);
  nodes_[1]->kill9();
  // Its presence entry outlives it by up to the presence TTL: it is listed, and does not answer.
  auto nodes = http_a_->call("admin_nodes", {}, root_.token);
  EXPECT_EQ(jarr(nodes, "nodes").size(), 1u);
  ASSERT_EQ(jarr(nodes, "missing").size(), 1u) << dump(nodes);
  EXPECT_EQ(jarr(nodes, "missing")[0].as_string(), b_id);
  // Once reaped, it is no longer listed.
  ASSERT_TRUE(eventually([&] { return jarr(http_a_->call("admin_nodes", {}, root_.token), "missing").empty(); }));
}

}  // namespace
}  // namespace e2e
