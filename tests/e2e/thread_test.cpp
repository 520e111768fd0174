// End-to-end tests of threads and mentions (issue 11): a real confabd per test, both backends,
// over HTTP and WebSocket. Thread summaries and unread converge on two devices after reconnect; a
// 10,000-reply thread opens with one page; every new operation in an authorization table; every
// bad input its own case; thread-scoped typing; @here against who is online.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace e2e {
namespace {

class Threads : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { dir_ = make_temp_dir("confab-thread-"); }
  void open(std::vector<std::string> extra = {}) {
    if (GetParam() == "postgres") {
      try {
        pg_ = std::make_unique<pg_database>();
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
    std::vector<std::string> args;
    if (GetParam() == "postgres") args = {"--storage", "postgres", "--pg-dsn", pg_->dsn()};
    else args = {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()};
    for (const char* a : {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--rate-per-sec", "100000", "--rate-burst", "100000"})
      args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(args);
    http_ = std::make_unique<http_client>(srv_->port());
  }

  void TearDown() override {
    if (srv_) srv_->stop();
    if (HasFailure() && srv_) std::cerr << "---- server log (last lines)\n" << tail_file(srv_->log_path(), 30);
    srv_.reset();
    pg_.reset();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::string error_of(std::string_view op, const json::object& body, const std::string& token) const {
    return http_->post(op, body, token).error_code();
  }
  std::int64_t send(const account& a, std::int64_t conv, const std::string& text, std::optional<std::int64_t> root = std::nullopt) {
    json::object b{{"conv", conv}, {"client_id", "c" + std::to_string(++cid_)}, {"text", text}};
    if (root) b["thread_root"] = *root;
    return jint(http_->call("send", b, a.token), "seq");
  }
  json::object event_at(const account& a, std::int64_t conv, std::int64_t seq) {
    auto h = http_->call("history", {{"conv", conv}, {"after", seq - 1}, {"limit", 1}}, a.token);
    return jarr(h, "events").at(0).as_object();
  }
  std::int64_t last_seq(const account& a, std::int64_t conv) { return jint(http_->call("conversation", {{"conv", conv}}, a.token), "last_seq"); }
  std::int64_t group(const account& owner, const std::vector<account>& others, const std::string& title = "g") {
    json::array ids;
    for (auto& o : others) ids.push_back(o.user_id);
    return jint(http_->call("create_group", {{"title", title}, {"members", ids}}, owner.token), "conv");
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
  int cid_ = 0;
};

TEST_P(Threads, RepliesOverWebSocketAndTheRootsSummaryOverHttp) {
  open();
  auto ana = register_user(*http_, "ana"), ben = register_user(*http_, "ben");
  const auto g = group(ana, {ben});
  const auto root = send(ana, g, "root");
  ws_client ws(srv_->port());
  ws.hello(ana.token);
  ws.until_synced();
  ws_client wb(srv_->port());
  wb.hello(ben.token);
  wb.until_synced();
  auto r = wb.call_ok("send", {{"conv", g}, {"client_id", "r1"}, {"text", "re @ana"}, {"thread_root", root}});
  auto ev = jobj(ws.next_event(), "event");
  EXPECT_EQ(jint(ev, "thread_root"), root);
  EXPECT_EQ(jint(ev, "seq"), jint(r, "seq"));
  EXPECT_EQ(dump(jarr(ev, "mentions")), "[" + std::to_string(ana.user_id) + "]");
  EXPECT_FALSE(ev.contains("thread"));  // live frames carry no per-reader summary

  auto rt = event_at(ana, g, root);
  auto th = jobj(rt, "thread");
  EXPECT_EQ(jint(th, "replies"), 1);
  EXPECT_EQ(jint(th, "last_seq"), jint(r, "seq")) << "the latest reply the summary counts";
  EXPECT_EQ(dump(jarr(th, "participants")), "[" + std::to_string(ben.user_id) + "]");
  EXPECT_EQ(th.at("following").as_bool(), true);
  EXPECT_EQ(jint(th, "unread"), 1);
  auto page = ws.call_ok("thread", {{"conv", g}, {"root", root}});
  EXPECT_EQ(jarr(page, "replies").size(), 1u);
  EXPECT_EQ(jint(jobj(jobj(page, "root"), "thread"), "replies"), 1);
  auto conv = http_->call("conversation", {{"conv", g}}, ana.token);
  EXPECT_EQ(jint(conv, "unread_mentions"), 1);
  auto men = http_->call("mentions", {}, ana.token);
  ASSERT_EQ(jarr(men, "mentions").size(), 1u);
  EXPECT_EQ(jint(jarr(men, "mentions").at(0), "seq"), jint(r, "seq"));
  EXPECT_TRUE(men.at("next").is_null());
}

// Two devices of one user: both offline while replies and mentions arrive, one reads the thread,
// then both reconnect and see the same summaries and counts.
TEST_P(Threads, TwoDevicesConvergeAfterReconnect) {
  open();
  auto ana = register_user(*http_, "ana", "phone"), ben = register_user(*http_, "ben");
  auto laptop = login(*http_, "ana", "laptop");
  const auto g = group(ana, {ben});
  const auto root = send(ana, g, "root");
  std::int64_t phone_pos = 0, laptop_pos = 0;
  {
    ws_client p(srv_->port());
    p.hello(ana.token);
    p.until_synced(&phone_pos);
    ws_client l(srv_->port());
    l.hello(laptop.token);
    l.until_synced(&laptop_pos);
  }
  send(ben, g, "one", root);
  send(ben, g, "two @ana", root);
  const auto last = send(ben, g, "three", root);
  http_->call("read_thread", {{"conv", g}, {"root", root}, {"seq", last - 1}}, laptop.token);

  auto view = [&](const account& dev, std::int64_t since) {
    ws_client w(srv_->port());
    w.hello(dev.token, since);
    auto evs = w.until_synced();
    EXPECT_EQ(evs.size(), 3u);  // the three replies, each once
    for (auto& e : evs) EXPECT_EQ(jint(jobj(e, "event"), "thread_root"), root);
    auto th = w.call_ok("threads", {});
    auto conv = w.call_ok("conversation", {{"conv", g}});
    return dump(th) + " " + std::to_string(jint(conv, "unread_mentions")) + " " + dump(jobj(event_at(dev, g, root), "thread"));
  };
  const auto a = view(ana, phone_pos), b = view(laptop, laptop_pos);
  EXPECT_EQ(a, b);
  auto th = jobj(event_at(ana, g, root), "thread");
  EXPECT_EQ(jint(th, "replies"), 3);
  EXPECT_EQ(jint(th, "unread"), 1);  // read up to "two" on the laptop
  EXPECT_EQ(jint(http_->call("conversation", {{"conv", g}}, ana.token), "unread_mentions"), 1);
}

TEST_P(Threads, TenThousandRepliesOpenWithOnePage) {
  open();
  auto ana = register_user(*http_, "ana"), ben = register_user(*http_, "ben");
  const auto g = group(ana, {ben});
  const auto root = send(ana, g, "root");
  ws_client ws(srv_->port());
  ws.hello(ben.token);
  ws.until_synced();
  constexpr int n = 10000;
  std::vector<std::int64_t> ids;
  // Pipelined (the writer commits them in groups), in bounded windows.
  for (int i = 0; i < n; i += 500) {
    ids.clear();
    for (int k = i; k < i + 500; ++k)
      ids.push_back(ws.send_op("send", {{"conv", g}, {"client_id", "r" + std::to_string(k)}, {"text", "r"}, {"thread_root", root}}));
    for (auto id : ids) {
      auto rep = ws.reply(id, 60s);
      ASSERT_TRUE(rep);
      ASSERT_EQ(jstr(*rep, "type"), "result") << dump(*rep);
    }
    ws.drain_events(0ms);
  }
  auto page = http_->call("thread", {{"conv", g}, {"root", root}, {"limit", 50}}, ana.token);
  EXPECT_EQ(jarr(page, "replies").size(), 50u);
  EXPECT_TRUE(page.at("has_more").as_bool());
  EXPECT_EQ(jint(jobj(jobj(page, "root"), "thread"), "replies"), n);
  EXPECT_EQ(jint(jarr(page, "replies").at(49), "seq"), last_seq(ana, g));
  auto dflt = http_->call("thread", {{"conv", g}, {"root", root}}, ana.token);
  EXPECT_EQ(jarr(dflt, "replies").size(), 50u);
}

// Every new operation: stranger, removed member, member, admin, owner, revoked device.
TEST_P(Threads, AuthorizationTable) {
  open();
  auto owner = register_user(*http_, "owner"), admin = register_user(*http_, "admin"), member = register_user(*http_, "member"),
       removed = register_user(*http_, "removed"), stranger = register_user(*http_, "stranger");
  auto revoked = login(*http_, "member", "old");
  const auto g = group(owner, {admin, member, removed});
  http_->call("set_role", {{"conv", g}, {"user_id", admin.user_id}, {"role", "admin"}}, owner.token);
  const auto root = send(owner, g, "root");
  send(member, g, "re", root);
  http_->call("remove_member", {{"conv", g}, {"user_id", removed.user_id}}, owner.token);
  http_->call("logout", {}, revoked.token);
  // What a refused call must not change: the root and its summary, the conversation's log, and
  // the former member's own follow state (visible to them through thread).
  const auto state = [&] {
    return dump(event_at(owner, g, root)) + std::to_string(last_seq(owner, g)) +
           dump(http_->call("thread", {{"conv", g}, {"root", root}}, removed.token));
  };
  const auto before = state();

  struct op {
    std::string name;
    json::object body;
    bool conv_scoped;  // needs membership
    bool read;         // history's rules: a former member may read
  };
  const std::vector<op> ops = {
      {"thread", {{"conv", g}, {"root", root}}, true, true},
      {"follow_thread", {{"conv", g}, {"root", root}}, true, false},
      {"unfollow_thread", {{"conv", g}, {"root", root}}, true, false},
      {"read_thread", {{"conv", g}, {"root", root}, {"seq", 1}}, true, false},
      {"threads", {}, false, true},
      {"mentions", {}, false, true},
      {"send", {{"conv", g}, {"client_id", "auth"}, {"text", "x"}, {"thread_root", root}}, true, false},
  };
  for (auto& o : ops) {
    SCOPED_TRACE(o.name);
    EXPECT_EQ(error_of(o.name, o.body, revoked.token), "unauthenticated");
    EXPECT_EQ(error_of(o.name, o.body, stranger.token), o.conv_scoped ? "forbidden" : "");
    EXPECT_EQ(error_of(o.name, o.body, removed.token), o.read ? "" : "forbidden");
  }
  EXPECT_EQ(state(), before);  // the refusals changed nothing
  for (auto& o : ops) {
    if (o.name == "send") continue;
    for (auto* a : {&member, &admin, &owner}) EXPECT_EQ(error_of(o.name, o.body, a->token), "") << o.name << " by " << a->username;
  }
  EXPECT_EQ(jint(jobj(event_at(owner, g, root), "thread"), "replies"), 1);
  EXPECT_TRUE(jarr(http_->call("threads", {}, stranger.token), "threads").empty());
  EXPECT_TRUE(jarr(http_->call("threads", {}, removed.token), "threads").empty());

  // The wildcard rule by role, in a group of 16.
  std::vector<account> more{admin, member};
  for (int i = 0; i < 13; ++i) more.push_back(register_user(*http_, "u" + std::to_string(i)));
  const auto big = group(owner, more, "big");
  http_->call("set_role", {{"conv", big}, {"user_id", admin.user_id}, {"role", "admin"}}, owner.token);
  const auto big_before = last_seq(owner, big);
  auto all = [&](const account& a) {
    return error_of("send", {{"conv", big}, {"client_id", "all-" + a.username}, {"text", "@all hi"}}, a.token);
  };
  EXPECT_EQ(all(member), "forbidden");
  EXPECT_EQ(last_seq(owner, big), big_before);
  EXPECT_EQ(all(admin), "");
  EXPECT_EQ(all(owner), "");
}

TEST_P(Threads, ReplyToAReplyIsInvalid) {
  open();
  auto ana = register_user(*http_, "ana");
  const auto g = group(ana, {});
  const auto root = send(ana, g, "root");
  const auto r = send(ana, g, "re", root);
  const auto before = last_seq(ana, g);
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "x"}, {"text", "x"}, {"thread_root", r}}, ana.token), "invalid_field");
  EXPECT_EQ(last_seq(ana, g), before);
  EXPECT_EQ(error_of("thread", {{"conv", g}, {"root", r}}, ana.token), "invalid_field");
}

TEST_P(Threads, RootInAnotherConversationIsNotFound) {
  open();
  auto ana = register_user(*http_, "ana");
  const auto g = group(ana, {}), h = group(ana, {}, "h");
  for (int i = 0; i < 4; ++i) send(ana, h, "h");
  const auto before = last_seq(ana, g);
  const auto in_h = last_seq(ana, h);
  ASSERT_GT(in_h, before);
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "x"}, {"text", "x"}, {"thread_root", in_h}}, ana.token), "not_found");
  EXPECT_EQ(last_seq(ana, g), before);
}

