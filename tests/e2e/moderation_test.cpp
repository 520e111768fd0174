// End-to-end tests of moderation: conversation settings, pins, mutes, bans, slow mode and
// notification levels, over HTTP and WebSocket, on both backends; an authorization table for
// every new operation; each kind of bad input; and slow mode held across two nodes on one
// PostgreSQL.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

namespace e2e {
namespace {

class Moderation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-moderation-");
    if (GetParam() == "postgres") {
      try {
        pg_ = std::make_unique<pg_database>();
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
  }

  void TearDown() override {
    for (auto& s : servers_) s->stop();
    if (HasFailure())
      for (auto& s : servers_) std::cerr << "---- server log (last lines)\n" << tail_file(s->log_path(), 30);
    servers_.clear();
    pg_.reset();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  // Starts a confabd on this test's database (a second call: another node on the same database).
  server_process& start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args;
    if (GetParam() == "postgres") args = {"--storage", "postgres", "--pg-dsn", pg_->dsn()};
    else args = {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()};
    for (const char* a : {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--rate-burst", "1000", "--rate-per-sec", "1000"})
      args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    auto dir = dir_ / ("node" + std::to_string(servers_.size()));
    std::filesystem::create_directories(dir);
    servers_.push_back(std::make_unique<server_process>(dir));
    servers_.back()->start(args);
    if (!http_) http_ = std::make_unique<http_client>(servers_.back()->port());
    return *servers_.back();
  }

  // A group: owner, admin, member (ana, adam, mia) and conv_.
  void make_group() {
    owner_ = register_user(*http_, "owner");
    admin_ = register_user(*http_, "adam");
    member_ = register_user(*http_, "mia");
    conv_ = jint(http_->call("create_group", {{"title", "team"}, {"members", json::array{admin_.user_id, member_.user_id}}}, owner_.token),
                 "conv");
    http_->call("set_role", {{"conv", conv_}, {"user_id", admin_.user_id}, {"role", "admin"}}, owner_.token);
  }

  std::string error_of(std::string_view op, json::object body, const std::string& token) const {
    return http_->post(op, body, token).error_code();
  }
  std::int64_t last_seq() const { return jint(http_->call("conversation", {{"conv", conv_}}, owner_.token), "last_seq"); }
  std::int64_t send(const account& a, const std::string& cid) const {
    return jint(http_->call("send", {{"conv", conv_}, {"client_id", cid}, {"text", "t " + cid}}, a.token), "seq");
  }
  // The error code of a call that must be refused, checking that the conversation did not change.
  std::string refused(std::string_view op, json::object body, const account& a) const {
    const auto before = last_seq();
    body["conv"] = conv_;
    auto code = error_of(op, body, a.token);
    EXPECT_EQ(last_seq(), before) << op;
    return code;
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::vector<std::unique_ptr<server_process>> servers_;
  std::unique_ptr<http_client> http_;
  account owner_, admin_, member_;
  std::int64_t conv_ = 0;
};

// kind -> data of the events, in order.
std::vector<std::pair<std::string, json::object>> kinds_and_data(const std::vector<json::object>& frames) {
  std::vector<std::pair<std::string, json::object>> out;
  for (auto& f : frames) {
    auto& ev = jobj(f, "event");
    out.emplace_back(jstr(ev, "kind"), ev.contains("data") ? ev.at("data").as_object() : json::object{});
  }
  return out;
}

TEST_P(Moderation, ChangesReachASecondDeviceLiveAndAfterReconnect) {
  start();
  make_group();
  auto carol = register_user(*http_, "carol");
  http_->call("add_members", {{"conv", conv_}, {"users", json::array{carol.user_id}}}, owner_.token);
  auto phone = login(*http_, "owner", "phone");
  ws_client live(servers_[0]->port());
  const auto since = jint(live.hello(phone.token), "since");
  live.until_synced();

  const auto m1 = send(member_, "m1");
  live.events(1);
  http_->call("set_conversation", {{"conv", conv_}, {"title", "renamed"}, {"slow_mode_s", 5}, {"post_policy", "admins"}}, owner_.token);
  http_->call("pin", {{"conv", conv_}, {"seq", m1}}, admin_.token);
  http_->call("unpin", {{"conv", conv_}, {"seq", m1}}, admin_.token);
  const auto until = jint(http_->call("mute_member", {{"conv", conv_}, {"user_id", member_.user_id}, {"duration_s", 60}}, admin_.token), "until");
  http_->call("unmute_member", {{"conv", conv_}, {"user_id", member_.user_id}}, admin_.token);
  // Over WebSocket too.
  ws_client adm(servers_[0]->port());
  adm.hello(admin_.token);
  adm.call_ok("ban_member", {{"conv", conv_}, {"user_id", carol.user_id}});
  adm.call_ok("unban_member", {{"conv", conv_}, {"user_id", carol.user_id}});

  const std::vector<std::string> want = {"settings_changed", "pinned",        "unpinned",     "member_muted",
                                         "member_unmuted",   "member_banned", "member_unbanned"};
  auto got = kinds_and_data(live.events(want.size()));
  std::vector<std::string> kinds;
  for (auto& [k, d] : got) kinds.push_back(k);
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(got[0].second, (json::object{{"by", owner_.user_id}, {"title", "renamed"}, {"post_policy", "admins"}, {"slow_mode_s", 5}}));
  EXPECT_EQ(got[1].second, (json::object{{"target", m1}, {"by", admin_.user_id}}));
  EXPECT_EQ(got[3].second, (json::object{{"user", member_.user_id}, {"by", admin_.user_id}, {"until", until}}));
  EXPECT_EQ(got[5].second, (json::object{{"user", carol.user_id}, {"by", admin_.user_id}}));

  // A device that reconnects from before catches up with the same events, in the same order.
  live.close();
  ws_client again(servers_[0]->port());
  again.hello(phone.token, since);
  auto caught = kinds_and_data(again.until_synced());
  ASSERT_EQ(caught.size(), want.size() + 1);  // the message first
  caught.erase(caught.begin());
  EXPECT_EQ(caught, got);

  // The banned member got the ban, then nothing (carol's stream ends with member_banned).
  ws_client c(servers_[0]->port());
  c.hello(carol.token, 0);
  auto cs = c.until_synced();
  EXPECT_EQ(jstr(jobj(cs.back(), "event"), "kind"), "member_banned");

  // pins lists the pinned message with its content (pinned again, over WebSocket).
  adm.call_ok("pin", {{"conv", conv_}, {"seq", m1}});
  auto pins = adm.call_ok("pins", {{"conv", conv_}});
  ASSERT_EQ(jarr(pins, "pins").size(), 1u);
  auto& pin = jarr(pins, "pins").at(0).as_object();
  EXPECT_EQ(jint(pin, "seq"), m1);
  EXPECT_EQ(jint(pin, "by"), admin_.user_id);
  EXPECT_EQ(jstr(jobj(pin, "message"), "text"), "t m1");
  EXPECT_EQ(jint(jobj(pin, "message"), "sender"), member_.user_id);

  auto summary = http_->call("conversation", {{"conv", conv_}}, member_.token).as_object();
  EXPECT_EQ(jstr(summary, "title"), "renamed");
  EXPECT_EQ(jobj(summary, "settings"),
            (json::object{{"post_policy", "admins"}, {"pin_policy", "admins"}, {"slow_mode_s", 5}, {"wildcard_limit", 15}}));
}

TEST_P(Moderation, ConversationsReportSettingsDescriptionAndNotificationLevel) {
  start({"--wildcard-mention-limit", "7"});
  make_group();
  auto s0 = jarr(http_->call("conversations", {}, member_.token), "conversations").at(0).as_object();
  EXPECT_EQ(jstr(s0, "description"), "");
  EXPECT_EQ(jobj(s0, "settings"),
            (json::object{{"post_policy", "everyone"}, {"pin_policy", "admins"}, {"slow_mode_s", 0}, {"wildcard_limit", 7}}));
  EXPECT_EQ(jstr(s0, "notify"), "all");
  EXPECT_FALSE(s0.contains("muted_until"));
  EXPECT_FALSE(s0.contains("member_muted_until"));

  http_->call("set_conversation", {{"conv", conv_}, {"description", "we ship"}, {"wildcard_limit", 40}, {"pin_policy", "everyone"}},
              admin_.token);
  const std::int64_t until = 4102444800000;  // 2100
  auto n = http_->call("set_notify", {{"conv", conv_}, {"level", "mentions"}, {"muted_until", until}}, member_.token);
  EXPECT_EQ(n, (json::value{{"conv", conv_}, {"notify", "mentions"}, {"muted_until", until}}));
  auto mute = http_->call("mute_member", {{"conv", conv_}, {"user_id", member_.user_id}, {"duration_s", 600}}, owner_.token);
  auto s1 = http_->call("conversation", {{"conv", conv_}}, member_.token).as_object();
  EXPECT_EQ(jstr(s1, "description"), "we ship");
  EXPECT_EQ(jobj(s1, "settings"),
            (json::object{{"post_policy", "everyone"}, {"pin_policy", "everyone"}, {"slow_mode_s", 0}, {"wildcard_limit", 40}}));
  EXPECT_EQ(jstr(s1, "notify"), "mentions");
  EXPECT_EQ(jint(s1, "muted_until"), until);
  EXPECT_EQ(jint(s1, "member_muted_until"), jint(mute, "until"));
  // Per user: the owner's level is untouched.
  auto so = http_->call("conversation", {{"conv", conv_}}, owner_.token).as_object();
  EXPECT_EQ(jstr(so, "notify"), "all");
  EXPECT_FALSE(so.contains("member_muted_until"));
  // Clearing the mute: level only.
  http_->call("set_notify", {{"conv", conv_}, {"level", "none"}}, member_.token);
  auto s2 = jarr(http_->call("conversations", {}, member_.token), "conversations").at(0).as_object();
  EXPECT_EQ(jstr(s2, "notify"), "none");
  EXPECT_FALSE(s2.contains("muted_until"));
}

// Every new operation against every kind of caller that must be refused: the typed error, and
// nothing changed. Run over HTTP, then over WebSocket.
TEST_P(Moderation, AuthorizationTable) {
  start();
  make_group();
  auto admin2 = register_user(*http_, "admin2");
  auto victim = register_user(*http_, "vic");
  auto removed = register_user(*http_, "removed");
  auto banned = register_user(*http_, "banned");
  auto muted = register_user(*http_, "muted");  // an admin, muted by the owner
  auto stranger = register_user(*http_, "stranger");
  http_->call("add_members", {{"conv", conv_}, {"users", json::array{admin2.user_id, victim.user_id, removed.user_id, banned.user_id, muted.user_id}}},
              owner_.token);
  for (auto& a : {admin2, muted}) http_->call("set_role", {{"conv", conv_}, {"user_id", a.user_id}, {"role", "admin"}}, owner_.token);
  const auto pinned = send(owner_, "p");
  const auto loose = send(owner_, "u");
  http_->call("pin", {{"conv", conv_}, {"seq", pinned}}, owner_.token);
  http_->call("remove_member", {{"conv", conv_}, {"user_id", removed.user_id}}, owner_.token);
  http_->call("ban_member", {{"conv", conv_}, {"user_id", banned.user_id}}, owner_.token);
  const auto muted_own = send(muted, "mm");  // their own message, sent before the mute
  http_->call("mute_member", {{"conv", conv_}, {"user_id", muted.user_id}, {"duration_s", 3600}}, owner_.token);
  auto revoked = login(*http_, "mia", "old");
  http_->call("revoke_device", {{"device_id", revoked.device_id}}, member_.token);

  struct op {
    std::string name;
    json::object body;  // conv is added
  };
  const std::vector<op> ops = {
      {"set_conversation", {{"description", "x"}}},
      {"pin", {{"seq", loose}}},
      {"unpin", {{"seq", pinned}}},
      {"pins", {}},
      {"mute_member", {{"user_id", victim.user_id}, {"duration_s", 60}}},
      {"unmute_member", {{"user_id", muted.user_id}}},
      {"ban_member", {{"user_id", victim.user_id}}},
      {"unban_member", {{"user_id", banned.user_id}}},
      {"set_notify", {{"level", "none"}}},
      {"send", {{"client_id", "nope"}, {"text", "x"}}},
      // The other issue-11 operations: reactions, edits, deletes, threads.
      {"react", {{"seq", loose}, {"emoji", "👍"}}},
      {"unreact", {{"seq", loose}, {"emoji", "👍"}}},
      {"edit", {{"seq", loose}, {"text", "changed"}}},
      {"delete_message", {{"seq", loose}}},
      {"follow_thread", {{"root", loose}}},
      {"unfollow_thread", {{"root", loose}}},
      {"read_thread", {{"root", loose}, {"seq", loose}}},
      {"reply", {{"client_id", "nope-r"}, {"text", "x"}, {"thread_root", loose}}},
  };
  // Reads: a former (removed or banned) member may still read what came before their removal, so
  // only strangers and revoked devices are refused.
  const std::vector<op> reads = {
      {"edit_history", {{"seq", loose}}},
      {"thread", {{"root", loose}}},
  };
  struct row {
    const account* who;
    std::string op;
    std::string want;
    std::optional<json::object> body = std::nullopt;  // instead of the op's
  };
  std::vector<row> rows;
  for (auto& o : ops) {
    for (auto* who : {&stranger, &removed, &banned}) rows.push_back({who, o.name, "forbidden"});
    rows.push_back({&revoked, o.name, "unauthenticated"});
  }
  for (auto& o : reads) {
    rows.push_back({&stranger, o.name, "forbidden", o.body});
    rows.push_back({&revoked, o.name, "unauthenticated", o.body});
  }
  // A member edits and deletes only their own messages (this one is the owner's).
  for (auto name : {"edit", "delete_message"}) rows.push_back({&member_, name, "forbidden"});
  // A muted member neither reacts, edits (even their own) nor replies in a thread.
  rows.push_back({&muted, "react", "forbidden"});
  rows.push_back({&muted, "edit", "forbidden", json::object{{"seq", muted_own}, {"text", "changed"}}});
  rows.push_back({&muted, "reply", "forbidden"});
  // A member: no settings, pins (default policy: admins) or moderation.
  for (auto name : {"set_conversation", "pin", "unpin", "mute_member", "unmute_member", "ban_member", "unban_member"})
    rows.push_back({&member_, name, "forbidden"});
  // A muted admin: no posting or pinning; not themself.
  for (auto name : {"pin", "unpin", "send"}) rows.push_back({&muted, name, "forbidden"});
  rows.push_back({&muted, "unmute_member", "invalid_field"});
  // An admin: nobody of equal or higher rank.
  for (auto* target : {&owner_, &admin2}) {
    rows.push_back({&admin_, "mute_member", "forbidden", json::object{{"user_id", target->user_id}, {"duration_s", 60}}});
    rows.push_back({&admin_, "ban_member", "forbidden", json::object{{"user_id", target->user_id}}});
  }
  rows.push_back({&admin_, "unmute_member", "forbidden"});  // the muted one is an admin
  // The owner: not themself.
  rows.push_back({&owner_, "ban_member", "invalid_field", json::object{{"user_id", owner_.user_id}}});
  rows.push_back({&owner_, "mute_member", "invalid_field", json::object{{"user_id", owner_.user_id}, {"duration_s", 60}}});

  auto body_of = [&](const row& r) {
    json::object b = r.body ? *r.body : json::object{};
    if (!r.body)
      for (auto& o : ops)
        if (o.name == r.op) b = o.body;
    b["conv"] = conv_;
    return b;
  };
  // "reply" is a send with thread_root.
  auto op_of = [](const row& r) { return r.op == "reply" ? std::string("send") : r.op; };
  const auto pins_before = http_->call("pins", {{"conv", conv_}}, owner_.token);
  const auto members_before = http_->call("members", {{"conv", conv_}}, owner_.token);
  for (auto& r : rows) {
    SCOPED_TRACE("http " + r.who->username + " " + r.op);
    EXPECT_EQ(refused(op_of(r), body_of(r), *r.who), r.want);
  }
  // Over WebSocket (a revoked device cannot say hello at all).
  std::map<std::string, std::unique_ptr<ws_client>> ws;
  for (auto& r : rows) {
    SCOPED_TRACE("ws " + r.who->username + " " + r.op);
    if (r.who == &revoked) continue;
    auto& c = ws[r.who->username];
    if (!c) {
      c = std::make_unique<ws_client>(servers_[0]->port());
      c->hello(r.who->token);
    }
    const auto before = last_seq();
    auto reply = c->call(op_of(r), body_of(r));
    EXPECT_EQ(jstr(reply, "type"), "error");
    if (reply.contains("error")) {
      EXPECT_EQ(jstr(jobj(reply, "error"), "code"), r.want);
    }
    EXPECT_EQ(last_seq(), before);
  }
  {
    ws_client c(servers_[0]->port());
    auto id = c.send_op("hello", {{"token", revoked.token}});
    auto reply = c.reply(id);
    ASSERT_TRUE(reply);
    EXPECT_EQ(jstr(jobj(*reply, "error"), "code"), "unauthenticated");
  }
  // Nothing changed: pins, members, and the refused callers' notification levels.
  EXPECT_EQ(http_->call("pins", {{"conv", conv_}}, owner_.token), pins_before);
  EXPECT_EQ(http_->call("members", {{"conv", conv_}}, owner_.token), members_before);
  EXPECT_EQ(jstr(http_->call("conversation", {{"conv", conv_}}, member_.token), "notify"), "all");
  // ... and the message every refused change aimed at: its text, no reaction, not deleted.
  auto target = jarr(http_->call("history", {{"conv", conv_}, {"after", loose - 1}, {"limit", 1}}, owner_.token), "events").at(0).as_object();
  EXPECT_EQ(jstr(target, "text"), "t u");
  EXPECT_FALSE(target.contains("reactions") || target.contains("deleted") || target.contains("edited_ts") || target.contains("thread"));
  // The allowed side of the same table: a member reads pins and sets their level; admins moderate.
  EXPECT_EQ(jarr(http_->call("pins", {{"conv", conv_}}, member_.token), "pins").size(), 1u);
  http_->call("set_notify", {{"conv", conv_}, {"level", "mentions"}}, member_.token);
  http_->call("mute_member", {{"conv", conv_}, {"user_id", victim.user_id}, {"duration_s", 60}}, admin_.token);
  http_->call("ban_member", {{"conv", conv_}, {"user_id", victim.user_id}}, admin_.token);
  http_->call("unmute_member", {{"conv", conv_}, {"user_id", muted.user_id}}, owner_.token);
  http_->call("pin", {{"conv", conv_}, {"seq", loose}}, muted.token);  // unmuted now
}

TEST_P(Moderation, SlowModeViolationSaysHowLongToWait) {
  start();
  make_group();
  http_->call("set_conversation", {{"conv", conv_}, {"slow_mode_s", 1}}, owner_.token);
  send(member_, "m1");
  const auto before = last_seq();
  auto r = http_->post("send", {{"conv", conv_}, {"client_id", "m2"}, {"text", "x"}}, member_.token);
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.error_code(), "slow_mode");
  auto& err = jobj(r.json, "error");
  const auto wait = jint(err, "retry_after_ms");
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 1000);
  EXPECT_NE(jstr(err, "message").find("wait"), std::string::npos);
  EXPECT_FALSE(err.at("retryable").as_bool());
  EXPECT_EQ(last_seq(), before);
  // Over WebSocket too; admins are exempt.
  ws_client ws(servers_[0]->port());
  ws.hello(member_.token);
  auto e = ws.call("send", {{"conv", conv_}, {"client_id", "m3"}, {"text", "x"}});
  EXPECT_EQ(jstr(jobj(e, "error"), "code"), "slow_mode");
  EXPECT_GT(jint(jobj(e, "error"), "retry_after_ms"), 0);
  send(admin_, "a1");
  send(admin_, "a2");
  std::this_thread::sleep_for(std::chrono::milliseconds(jint(jobj(e, "error"), "retry_after_ms") + 20));
  EXPECT_EQ(jstr(ws.call("send", {{"conv", conv_}, {"client_id", "m3"}, {"text", "x"}}), "type"), "result");
}

TEST_P(Moderation, AnnouncementGroupRefusesMembersPosts) {
  start();
  make_group();
  http_->call("set_conversation", {{"conv", conv_}, {"post_policy", "admins"}}, owner_.token);
  EXPECT_EQ(refused("send", {{"client_id", "m"}, {"text", "x"}}, member_), "forbidden");
  send(admin_, "a");
  send(owner_, "o");
}

TEST_P(Moderation, PinBeyondFiftyIsRefused) {
  start();
  make_group();
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 51; ++i) seqs.push_back(send(owner_, "m" + std::to_string(i)));
  for (int i = 0; i < 50; ++i) http_->call("pin", {{"conv", conv_}, {"seq", seqs[i]}}, owner_.token);
  auto r = http_->post("pin", {{"conv", conv_}, {"seq", seqs[50]}}, owner_.token);
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.error_code(), "limit_reached");
  EXPECT_EQ(jarr(http_->call("pins", {{"conv", conv_}}, member_.token), "pins").size(), 50u);
}

TEST_P(Moderation, PinOfANonMessageOrUnknownSeqIsRefused) {
  start();
  make_group();
  const auto m = send(owner_, "m");
  EXPECT_EQ(refused("pin", {{"seq", 1}}, owner_), "invalid_field");       // "created"
  EXPECT_EQ(refused("pin", {{"seq", 0}}, owner_), "invalid_field");
  EXPECT_EQ(refused("pin", {{"seq", m + 100}}, owner_), "not_found");
  EXPECT_EQ(refused("pin", {{"seq", "1"}}, owner_), "invalid_field");
  EXPECT_EQ(refused("pin", {}, owner_), "missing_field");
  EXPECT_EQ(refused("unpin", {{"seq", m}}, owner_), "not_found");          // not pinned
  http_->call("pin", {{"conv", conv_}, {"seq", m}}, owner_.token);
  EXPECT_EQ(refused("pin", {{"seq", m}}, owner_), "conflict");             // already pinned
  EXPECT_EQ(error_of("pin", {{"conv", 999999}, {"seq", m}}, owner_.token), "not_found");
}

TEST_P(Moderation, BadSettingsValuesAreRefused) {
  start();
  make_group();
  EXPECT_EQ(refused("set_conversation", {{"post_policy", "mods"}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"pin_policy", 5}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"slow_mode_s", -1}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"slow_mode_s", 86401}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"slow_mode_s", 1.5}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"wildcard_limit", -3}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"title", ""}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"title", std::string(201, 't')}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {{"description", std::string(2001, 'd')}}, owner_), "invalid_field");
  EXPECT_EQ(refused("set_conversation", {}, owner_), "invalid_field");  // nothing to change
  EXPECT_EQ(error_of("set_conversation", {{"title", "x"}}, owner_.token), "missing_field");  // no conv
  auto s = http_->call("conversation", {{"conv", conv_}}, owner_.token).as_object();
  EXPECT_EQ(jstr(s, "title"), "team");
  EXPECT_EQ(jstr(jobj(s, "settings"), "post_policy"), "everyone");
}

