// End-to-end tests of channels (issue 12, docs/protocol.md sections 6.4 and 10 "Channels"): the
// operations over HTTP and WebSocket with their typed refusals; live channel_event frames; a
// device that follows the documented algorithm (a cursor per channel, fills from history,
// channel_heads at every synced) resuming after being offline across hundreds of messages in a
// dozen channels, with joins and leaves meanwhile; and three nodes over PostgreSQL and a real
// Redis, senders on every node and devices moving between nodes: at every device, every
// channel's events exactly once and in order. Both backends where one node suffices.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

namespace e2e {
namespace {

const std::vector<std::string> fast_flags = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--rate-per-sec", "100000",
                                             "--rate-burst", "100000"};

// A device that follows docs/protocol.md section 10 for the stream and for channels. It records,
// per channel, every seq it applied (in order), so a test can check for gaps, repeats and order.
class device {
 public:
  // A fresh device replays its whole stream (hello with since 0), which tracks every channel it
  // is in from its join.
  device(unsigned short port, account who) : who_(std::move(who)) { connect(port); }

  // (Re)connects to port with the stored pos, applies the stream catch-up and resumes channels.
  void connect(unsigned short port) {
    ws_ = std::make_unique<ws_client>(port);
    ws_->hello(who_.token, pos_);
    pump_until_synced();
  }
  void disconnect() { ws_->close(); }

  // Handles every frame that arrives within d.
  void pump(std::chrono::milliseconds d) {
    const auto end = steady::now() + d;
    while (steady::now() < end) {
      auto f = ws_->next("", std::chrono::duration_cast<std::chrono::milliseconds>(end - steady::now()));
      if (!f) break;
      handle(*f);
    }
  }
  // Handles frames until every tracked channel's cursor reached its target (bounded).
  bool pump_until(const std::map<std::int64_t, std::int64_t>& target, std::chrono::milliseconds timeout = 20s) {
    const auto end = steady::now() + timeout;
    for (;;) {
      bool done = true;
      for (auto& [conv, seq] : target)
        if (!cursor_.contains(conv) || cursor_.at(conv) < seq) done = false;
      if (done) return true;
      if (steady::now() >= end) return false;
      // Only frames drive it (no timer asks for the heads): a lost frame must be made good by the
      // server's synced, as the protocol promises.
      if (auto f = ws_->next("", 200ms)) handle(*f);
    }
  }

  const std::map<std::int64_t, std::vector<std::int64_t>>& applied() const { return applied_; }
  const std::map<std::int64_t, std::int64_t>& cursors() const { return cursor_; }
  std::int64_t start_of(std::int64_t conv) const { return start_.at(conv); }
  int history_calls = 0, heads_calls = 0, channel_frames = 0, stream_events = 0;
  ws_client& ws() { return *ws_; }

 private:
  void pump_until_synced() {
    for (;;) {
      auto f = ws_->next("", 10s);
      if (!f) throw std::runtime_error("no synced after hello");
      const bool synced = jstr(*f, "type") == "synced";
      handle(*f);
      if (synced) return;
    }
  }

  void handle(const json::object& f) {
    const auto type = jstr(f, "type");
    if (type == "event") {
      ++stream_events;
      const auto pos = jint(f, "pos");
      if (pos <= pos_) return;
      apply_stream(jobj(f, "event"));
      pos_ = pos;
    } else if (type == "channel_event") {
      ++channel_frames;
      on_channel_frame(jint(f, "conv"), jint(f, "seq"), jobj(f, "event"));
    } else if (type == "synced") {
      resume();
    }
  }

  bool is_channel(std::int64_t conv) {
    if (auto k = kinds_.find(conv); k != kinds_.end()) return k->second;
    auto r = ws_->call("conversation", {{"conv", conv}});
    if (jstr(r, "type") != "result") return false;  // left already: the stream says so next
    const bool ch = jstr(jobj(r, "data"), "kind") == "channel";
    kinds_[conv] = ch;
    return ch;
  }

  static bool has(const json::array& a, std::int64_t id) {
    for (auto& v : a)
      if (v.as_int64() == id) return true;
    return false;
  }