TEST_P(Threads, UnknownRootIsNotFound) {
  open();
  auto ana = register_user(*http_, "ana");
  const auto g = group(ana, {});
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "x"}, {"text", "x"}, {"thread_root", 12345}}, ana.token), "not_found");
  EXPECT_EQ(error_of("follow_thread", {{"conv", g}, {"root", 12345}}, ana.token), "not_found");
  EXPECT_EQ(last_seq(ana, g), 1);
}

TEST_P(Threads, ThreadRootOnAMembershipEventIsInvalid) {
  open();
  auto ana = register_user(*http_, "ana");
  const auto g = group(ana, {});
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "x"}, {"text", "x"}, {"thread_root", 1}}, ana.token), "invalid_field");
  EXPECT_EQ(last_seq(ana, g), 1);
}

TEST_P(Threads, AllByAPlainMemberInASixteenMemberGroupIsForbidden) {
  open();
  auto owner = register_user(*http_, "owner");
  std::vector<account> others;
  for (int i = 0; i < 15; ++i) others.push_back(register_user(*http_, "m" + std::to_string(i)));
  const auto g = group(owner, others);
  for (auto text : {"@all hi", "@here hi", "hey @all."}) {
    EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", text}, {"text", text}}, others[0].token), "forbidden") << text;
  }
  EXPECT_EQ(last_seq(owner, g), 1);
  // Fifteen members are within the default limit.
  http_->call("leave", {{"conv", g}}, others[14].token);
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "ok"}, {"text", "@all hi"}}, others[0].token), "");
}