TEST_P(Moderation, BadModerationAndNotifyInputIsRefused) {
  start();
  make_group();
  EXPECT_EQ(refused("mute_member", {{"user_id", member_.user_id}, {"duration_s", 0}}, owner_), "invalid_field");
  EXPECT_EQ(refused("mute_member", {{"user_id", member_.user_id}, {"duration_s", -5}}, owner_), "invalid_field");
  EXPECT_EQ(refused("mute_member", {{"user_id", member_.user_id}, {"duration_s", 366LL * 86400 + 1}}, owner_), "invalid_field");
  EXPECT_EQ(refused("mute_member", {{"user_id", member_.user_id}}, owner_), "missing_field");
  EXPECT_EQ(refused("mute_member", {{"user_id", 999999}, {"duration_s", 5}}, owner_), "not_found");
  EXPECT_EQ(refused("ban_member", {{"user_id", 999999}}, owner_), "not_found");
  EXPECT_EQ(refused("unmute_member", {{"user_id", member_.user_id}}, owner_), "not_found");  // not muted
  EXPECT_EQ(refused("unban_member", {{"user_id", member_.user_id}}, owner_), "not_found");   // not banned
  http_->call("ban_member", {{"conv", conv_}, {"user_id", member_.user_id}}, owner_.token);
  EXPECT_EQ(refused("ban_member", {{"user_id", member_.user_id}}, owner_), "conflict");      // already banned
  auto d = jint(http_->call("create_direct", {{"user_id", admin_.user_id}}, owner_.token), "conv");
  EXPECT_EQ(error_of("mute_member", {{"conv", d}, {"user_id", admin_.user_id}, {"duration_s", 5}}, owner_.token), "forbidden");
  EXPECT_EQ(error_of("set_conversation", {{"conv", d}, {"title", "x"}}, owner_.token), "forbidden");
  EXPECT_EQ(error_of("set_notify", {{"conv", conv_}, {"level", "loud"}}, owner_.token), "invalid_field");
  EXPECT_EQ(error_of("set_notify", {{"conv", conv_}}, owner_.token), "missing_field");
  EXPECT_EQ(error_of("set_notify", {{"conv", conv_}, {"level", "all"}, {"muted_until", -1}}, owner_.token), "invalid_field");
  EXPECT_EQ(error_of("set_notify", {{"conv", 999999}, {"level", "all"}}, owner_.token), "not_found");
  EXPECT_EQ(jstr(http_->call("conversation", {{"conv", conv_}}, owner_.token), "notify"), "all");
}