  void apply_stream(const json::object& ev) {
    const auto conv = jint(ev, "conv"), seq = jint(ev, "seq");
    const auto kind = jstr(ev, "kind");
    if (kind == "created" && jstr(jobj(ev, "data"), "kind") == "channel") {
      kinds_[conv] = true;
      track(conv, seq);
    } else if (kind == "members_added" && has(jarr(jobj(ev, "data"), "users"), who_.user_id) && is_channel(conv)) {
      track(conv, seq);
    } else if ((kind == "member_removed" || kind == "member_left" || kind == "member_banned") &&
               jint(jobj(ev, "data"), "user") == who_.user_id && cursor_.contains(conv)) {
      fill(conv);  // what came before the removal, then stop tracking
      cursor_.erase(conv);
    } else if (cursor_.contains(conv)) {
      throw std::runtime_error("a channel event in the stream: " + dump(ev));
    }
  }

  void track(std::int64_t conv, std::int64_t seq) {
    if (cursor_.contains(conv)) return;
    cursor_[conv] = seq;
    if (!start_.contains(conv)) start_[conv] = seq;
    applied_[conv].push_back(seq);  // the membership event itself, from the stream
    fill(conv);
  }

  void apply_channel(std::int64_t conv, std::int64_t seq) {
    applied_[conv].push_back(seq);
    cursor_[conv] = seq;
  }

  void on_channel_frame(std::int64_t conv, std::int64_t seq, const json::object& ev) {
    if (jint(ev, "seq") != seq || jint(ev, "conv") != conv) throw std::runtime_error("channel_event frame disagrees with its event");
    auto c = cursor_.find(conv);
    if (c == cursor_.end() || seq <= c->second) return;
    if (seq == c->second + 1) apply_channel(conv, seq);
    else fill(conv);
  }

  void fill(std::int64_t conv) {
    for (;;) {
      ++history_calls;
      auto r = ws_->call("history", {{"conv", conv}, {"after", cursor_.at(conv)}, {"limit", 100}});
      if (jstr(r, "type") != "result") {
        const auto code = jstr(jobj(r, "error"), "code");
        if (code == "forbidden" || code == "not_found") return;
        throw std::runtime_error("history failed: " + dump(r));
      }
      const auto& data = jobj(r, "data");
      for (auto& e : jarr(data, "events")) {
        const auto s = jint(e, "seq");
        if (s <= cursor_.at(conv)) continue;
        if (s != cursor_.at(conv) + 1) throw std::runtime_error("history skipped a seq");
        apply_channel(conv, s);
      }
      if (!data.at("has_more").as_bool()) return;
    }
  }

  void resume() {
    std::optional<std::int64_t> after;
    for (;;) {
      ++heads_calls;
      json::object q{{"limit", 1000}};
      if (after) q["after_conv"] = *after;
      auto page = ws_->call_ok("channel_heads", q);
      for (auto& h : jarr(page, "heads")) {
        const auto conv = jint(h, "conv");
        if (cursor_.contains(conv) && jint(h, "last_seq") > cursor_.at(conv)) fill(conv);
      }
      if (page.at("next").is_null()) return;
      after = jint(jobj(page, "next"), "after_conv");
    }
  }