TEST_P(Threads, WildcardLimitIsConfigurable) {
  open({"--wildcard-mention-limit", "2"});
  auto a = register_user(*http_, "ana"), b = register_user(*http_, "ben"), c = register_user(*http_, "cid");
  const auto g = group(a, {b, c});
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "x"}, {"text", "@here"}}, b.token), "forbidden");
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "y"}, {"text", "@here"}}, a.token), "");
}

// A conversation's own wildcard_limit (set_conversation) replaces the server's for that
// conversation, in both directions, and is read under the lock of the send that uses it.
TEST_P(Threads, ConversationWildcardLimitOverridesTheServers) {
  open();  // server default: 15
  auto a = register_user(*http_, "ana"), b = register_user(*http_, "ben"), c = register_user(*http_, "cid");
  const auto g = group(a, {b, c});
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "1"}, {"text", "@all one"}}, b.token), "");
  http_->call("set_conversation", {{"conv", g}, {"wildcard_limit", 2}}, a.token);
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "2"}, {"text", "@all two"}}, b.token), "forbidden");
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "3"}, {"text", "@here three"}}, a.token), "") << "the owner may";
  http_->call("set_conversation", {{"conv", g}, {"wildcard_limit", 3}}, a.token);
  EXPECT_EQ(error_of("send", {{"conv", g}, {"client_id", "4"}, {"text", "@all four"}}, b.token), "");
}