TEST_P(Moderation, AdminCannotMuteTheOwnerAndMuteStopsPosting) {
  start();
  make_group();
  EXPECT_EQ(refused("mute_member", {{"user_id", owner_.user_id}, {"duration_s", 60}}, admin_), "forbidden");
  http_->call("mute_member", {{"conv", conv_}, {"user_id", member_.user_id}, {"duration_s", 60}}, admin_.token);
  auto r = http_->post("send", {{"conv", conv_}, {"client_id", "m"}, {"text", "x"}}, member_.token);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_NE(r.body.find("muted"), std::string::npos);
  http_->call("unmute_member", {{"conv", conv_}, {"user_id", member_.user_id}}, admin_.token);
  send(member_, "m");
}

// A mute stops every way of adding content: replies, edits, reactions and pins; deleting one's own
// message stays allowed (taking content down is never refused by a mute).
TEST_P(Moderation, MutedMemberCannotReplyEditOrReactButMayDelete) {
  start();
  make_group();
  const auto mine = send(member_, "before"), other = send(owner_, "root");
  http_->call("mute_member", {{"conv", conv_}, {"user_id", member_.user_id}, {"duration_s", 60}}, admin_.token);
  EXPECT_EQ(refused("send", {{"client_id", "r"}, {"text", "reply"}, {"thread_root", other}}, member_), "forbidden");
  EXPECT_EQ(refused("edit", {{"seq", mine}, {"text", "changed"}}, member_), "forbidden");
  EXPECT_EQ(refused("react", {{"seq", other}, {"emoji", "👍"}}, member_), "forbidden");
  EXPECT_EQ(refused("pin", {{"seq", other}}, member_), "forbidden");
  const auto before = last_seq();
  http_->call("delete_message", {{"conv", conv_}, {"seq", mine}}, member_.token);
  EXPECT_EQ(last_seq(), before + 1) << "the delete was appended";
  http_->call("unmute_member", {{"conv", conv_}, {"user_id", member_.user_id}}, admin_.token);
  http_->call("react", {{"conv", conv_}, {"seq", other}, {"emoji", "👍"}}, member_.token);
}