  account who_;
  std::unique_ptr<ws_client> ws_;
  std::int64_t pos_ = 0;
  std::map<std::int64_t, std::int64_t> cursor_, start_;
  std::map<std::int64_t, bool> kinds_;
  std::map<std::int64_t, std::vector<std::int64_t>> applied_;
};

// Every channel the device tracked: applied exactly start, start+1, ..., last (no gap, no repeat,
// in order). ends: conv -> the last seq the device must have.
void expect_exact(const device& d, const std::map<std::int64_t, std::int64_t>& ends, const std::string& who) {
  for (auto& [conv, last] : ends) {
    auto it = d.applied().find(conv);
    ASSERT_NE(it, d.applied().end()) << who << " never tracked channel " << conv;
    const auto start = d.start_of(conv);
    std::vector<std::int64_t> want;
    for (auto s = start; s <= last; ++s) want.push_back(s);
    EXPECT_EQ(it->second, want) << who << " channel " << conv;
  }
}

class Channels : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-channels-");
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
    args.insert(args.end(), fast_flags.begin(), fast_flags.end());
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(args);
    http_ = std::make_unique<http_client>(srv_->port());
    owner_ = register_user(*http_, "owner");
    ana_ = register_user(*http_, "ana");
    ben_ = register_user(*http_, "ben");
  }
  void TearDown() override {
    if (srv_) srv_->stop();
    if (HasFailure() && srv_) std::cerr << "---- server log (last lines)\n" << tail_file(srv_->log_path(), 30);
    srv_.reset();
    pg_.reset();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::int64_t create(const std::string& title, const std::string& vis, const std::string& topic = "") {
    json::object b{{"title", title}, {"visibility", vis}};
    if (!topic.empty()) b["topic"] = topic;
    return jint(http_->call("create_channel", b, owner_.token), "conv");
  }
  std::int64_t send(const account& a, std::int64_t conv, const std::string& text = "hi") {
    return jint(http_->call("send", {{"conv", conv}, {"client_id", "c" + std::to_string(++cid_)}, {"text", text}}, a.token), "seq");
  }
  std::string error_of(std::string_view op, const json::object& body, const account& a) const {
    return http_->post(op, body, a.token).error_code();
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
  account owner_, ana_, ben_;
  int cid_ = 0;
};

TEST_P(Channels, CreateBrowseJoinSendLeaveWithLiveFrames) {
  const auto general = create("General", "public", "everything");
  const auto secret = create("Secret", "private");
  create("devops", "public", "CI and deploys");

  // The directory: public only, by title; search by topic; pages with next.
  auto dir = http_->call("channels", {}, ana_.token);
  ASSERT_EQ(jarr(dir, "channels").size(), 2u);
  EXPECT_EQ(jstr(jarr(dir, "channels")[0], "title"), "General");
  EXPECT_EQ(jint(jarr(dir, "channels")[0], "member_count"), 1);
  EXPECT_FALSE(jarr(dir, "channels")[0].at("joined").as_bool());
  EXPECT_TRUE(dir.at("next").is_null());
  auto found = http_->call("channels", {{"query", "DEPLOY"}}, ana_.token);
  ASSERT_EQ(jarr(found, "channels").size(), 1u);
  EXPECT_EQ(jstr(jarr(found, "channels")[0], "title"), "devops");
  auto p1 = http_->call("channels", {{"limit", 1}}, ana_.token);
  ASSERT_EQ(jarr(p1, "channels").size(), 1u);
  auto p2 = http_->call("channels", {{"limit", 1}, {"after_title", jstr(jobj(p1, "next"), "after_title")},
                                      {"after_conv", jint(jobj(p1, "next"), "after_conv")}}, ana_.token);
  EXPECT_EQ(jstr(jarr(p2, "channels")[0], "title"), "devops");

  // ana's device is live; she joins over WebSocket: the join reaches her stream, with a pos.
  ws_client a(srv_->port());
  a.hello(ana_.token);
  a.until_synced();
  auto joined = a.call_ok("join_channel", {{"conv", general}});
  EXPECT_EQ(jint(joined, "seq"), 2);
  auto ev = a.next_event();
  EXPECT_EQ(jstr(jobj(ev, "event"), "kind"), "members_added");
  // The join subscribed this node to the channel, so the session refills once and says synced
  // (until then it drops channel frames: a client reads channel_heads at that synced).
  ASSERT_TRUE(a.next("synced"));
  // A message: one channel_event frame with conv and seq, no stream event. (The join's own frame,
  // seq 2, may come first.)
  const auto s = send(owner_, general, "hello channel");
  auto f = a.next("channel_event");
  if (f && jint(*f, "seq") < s) f = a.next("channel_event");
  ASSERT_TRUE(f);
  EXPECT_EQ(jint(*f, "conv"), general);
  EXPECT_EQ(jint(*f, "seq"), s);
  EXPECT_FALSE(f->contains("pos"));
  EXPECT_EQ(jstr(jobj(*f, "event"), "text"), "hello channel");
  EXPECT_TRUE(a.drain_events(300ms).empty()) << "a channel message is not a stream event";
  // The summary: kind, channel fields, unread.
  auto sum = a.call_ok("conversation", {{"conv", general}});
  EXPECT_EQ(jstr(sum, "kind"), "channel");
  EXPECT_EQ(jint(jobj(sum, "channel"), "member_count"), 2);
  EXPECT_EQ(jstr(jobj(sum, "channel"), "visibility"), "public");
  EXPECT_EQ(jint(sum, "unread"), 1);
  // Heads; the member list by pages.
  auto heads = a.call_ok("channel_heads");
  ASSERT_EQ(jarr(heads, "heads").size(), 1u);
  EXPECT_EQ(jint(jarr(heads, "heads")[0], "last_seq"), s);
  auto mem = a.call_ok("channel_members", {{"conv", general}, {"limit", 1}});
  EXPECT_EQ(jint(mem, "member_count"), 2);
  ASSERT_EQ(jarr(mem, "members").size(), 1u);
  auto mem2 = a.call_ok("channel_members", {{"conv", general}, {"after_user", jint(jobj(mem, "next"), "after_user")}});
  ASSERT_EQ(jarr(mem2, "members").size(), 1u);
  EXPECT_TRUE(mem2.at("next").is_null());

  // Private: hidden and refused to strangers; invited by the owner.
  EXPECT_EQ(error_of("join_channel", {{"conv", secret}}, ben_), "not_found");
  EXPECT_EQ(error_of("channel", {{"conv", secret}}, ben_), "not_found");
  http_->call("add_members", {{"conv", secret}, {"users", json::array{ben_.user_id}}}, owner_.token);
  EXPECT_EQ(jstr(http_->call("channel", {{"conv", secret}}, ben_.token), "visibility"), "private");

  // Leave: the leave reaches the stream, then no more frames of the channel.
  a.call_ok("leave", {{"conv", general}});
  EXPECT_EQ(jstr(jobj(a.next_event(), "event"), "kind"), "member_left");
  send(owner_, general, "after");
  EXPECT_FALSE(a.next("channel_event", 500ms)) << "no frames after leaving";
}

TEST_P(Channels, EveryBadInputGetsItsTypedError) {
  const auto general = create("General", "public");
  const auto group = jint(http_->call("create_group", {{"title", "g"}, {"members", json::array{}}}, owner_.token), "conv");
  struct row {
    const char* op;
    json::object body;
    const char* code;
  };
  const std::string long_title(201, 't'), long_topic(501, 'x'), long_query(101, 'q');
  const std::vector<row> rows = {
      {"create_channel", {{"visibility", "public"}}, "missing_field"},
      {"create_channel", {{"title", "t"}}, "missing_field"},
      {"create_channel", {{"title", ""}, {"visibility", "public"}}, "invalid_field"},
      {"create_channel", {{"title", long_title}, {"visibility", "public"}}, "invalid_field"},
      {"create_channel", {{"title", "t"}, {"visibility", "open"}}, "invalid_field"},
      {"create_channel", {{"title", "t"}, {"visibility", 1}}, "invalid_field"},
      {"create_channel", {{"title", "t"}, {"visibility", "public"}, {"topic", long_topic}}, "invalid_field"},
      {"channels", {{"limit", 0}}, "invalid_field"},
      {"channels", {{"limit", 101}}, "invalid_field"},
      {"channels", {{"query", ""}}, "invalid_field"},
      {"channels", {{"query", long_query}}, "invalid_field"},
      {"channels", {{"after_title", "a"}}, "invalid_field"},
      {"channels", {{"after_conv", 3}}, "invalid_field"},
      {"channel", {}, "missing_field"},
      {"channel", {{"conv", "x"}}, "invalid_field"},
      {"channel", {{"conv", 99999}}, "not_found"},
      {"channel", {{"conv", group}}, "not_found"},
      {"join_channel", {{"conv", 99999}}, "not_found"},
      {"join_channel", {{"conv", group}}, "not_found"},
      {"join_channel", {{"conv", general}}, "conflict"},
      {"channel_heads", {{"limit", 1001}}, "invalid_field"},
      {"channel_heads", {{"limit", 0}}, "invalid_field"},
      {"channel_heads", {{"after_conv", "x"}}, "invalid_field"},
      {"channel_members", {}, "missing_field"},
      {"channel_members", {{"conv", general}, {"limit", 101}}, "invalid_field"},
      {"channel_members", {{"conv", group}}, "not_found"},
      {"members", {{"conv", general}}, "invalid_field"},
      {"receipts", {{"conv", general}}, "invalid_field"},
  };
  for (auto& r : rows) EXPECT_EQ(error_of(r.op, r.body, owner_), r.code) << r.op << " " << dump(r.body);
  EXPECT_EQ(error_of("channel_members", {{"conv", general}}, ana_), "forbidden") << "not a member";
  EXPECT_EQ(error_of("send", {{"conv", general}, {"client_id", "x"}, {"text", "x"}}, ana_), "forbidden");
  http_->call("ban_member", {{"conv", general}, {"user_id", ben_.user_id}}, owner_.token);
  EXPECT_EQ(error_of("join_channel", {{"conv", general}}, ben_), "forbidden") << "banned";
}

// A device in 30 channels goes offline; 360 messages arrive in 12 of them, it is removed from one
// and added to a new one meanwhile; it reconnects with its pos and cursors: one channel_heads
// call, fills only for the channels that moved, every event once and in order.
TEST_P(Channels, ResumeAfterBeingOfflineFetchesOnlyTheChannelsThatMoved) {
  std::vector<std::int64_t> chans;
  for (int i = 0; i < 30; ++i) {
    chans.push_back(create("ch" + std::to_string(i), "public"));
    http_->call("join_channel", {{"conv", chans.back()}}, ana_.token);
    send(owner_, chans.back());
  }
  device d(srv_->port(), ana_);
  std::map<std::int64_t, std::int64_t> ends;
  for (auto c : chans) ends[c] = 3;
  ASSERT_TRUE(d.pump_until(ends));
  d.disconnect();
  const int calls_before = d.history_calls;

  for (int k = 0; k < 360; ++k) {
    const auto c = chans[(k % 12) * 2];
    ends[c] = send(owner_, c, "m" + std::to_string(k));
  }
  const auto extra = create("late", "private");
  send(owner_, extra, "before ana");
  ends[extra] = jint(http_->call("add_members", {{"conv", extra}, {"users", json::array{ana_.user_id}}}, owner_.token), "seq");
  for (int k = 0; k < 5; ++k) ends[extra] = send(owner_, extra);
  const auto gone = chans[1];
  http_->call("remove_member", {{"conv", gone}, {"user_id", ana_.user_id}}, owner_.token);
  ends.erase(gone);

  d.connect(srv_->port());
  ASSERT_TRUE(d.pump_until(ends));
  expect_exact(d, ends, "ana");
  EXPECT_FALSE(d.cursors().contains(gone)) << "the removal stopped the tracking";
  EXPECT_EQ(d.heads_calls, 2) << "one heads page per synced (the first connection's and this one's)";
  // The 12 channels that moved (each 30 missed: one page), the new one, and the removed one's
  // last read: no history call for the 17 channels that did not move.
  EXPECT_EQ(d.history_calls - calls_before, 12 + 1 + 1);

  // Live again: a message in each of three channels arrives as a frame and is applied.
  for (int i = 0; i < 3; ++i) ends[chans[3 + i * 2]] = send(owner_, chans[3 + i * 2]);
  ASSERT_TRUE(d.pump_until(ends));
  expect_exact(d, ends, "ana");
}

// Many small sends from two writers while a device joins and leaves and reconnects: the device's
// view of each membership span is exact.
TEST_P(Channels, JoinAndLeaveRaceWithSends) {
  const auto c = create("race", "public");
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread writer([&] {
    http_client h(srv_->port());
    for (int i = 0; !stop && i < 400; ++i) {
      h.call("send", {{"conv", c}, {"client_id", "w" + std::to_string(i)}, {"text", "x"}}, owner_.token);
      ++sent;
    }
  });
  device d(srv_->port(), ana_);
  for (int round = 0; round < 5; ++round) {
    d.ws().call_ok("join_channel", {{"conv", c}});
    d.pump(150ms);
    d.ws().call_ok("leave", {{"conv", c}});
    d.pump(50ms);
  }
  stop = true;
  writer.join();
  d.pump(500ms);
  // Each join span: from the join seq to the leave seq, consecutive, no repeats.
  auto h = http_->call("history", {{"conv", c}, {"after", 0}, {"limit", 100}}, owner_.token);
  ASSERT_TRUE(d.applied().contains(c));
  const auto& got = d.applied().at(c);
  std::set<std::int64_t> uniq(got.begin(), got.end());
  EXPECT_EQ(uniq.size(), got.size()) << "no event applied twice";
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << "in order";
  EXPECT_GT(sent.load(), 0);
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& i) { return i.param; }
INSTANTIATE_TEST_SUITE_P(Backends, Channels, ::testing::Values("sqlite", "postgres"), backend_name);

// Three nodes on one PostgreSQL and a real Redis, four channels of 20 015 members (20 000 made by
// SQL): senders on every node, twelve devices spread over the nodes, one of them moving to
// another node mid-stream, a node killed mid-stream (its senders retry elsewhere with the same
// client ids, its devices reconnect elsewhere), and Redis killed mid-stream and
// restarted after the last message: every device has every event of each of its channels exactly
// once, in order. (In the runs so far the nodes' retried publishes carried the outage's events
// once Redis was back, so the devices did not need channel_heads here; ResumeAfterBeingOffline
// is the test that fails without it.)
class ChannelsCluster : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("confab-channels-cluster-"); }
  void TearDown() override {
    for (auto& n : nodes_) n->stop();
    if (HasFailure())
      for (auto& n : nodes_) std::cerr << "---- " << n->log_path().string() << "\n" << tail_file(n->log_path(), 20);
    nodes_.clear();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<server_process>> nodes_;
};