// Edits, deletes and reactions on thread roots and replies (issue 11): a thread page returns its
// root and replies as they are now; a deleted reply keeps its place and its count in the root's
// summary; a deleted root keeps its thread, which may still be replied to (as reply_to may point
// at a deleted message); a deleted message mentions nobody any more.
TEST_P(Threads, EditsDeletesAndReactionsOnRootsAndReplies) {
  open();
  auto ana = register_user(*http_, "ana"), ben = register_user(*http_, "ben");
  const auto g = group(ana, {ben});
  const auto root = send(ana, g, "root");
  const auto r1 = send(ana, g, "first @ben", root);
  const auto r2 = send(ana, g, "second", root);
  auto unread_mentions = [&] { return jint(http_->call("conversation", {{"conv", g}}, ben.token), "unread_mentions"); };
  EXPECT_EQ(unread_mentions(), 1);
  http_->call("edit", {{"conv", g}, {"seq", r1}, {"text", "first, edited @ben"}}, ana.token);
  http_->call("react", {{"conv", g}, {"seq", r2}, {"emoji", "👍"}}, ben.token);
  http_->call("delete_message", {{"conv", g}, {"seq", r2}}, ana.token);
  auto page = http_->call("thread", {{"conv", g}, {"root", root}}, ben.token);
  auto replies = jarr(page, "replies");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies.at(0).at("text").as_string(), "first, edited @ben");
  EXPECT_TRUE(replies.at(0).as_object().contains("edited_ts"));
  EXPECT_EQ(replies.at(1).at("seq").as_int64(), r2) << "the deleted reply keeps its place";
  EXPECT_TRUE(replies.at(1).at("deleted").as_bool());
  EXPECT_EQ(replies.at(1).at("text").as_string(), "");
  EXPECT_FALSE(replies.at(1).as_object().contains("reactions")) << "its reactions went with it";
  EXPECT_EQ(page.at("root").at("thread").at("replies").as_int64(), 2);
  // The root deleted: its thread stays readable and open to replies.
  http_->call("delete_message", {{"conv", g}, {"seq", root}}, ana.token);
  auto h = event_at(ben, g, root);
  EXPECT_TRUE(h.at("deleted").as_bool());
  EXPECT_EQ(h.at("thread").at("replies").as_int64(), 2);
  send(ben, g, "still here", root);
  EXPECT_EQ(jint(http_->call("thread", {{"conv", g}, {"root", root}}, ben.token).at("root").as_object().at("thread").as_object(), "replies"), 3);
  // The mention goes with its message.
  http_->call("delete_message", {{"conv", g}, {"seq", r1}}, ana.token);
  EXPECT_EQ(unread_mentions(), 0);
  EXPECT_EQ(jarr(http_->call("mentions", {}, ben.token), "mentions").size(), 0u);
}