TEST_P(Moderation, ReAddingABannedUserIsRefusedUntilUnbanned) {
  start();
  make_group();
  auto other = register_user(*http_, "other");
  http_->call("ban_member", {{"conv", conv_}, {"user_id", member_.user_id}}, admin_.token);
  auto members = jarr(http_->call("members", {{"conv", conv_}}, owner_.token), "members");
  for (auto& m : members) EXPECT_NE(jint(m, "user_id"), member_.user_id);
  auto r = http_->post("add_members", {{"conv", conv_}, {"users", json::array{other.user_id, member_.user_id}}}, owner_.token);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_NE(r.body.find(std::to_string(member_.user_id)), std::string::npos);
  EXPECT_EQ(jarr(http_->call("members", {{"conv", conv_}}, owner_.token), "members").size(), members.size());  // other not added
  EXPECT_EQ(error_of("conversation", {{"conv", conv_}}, member_.token), "forbidden");
  http_->call("unban_member", {{"conv", conv_}, {"user_id", member_.user_id}}, owner_.token);
  http_->call("add_members", {{"conv", conv_}, {"users", json::array{member_.user_id}}}, owner_.token);
  send(member_, "back");
}

// Two nodes on one database: slow mode is checked in the send's transaction under the
// conversation's lock, so a member's sends through either node are judged in one order.
TEST_P(Moderation, SlowModeHoldsAcrossTwoNodes) {
  start();
  auto& second = start();
  make_group();
  http_client http2(second.port());
  http_->call("set_conversation", {{"conv", conv_}, {"slow_mode_s", 60}}, owner_.token);
  send(member_, "first");
  auto r = http2.post("send", {{"conv", conv_}, {"client_id", "second"}, {"text", "x"}}, member_.token);
  EXPECT_EQ(r.error_code(), "slow_mode");
  // Racing: a member who has not posted yet sends through both nodes at once; exactly one send
  // is accepted, every other one is told to wait.
  auto racer = register_user(*http_, "racer");
  http_->call("add_members", {{"conv", conv_}, {"users", json::array{racer.user_id}}}, owner_.token);
  std::atomic<int> accepted{0}, slowed{0}, other{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] {
      const http_client& h = i % 2 ? http2 : *http_;
      auto res = h.post("send", {{"conv", conv_}, {"client_id", "race" + std::to_string(i)}, {"text", "x"}}, racer.token);
      if (res.status == 200) ++accepted;
      else if (res.error_code() == "slow_mode") ++slowed;
      else ++other;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(slowed.load(), 7);
  EXPECT_EQ(other.load(), 0);
}

// Two nodes on one PostgreSQL with Redis between them: moderation events reach a device on the
// other node live, and a ban ends the banned member's live feed there (a ban is a removal).
class ModerationCluster : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("confab-moderation-cluster-"); }
  void TearDown() override {
    for (auto& s : nodes_) s->stop();
    if (HasFailure())
      for (auto& s : nodes_) std::cerr << "---- node log (last lines)\n" << tail_file(s->log_path(), 30);
    nodes_.clear();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<server_process>> nodes_;
};