TEST_F(ChannelsCluster, ThreeNodesLiveDeliveryAndResumeLoseNothing) {
  pg_database pg;
  // A standalone redis-server on a fixed port, so that it can be restarted where the nodes look.
  const auto redis_port = free_port();
  child_process redis;
  auto start_redis = [&] {
    redis.start({"redis-server", "--port", std::to_string(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", dir_.string(), "--protected-mode", "no"},
                dir_ / "redis.log");
    if (!wait_tcp(redis_port)) throw std::runtime_error("redis-server did not start: " + tail_file(dir_ / "redis.log", 20));
  };
  start_redis();
  const std::string redis_addr = "127.0.0.1:" + std::to_string(redis_port);
  for (int i = 0; i < 3; ++i) {
    auto dir = dir_ / ("node" + std::to_string(i));
    std::filesystem::create_directories(dir);
    nodes_.push_back(std::make_unique<server_process>(dir));
    std::vector<std::string> args{"--storage", "postgres", "--pg-dsn", pg.dsn(), "--broker", "redis", "--redis", redis_addr};
    args.insert(args.end(), fast_flags.begin(), fast_flags.end());
    nodes_.back()->start(args);
  }
  http_client h0(nodes_[0]->port());
  std::vector<account> senders, readers;
  for (int i = 0; i < 3; ++i) senders.push_back(register_user(h0, "sender" + std::to_string(i)));
  for (int i = 0; i < 12; ++i) readers.push_back(register_user(h0, "reader" + std::to_string(i)));
  std::vector<std::int64_t> chans;
  for (int i = 0; i < 4; ++i) {
    chans.push_back(jint(h0.call("create_channel", {{"title", "c" + std::to_string(i)}, {"visibility", "public"}}, senders[0].token), "conv"));
    for (auto& a : senders) if (&a != &senders[0]) h0.call("join_channel", {{"conv", chans.back()}}, a.token);
    for (auto& a : readers) h0.call("join_channel", {{"conv", chans.back()}}, a.token);
  }
  // 20 000 more members in each channel, made by SQL (offline: they cost the live path nothing,
  // and a message still writes one row).
  {
    PGconn* c = PQconnectdb(pg.dsn().c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    std::string sql = "INSERT INTO users (username, password_hash, created_ms) SELECT 'bulk' || i, 'x', 0 FROM generate_series(1, 20000) i;";
    for (auto ch : chans)
      sql += "INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(ch) +
             ", id, 'member', 1 FROM users WHERE username LIKE 'bulk%';";
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string err = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    ASSERT_TRUE(ok) << err;
  }
  EXPECT_EQ(jint(h0.call("channel", {{"conv", chans[0]}}, readers[0].token), "member_count"), 20000 + 3 + 12);
  std::vector<std::unique_ptr<device>> devs;
  for (std::size_t i = 0; i < readers.size(); ++i) devs.push_back(std::make_unique<device>(nodes_[i % 3]->port(), readers[i]));

  // Senders on all three nodes at once.
  // Senders on all three nodes at once. A send that fails (its node was killed) is retried on
  // node 0 with the same client_id: the message exists once whatever happened to the first try.
  std::atomic<int> failed_sends{0}, duplicates{0};
  auto blast = [&](int from, int n) {
    std::vector<std::thread> ts;
    for (int s = 0; s < 3; ++s)
      ts.emplace_back([&, s, from, n] {  // from and n by value: the threads outlive this call
        int node = s;
        for (int k = from; k < from + n; ++k) {
          const json::object body{{"conv", chans[static_cast<std::size_t>(k) % chans.size()]}, {"client_id", "s" + std::to_string(k)},
                                  {"text", "x"}};
          for (int attempt = 0;; ++attempt) {
            try {
              auto r = http_client(nodes_[static_cast<std::size_t>(node)]->port()).call("send", body, senders[static_cast<std::size_t>(s)].token);
              if (r.as_object().at("duplicate").as_bool()) ++duplicates;
              break;
            } catch (const std::exception&) {
              if (attempt >= 20) {
                ++failed_sends;
                return;
              }
              node = 0;
              std::this_thread::sleep_for(50ms);
            }
          }
        }
      });
    return ts;
  };
  auto ts = blast(0, 60);
  for (int i = 0; i < 10; ++i)
    for (auto& d : devs) d->pump(20ms);
  for (auto& t : ts) t.join();
  // Device 0 goes offline, more messages, then it comes back on another node.
  devs[0]->disconnect();
  ts = blast(60, 60);
  for (auto& t : ts) t.join();
  devs[0]->connect(nodes_[1]->port());
  // Node 2 is killed mid-stream: its senders go on through node 0, its devices reconnect there
  // with their cursors.
  ts = blast(160, 60);
  for (int i = 0; i < 5; ++i)
    for (auto& d : devs) d->pump(20ms);
  nodes_[2]->kill9();
  for (std::size_t i = 2; i < devs.size(); i += 3) devs[i]->connect(nodes_[0]->port());
  for (auto& t : ts) t.join();
  // Redis restarts (empty) while more messages are sent: nodes reconnect, sessions resync.
  redis.kill9();
  ts = blast(120, 40);
  for (int i = 0; i < 5; ++i)
    for (auto& d : devs) d->pump(20ms);
  for (auto& t : ts) t.join();
  start_redis();
  // Nothing is sent after the restart: no later frame would reveal a lost tail; the outage's events
  // come from the nodes' retried publishes or, if lost, from the synced that follows a reconnection.

  EXPECT_EQ(failed_sends.load(), 0);
  std::map<std::int64_t, std::int64_t> ends;
  std::int64_t messages = 0;
  for (auto c : chans) {
    ends[c] = jint(h0.call("channel", {{"conv", c}}, readers[0].token), "last_seq");
    messages += ends[c] - (1 + 2 + 12);  // created, the two other senders' joins, the readers' joins
  }
  EXPECT_EQ(messages, 3 * 220) << "every send exactly once (" << duplicates.load() << " retries answered as duplicates)";
  for (std::size_t i = 0; i < devs.size(); ++i) {
    ASSERT_TRUE(devs[i]->pump_until(ends, 30s)) << "reader " << i;
    expect_exact(*devs[i], ends, "reader" + std::to_string(i));
  }
}

}  // namespace
}  // namespace e2e