TEST_P(Threads, BadPagingArguments) {
  open();
  auto ana = register_user(*http_, "ana");
  const auto g = group(ana, {});
  const auto root = send(ana, g, "root");
  auto bad = [&](std::string_view op, json::object body) { return error_of(op, body, ana.token); };
  EXPECT_EQ(bad("thread", {{"conv", g}, {"root", root}, {"limit", 0}}), "invalid_field");
  EXPECT_EQ(bad("thread", {{"conv", g}, {"root", root}, {"limit", 101}}), "invalid_field");
  EXPECT_EQ(bad("thread", {{"conv", g}, {"root", root}, {"before", 5}, {"after", 1}}), "invalid_field");
  EXPECT_EQ(bad("thread", {{"conv", g}, {"root", 0}}), "invalid_field");
  EXPECT_EQ(bad("thread", {{"conv", g}}), "missing_field");
  EXPECT_EQ(bad("thread", {{"conv", g}, {"root", "x"}}), "invalid_field");
  for (auto op : {"threads", "mentions"}) {
    EXPECT_EQ(bad(op, {{"limit", 0}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"limit", 101}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", "nonsense"}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", "1.2"}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", "1.2.3.4"}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", "-1.2.3"}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", 5}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", ""}}), "invalid_field") << op;
    EXPECT_EQ(bad(op, {{"before", "1.2.3"}}), "") << op;
  }
  EXPECT_EQ(bad("read_thread", {{"conv", g}, {"root", root}, {"seq", -1}}), "invalid_field");
  EXPECT_EQ(bad("send", {{"conv", g}, {"client_id", "a"}, {"text", "x"}, {"also_in_conversation", true}}), "invalid_field");
  EXPECT_EQ(bad("send", {{"conv", g}, {"client_id", "b"}, {"text", "x"}, {"thread_root", 0}}), "invalid_field");
  EXPECT_EQ(bad("send", {{"conv", g}, {"client_id", "c"}, {"text", "x"}, {"thread_root", root}, {"also_in_conversation", 1}}),
            "invalid_field");
  EXPECT_EQ(bad("typing", {{"conv", g}, {"thread", 0}}), "invalid_field");
  std::string many;
  for (int i = 0; i < 51; ++i) many += "@u" + std::to_string(i) + " ";
  EXPECT_EQ(bad("send", {{"conv", g}, {"client_id", "d"}, {"text", many}}), "invalid_field");
  EXPECT_EQ(last_seq(ana, g), root);
}

TEST_P(Threads, TypingInAThreadIsRelayed) {
  open();
  auto ana = register_user(*http_, "ana"), ben = register_user(*http_, "ben");
  const auto g = group(ana, {ben});
  const auto root = send(ana, g, "root");
  ws_client wa(srv_->port());
  wa.hello(ana.token);
  wa.until_synced();
  ws_client wb(srv_->port());
  wb.hello(ben.token);
  wb.until_synced();
  wb.call_ok("typing", {{"conv", g}, {"thread", root}});
  auto t = wa.next("typing");
  ASSERT_TRUE(t);
  EXPECT_EQ(jint(*t, "thread"), root);
  // Moving back to the conversation is shown at once (not throttled as a repeat).
  wb.call_ok("typing", {{"conv", g}});
  auto t2 = wa.next("typing");
  ASSERT_TRUE(t2);
  EXPECT_FALSE(t2->contains("thread"));
}