TEST_F(ModerationCluster, EventsReachAnotherNodeLiveAndABanEndsTheFeed) {
  pg_database pg;
  redis_server redis(dir_);
  for (int i = 0; i < 2; ++i) {
    auto dir = dir_ / ("node" + std::to_string(i));
    std::filesystem::create_directories(dir);
    nodes_.push_back(std::make_unique<server_process>(dir));
    nodes_.back()->start({"--storage", "postgres", "--pg-dsn", pg.dsn(), "--broker", "redis", "--redis", redis.address(),
                          "--argon2-ops", "1", "--argon2-mem-kib", "8"});
  }
  http_client h1(nodes_[0]->port());
  auto owner = register_user(h1, "owner");
  auto mia = register_user(h1, "mia");
  auto conv = jint(h1.call("create_group", {{"title", "t"}, {"members", json::array{mia.user_id}}}, owner.token), "conv");
  // Both on node 2.
  ws_client o2(nodes_[1]->port()), m2(nodes_[1]->port());
  o2.hello(owner.token);
  o2.until_synced();
  m2.hello(mia.token);
  m2.until_synced();
  // Changes made through node 1 arrive live on node 2.
  h1.call("set_conversation", {{"conv", conv}, {"slow_mode_s", 30}}, owner.token);
  h1.call("mute_member", {{"conv", conv}, {"user_id", mia.user_id}, {"duration_s", 60}}, owner.token);
  h1.call("ban_member", {{"conv", conv}, {"user_id", mia.user_id}}, owner.token);
  for (auto* c : {&o2, &m2}) {
    auto evs = kinds_and_data(c->events(3));
    EXPECT_EQ(evs[0].first, "settings_changed");
    EXPECT_EQ(evs[1].first, "member_muted");
    EXPECT_EQ(evs[2].first, "member_banned");
    EXPECT_EQ(evs[2].second, (json::object{{"user", mia.user_id}, {"by", owner.user_id}}));
  }
  // After the ban, mia's session gets nothing more from the conversation; the owner's does.
  h1.call("send", {{"conv", conv}, {"client_id", "after"}, {"text", "x"}}, owner.token);
  EXPECT_EQ(jstr(jobj(o2.next_event(), "event"), "client_id"), "after");
  EXPECT_TRUE(m2.drain_events(500ms).empty());
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& i) { return i.param; }
INSTANTIATE_TEST_SUITE_P(Backends, Moderation, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