TEST_P(Threads, HereMentionsTheMembersOnline) {
  open();
  auto ana = register_user(*http_, "ana"), ben = register_user(*http_, "ben"), cid = register_user(*http_, "cid");
  const auto g = group(ana, {ben, cid});
  ws_client wb(srv_->port());
  wb.hello(ben.token);
  wb.until_synced();
  const auto seq = send(ana, g, "@here standup");
  EXPECT_TRUE(event_at(ana, g, seq).at("mention_here").as_bool());
  EXPECT_EQ(jint(http_->call("conversation", {{"conv", g}}, ben.token), "unread_mentions"), 1);
  EXPECT_EQ(jint(http_->call("conversation", {{"conv", g}}, cid.token), "unread_mentions"), 0);
}

// Across nodes (two confabd on one PostgreSQL and a real Redis): thread-scoped typing crosses the
// relay with its thread, and @here sees a member who is online on the other node.
TEST(ThreadsCluster, TypingInAThreadAndHereAcrossNodes) {
  auto dir = make_temp_dir("confab-thread-cluster-");
  pg_database pg;
  redis_server redis(dir);
  std::vector<std::unique_ptr<server_process>> nodes;
  for (int i = 0; i < 2; ++i) {
    auto d = dir / ("node" + std::to_string(i));
    std::filesystem::create_directories(d);
    nodes.push_back(std::make_unique<server_process>(d));
    nodes.back()->start({"--storage", "postgres", "--pg-dsn", pg.dsn(), "--broker", "redis", "--redis", redis.address(), "--argon2-ops",
                         "1", "--argon2-mem-kib", "8", "--rate-per-sec", "100000", "--rate-burst", "100000"});
  }
  http_client h0(nodes[0]->port()), h1(nodes[1]->port());
  auto ana = register_user(h0, "ana"), ben = register_user(h1, "ben"), cid = register_user(h1, "cid");
  const auto g = jint(h0.call("create_group", {{"title", "g"}, {"members", json::array{ben.user_id, cid.user_id}}}, ana.token), "conv");
  const auto root = jint(h0.call("send", {{"conv", g}, {"client_id", "root"}, {"text", "root"}}, ana.token), "seq");
  ws_client wa(nodes[0]->port());
  wa.hello(ana.token);
  wa.until_synced();
  ws_client wb(nodes[1]->port());
  wb.hello(ben.token);
  wb.until_synced();

  // The other node may subscribe a moment after hello: repeat (stop, start again) until it arrives.
  std::optional<json::object> t;
  for (int i = 0; i < 20 && !t; ++i) {
    wb.call_ok("typing", {{"conv", g}, {"thread", root}});
    t = wa.next("typing", 500ms);
    if (!t) wb.call_ok("typing", {{"conv", g}, {"active", false}});
  }
  ASSERT_TRUE(t);
  EXPECT_EQ(jint(*t, "user_id"), ben.user_id);
  EXPECT_EQ(jint(*t, "thread"), root);

  // ana is online on node 0; cid's @here through node 1 mentions her (and ben, online there).
  const auto deadline = steady::now() + 10s;
  while (!jarr(wb.call_ok("presence", {{"users", json::array{ana.user_id}}}), "users").at(0).at("online").as_bool()) {
    ASSERT_LT(steady::now(), deadline) << "ana never showed online on node 1";
    std::this_thread::sleep_for(100ms);
  }
  wb.call_ok("presence", {{"users", json::array{}}});
  h1.call("send", {{"conv", g}, {"client_id", "here"}, {"text", "@here standup"}}, cid.token);
  EXPECT_EQ(jint(h0.call("conversation", {{"conv", g}}, ana.token), "unread_mentions"), 1);
  EXPECT_EQ(jint(h0.call("conversation", {{"conv", g}}, ben.token), "unread_mentions"), 1);
  EXPECT_EQ(jint(h0.call("conversation", {{"conv", g}}, cid.token), "unread_mentions"), 0);
  for (auto& n : nodes) n->stop();
  std::error_code ec;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir, ec);
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& i) { return i.param; }
INSTANTIATE_TEST_SUITE_P(Backends, Threads, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
