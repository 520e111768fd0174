// End-to-end tests of confabd: a real server process per test, real sockets, both backends.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace e2e {
namespace {

// ============================================================================ fixture

class E2E : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-e2e-");
    if (GetParam() == "postgres") {
      try {
        pg_ = std::make_unique<pg_database>();
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
  }

  void TearDown() override {
    const bool ran_server = !servers_.empty();
    for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) (*it)->stop();
    if (HasFailure() && ran_server) {
      for (auto& s : servers_)
        if (!s->log_path().empty())
          std::cerr << "---- " << s->log_path().string() << " (last lines)\n" << tail_file(s->log_path(), 30);
      std::cerr << "---- test files kept in " << dir_.string() << "\n";
    }
    servers_.clear();
    pg_.reset();
    if (!HasFailure() || !ran_server) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::vector<std::string> storage_args() const {
    if (GetParam() == "postgres") return {"--storage", "postgres", "--pg-dsn", pg_->dsn()};
    return {"--storage", "sqlite", "--sqlite-path", (dir_ / "data" / "confab.db").string()};
  }

  // Starts a confabd on this test's database with fast password hashing plus extra flags.
  server_process& start(const std::vector<std::string>& extra = {}) {
    auto dir = dir_ / ("server" + std::to_string(servers_.size()));
    std::filesystem::create_directories(dir);
    servers_.push_back(std::make_unique<server_process>(dir));
    restart(*servers_.back(), extra);
    return *servers_.back();
  }

  // (Re)starts s on the same database.
  void restart(server_process& s, const std::vector<std::string>& extra = {}) {
    auto args = storage_args();
    for (const char* a : {"--argon2-ops", "1", "--argon2-mem-kib", "8"}) args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    s.start(args);
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::vector<std::unique_ptr<server_process>> servers_;
};

// ============================================================================ helpers

const std::vector<std::string> no_rate_limit = {"--rate-per-sec", "100000", "--rate-burst", "100000"};

json::object send_fields(std::int64_t conv, const std::string& client_id, const std::string& text) {
  return {{"conv", conv}, {"client_id", client_id}, {"text", text}};
}

std::string frame_type(const json::object& f) { return jstr(f, "type"); }

// The error code of an error frame, or a description of what it was instead.
std::string error_code(const json::object& f) {
  if (frame_type(f) != "error") return "<not an error: " + dump(f) + ">";
  return jstr(jobj(f, "error"), "code");
}

// A valid request after an error still gets its result: the connection stayed usable.
void expect_alive(ws_client& w) {
  auto r = w.call("ping");
  EXPECT_EQ(frame_type(r), "result") << dump(r);
  EXPECT_TRUE(jobj(r, "data").at("pong").as_bool());
  EXPECT_FALSE(w.closed());
}

const json::object& ev(const json::object& frame) { return jobj(frame, "event"); }

std::vector<std::int64_t> seqs_of(const std::vector<json::object>& frames) {
  std::vector<std::int64_t> out;
  for (auto& f : frames) out.push_back(jint(ev(f), "seq"));
  return out;
}

std::vector<std::int64_t> positions_of(const std::vector<json::object>& frames) {
  std::vector<std::int64_t> out;
  for (auto& f : frames) out.push_back(jint(f, "pos"));
  return out;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {  // [from, to]
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

// Every event of a conversation visible to token, paging forward with after=.
std::vector<json::object> full_history(const http_client& http, const std::string& token, std::int64_t conv) {
  std::vector<json::object> out;
  std::int64_t after = 0;
  for (int page = 0; page < 1000; ++page) {
    auto r = http.call("history", {{"conv", conv}, {"after", after}, {"limit", 100}}, token);
    for (auto& e : jarr(r, "events")) out.push_back(e.as_object());
    if (!out.empty()) after = jint(out.back(), "seq");
    if (!r.at("has_more").as_bool()) return out;
  }
  throw std::runtime_error("history did not end");
}

std::vector<json::object> messages_of(const std::vector<json::object>& events) {
  std::vector<json::object> out;
  for (auto& e : events)
    if (jstr(e, "kind") == "message") out.push_back(e);
  return out;
}

// ============================================================================ 1. direct chat

TEST_P(E2E, TwoUsersChatOverWebSocket) {
  auto& srv = start();
  http_client http(srv.port());
  auto alice = register_user(http, "alice");
  auto bob = register_user(http, "bob");
  auto direct = http.call("create_direct", {{"username", "bob"}}, alice.token);
  const auto conv = jint(direct, "conv");
  EXPECT_TRUE(direct.at("created").as_bool());

  ws_client wa(srv.port()), wb(srv.port());
  auto ha = wa.hello(alice.token);
  auto hb = wb.hello(bob.token);
  // No since: both start at their stream head (the "created" event at pos 1), nothing replayed.
  EXPECT_EQ(jint(ha, "user_id"), alice.user_id);
  EXPECT_EQ(jint(ha, "device_id"), alice.device_id);
  EXPECT_EQ(jint(ha, "head"), 1);
  EXPECT_EQ(jint(ha, "since"), 1);
  EXPECT_EQ(jint(hb, "head"), 1);
  std::int64_t synced = -1;
  EXPECT_TRUE(wa.until_synced(&synced).empty());
  EXPECT_EQ(synced, 1);
  EXPECT_TRUE(wb.until_synced(&synced).empty());
  EXPECT_EQ(synced, 1);

  const std::vector<std::string> texts = {"hello bob", "how are you? \xF0\x9F\x91\x8B", "quotes \" and \\ and \n newline"};
  std::vector<json::object> acks;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto ack = wa.call_ok("send", send_fields(conv, "a-" + std::to_string(i), texts[i]));
    EXPECT_EQ(jint(ack, "conv"), conv);
    EXPECT_EQ(jint(ack, "seq"), static_cast<std::int64_t>(i) + 2);
    EXPECT_FALSE(ack.at("duplicate").as_bool());
    acks.push_back(ack);
  }
  auto check = [&](const std::vector<json::object>& frames, const char* who) {
    SCOPED_TRACE(who);
    ASSERT_EQ(frames.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto& e = ev(frames[i]);
      EXPECT_EQ(jint(frames[i], "pos"), static_cast<std::int64_t>(i) + 2);
      EXPECT_EQ(jint(e, "conv"), conv);
      EXPECT_EQ(jint(e, "seq"), static_cast<std::int64_t>(i) + 2);
      EXPECT_EQ(jstr(e, "kind"), "message");
      EXPECT_EQ(jint(e, "sender"), alice.user_id);
      EXPECT_EQ(jint(e, "device"), alice.device_id);
      EXPECT_EQ(jstr(e, "client_id"), "a-" + std::to_string(i));
      EXPECT_EQ(jstr(e, "text"), texts[i]);
      EXPECT_EQ(jstr(e, "content_type"), "text/plain");
      EXPECT_EQ(jint(e, "ts"), jint(acks[i], "ts"));
    }
  };
  check(wb.events(texts.size()), "bob (recipient)");
  check(wa.events(texts.size()), "alice (sender's own stream)");

  // And back: bob answers, alice receives it right after her own messages.
  auto ack = wb.call_ok("send", {{"conv", conv}, {"client_id", "b-0"}, {"text", "fine"}, {"content_type", "text/markdown"}});
  EXPECT_EQ(jint(ack, "seq"), 5);
  auto fa = wa.next_event();
  EXPECT_EQ(jint(fa, "pos"), 5);
  EXPECT_EQ(jint(ev(fa), "sender"), bob.user_id);
  EXPECT_EQ(jstr(ev(fa), "text"), "fine");
  EXPECT_EQ(jstr(ev(fa), "content_type"), "text/markdown");
  EXPECT_EQ(jint(wb.next_event(), "pos"), 5);
  // Nothing else arrives.
  EXPECT_TRUE(wa.drain_events(200ms).empty());
  EXPECT_TRUE(wb.drain_events(50ms).empty());
}

// ============================================================================ 2. group, concurrent senders

TEST_P(E2E, GroupOfTwentyWithFiveConcurrentSenders) {
  constexpr int members = 20, senders = 5, per_sender = 40;
  constexpr std::int64_t total = 1 + senders * per_sender;  // "created" + messages
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  std::vector<account> users;
  json::array others;
  for (int i = 0; i < members; ++i) {
    users.push_back(register_user(http, "user" + std::to_string(i)));
    if (i > 0) others.push_back(users.back().user_id);
  }
  const auto conv = jint(http.call("create_group", {{"title", "twenty"}, {"members", others}}, users[0].token), "conv");

  std::vector<std::unique_ptr<ws_client>> conns;
  for (int i = 0; i < members; ++i) {
    conns.push_back(std::make_unique<ws_client>(srv.port()));
    auto h = conns.back()->hello(users[i].token, 0);
    EXPECT_EQ(jint(h, "head"), 1);
    EXPECT_EQ(jint(h, "since"), 0);
  }

  // Senders are members 0, 4, 8, 12, 16, each on its own connection and thread.
  struct sent {
    std::int64_t seq = 0, ts = 0;
  };
  std::vector<std::vector<sent>> acks(senders);
  std::vector<std::string> errors(senders);
  std::vector<std::thread> threads;
  for (int k = 0; k < senders; ++k)
    threads.emplace_back([&, k] {
      try {
        auto& w = *conns[k * 4];
        for (int i = 0; i < per_sender; ++i) {
          auto ack = w.call_ok("send", send_fields(conv, "s" + std::to_string(k) + "-" + std::to_string(i),
                                                   "message " + std::to_string(i) + " from sender " + std::to_string(k)));
          if (ack.at("duplicate").as_bool()) throw std::runtime_error("unexpected duplicate ack");
          acks[k].push_back({jint(ack, "seq"), jint(ack, "ts")});
        }
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < senders; ++k) ASSERT_EQ(errors[k], "") << "sender " << k;

  std::vector<json::object> reference;
  for (int m = 0; m < members; ++m) {
    SCOPED_TRACE("member " + std::to_string(m));
    auto frames = conns[m]->events(total, 30s);
    EXPECT_TRUE(conns[m]->drain_events(20ms).empty()) << "more events than sent";
    // Stream positions and conversation seqs both run 1..N with no gap or duplicate.
    EXPECT_EQ(positions_of(frames), range(1, total));
    EXPECT_EQ(seqs_of(frames), range(1, total));
    std::vector<json::object> events;
    for (auto& f : frames) {
      EXPECT_EQ(jint(ev(f), "conv"), conv);
      events.push_back(ev(f));
    }
    if (m == 0)
      reference = events;
    else
      EXPECT_EQ(events, reference) << "member " << m << " saw a different sequence than member 0";
  }
  ASSERT_EQ(reference.size(), static_cast<std::size_t>(total));
  EXPECT_EQ(jstr(reference[0], "kind"), "created");

  // Each sender's messages appear in the order it sent them, at the seqs its acks reported.
  for (int k = 0; k < senders; ++k) {
    SCOPED_TRACE("sender " + std::to_string(k));
    std::vector<json::object> mine;
    for (auto& e : reference)
      if (jstr(e, "kind") == "message" && jint(e, "sender") == users[k * 4].user_id) mine.push_back(e);
    ASSERT_EQ(mine.size(), static_cast<std::size_t>(per_sender));
    for (int i = 0; i < per_sender; ++i) {
      EXPECT_EQ(jstr(mine[i], "client_id"), "s" + std::to_string(k) + "-" + std::to_string(i));
      EXPECT_EQ(jint(mine[i], "seq"), acks[k][i].seq);
      EXPECT_EQ(jint(mine[i], "ts"), acks[k][i].ts);
      EXPECT_EQ(jint(reference[acks[k][i].seq - 1], "seq"), acks[k][i].seq);
    }
  }
}

// ============================================================================ 3. idempotent retry

TEST_P(E2E, RetryWithSameClientIdIsIdempotent) {
  auto& srv = start();
  http_client http(srv.port());
  auto alice = register_user(http, "alice", "laptop");
  auto bob = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"username", "bob"}}, alice.token), "conv");

  auto w = std::make_unique<ws_client>(srv.port());
  w->hello(alice.token);
  auto first = w->call_ok("send", send_fields(conv, "retry-1", "only once"));
  auto again = w->call_ok("send", send_fields(conv, "retry-1", "only once"));
  EXPECT_FALSE(first.at("duplicate").as_bool());
  EXPECT_TRUE(again.at("duplicate").as_bool());
  EXPECT_EQ(jint(again, "seq"), jint(first, "seq"));
  EXPECT_EQ(jint(again, "ts"), jint(first, "ts"));
  EXPECT_EQ(jint(again, "conv"), conv);

  // After a reconnect (same device), the retry is still recognised.
  w->close();
  w = std::make_unique<ws_client>(srv.port());
  w->hello(alice.token);
  auto after_reconnect = w->call_ok("send", send_fields(conv, "retry-1", "only once"));
  EXPECT_TRUE(after_reconnect.at("duplicate").as_bool());
  EXPECT_EQ(jint(after_reconnect, "seq"), jint(first, "seq"));
  EXPECT_EQ(jint(after_reconnect, "ts"), jint(first, "ts"));
  // ... and over HTTP with the same device's token.
  auto over_http = http.call("send", send_fields(conv, "retry-1", "only once"), alice.token);
  EXPECT_TRUE(over_http.at("duplicate").as_bool());
  EXPECT_EQ(jint(over_http, "seq"), jint(first, "seq"));

  auto history = messages_of(full_history(http, bob.token, conv));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(jint(history[0], "seq"), jint(first, "seq"));
  EXPECT_EQ(jstr(history[0], "text"), "only once");

  // A second device of the same user with the same client_id sends a distinct message.
  auto phone = login(http, "alice", "phone");
  ASSERT_NE(phone.device_id, alice.device_id);
  ws_client wp(srv.port());
  wp.hello(phone.token);
  auto other = wp.call_ok("send", send_fields(conv, "retry-1", "from the phone"));
  EXPECT_FALSE(other.at("duplicate").as_bool());
  EXPECT_EQ(jint(other, "seq"), jint(first, "seq") + 1);

  history = messages_of(full_history(http, bob.token, conv));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(jint(history[0], "device"), alice.device_id);
  EXPECT_EQ(jint(history[1], "device"), phone.device_id);
  EXPECT_EQ(jstr(history[0], "client_id"), "retry-1");
  EXPECT_EQ(jstr(history[1], "client_id"), "retry-1");
  EXPECT_EQ(jstr(history[1], "text"), "from the phone");

  // The recipient's stream holds exactly created + the two messages: retries emitted nothing.
  ws_client wb(srv.port());
  wb.hello(bob.token, 0);
  std::int64_t synced = 0;
  auto replay = wb.until_synced(&synced);
  EXPECT_EQ(synced, 3);
  EXPECT_EQ(seqs_of(replay), range(1, 3));
}

// ============================================================================ 4. resume

TEST_P(E2E, DisconnectMidStreamAndResume) {
  constexpr int per_sender = 60, gate = 40;  // each sender waits at `gate` until the receiver is back
  constexpr std::int64_t total = 1 + 2 * per_sender;
  constexpr std::size_t first_batch = 15;
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  auto s1 = register_user(http, "sender1");
  auto s2 = register_user(http, "sender2");
  auto r = register_user(http, "receiver");
  const auto conv =
      jint(http.call("create_group", {{"title", "resume"}, {"members", json::array{s2.user_id, r.user_id}}}, s1.token), "conv");

  auto receiver = std::make_unique<ws_client>(srv.port());
  receiver->hello(r.token, 0);

  std::atomic<bool> reconnected{false};
  std::atomic<int> sent_after_reconnect{0};
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k)
    threads.emplace_back([&, k] {
      try {
        ws_client w(srv.port());
        w.hello(k == 0 ? s1.token : s2.token);
        for (int i = 0; i < per_sender; ++i) {
          if (i == gate) {
            const auto until = steady::now() + 10s;
            while (!reconnected && steady::now() < until) std::this_thread::sleep_for(1ms);
          }
          w.call_ok("send", send_fields(conv, "k" + std::to_string(k) + "-" + std::to_string(i), "m" + std::to_string(i)));
          if (reconnected) ++sent_after_reconnect;
          std::this_thread::sleep_for(2ms);
        }
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });

  // Take K events, then drop the connection abruptly (frames already buffered are lost with it).
  auto got = receiver->events(first_batch);
  const std::int64_t last_pos = jint(got.back(), "pos");
  receiver->abort();
  std::this_thread::sleep_for(50ms);  // senders keep going meanwhile
  receiver = std::make_unique<ws_client>(srv.port());
  auto h = receiver->hello(r.token, last_pos);
  reconnected = true;
  EXPECT_EQ(jint(h, "since"), last_pos);
  auto rest = receiver->events(total - static_cast<std::int64_t>(got.size()), 30s);
  for (auto& t : threads) t.join();
  for (int k = 0; k < 2; ++k) ASSERT_EQ(errors[k], "") << "sender " << k;
  EXPECT_GT(sent_after_reconnect.load(), 0) << "the senders were meant to keep sending after the reconnect";
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_TRUE(receiver->drain_events(200ms).empty()) << "duplicates after the seam";
  // Every event exactly once, in order, across the seam: positions and seqs contiguous.
  EXPECT_EQ(positions_of(got), range(1, total));
  EXPECT_EQ(seqs_of(got), range(1, total));
  std::set<std::string> client_ids;
  for (auto& f : got)
    if (jstr(ev(f), "kind") == "message") client_ids.insert(jstr(ev(f), "client_id"));
  EXPECT_EQ(client_ids.size(), static_cast<std::size_t>(2 * per_sender));

  // A device with no state: hello without since starts at the head and gets only new events.
  auto fresh_dev = login(http, "receiver", "fresh");
  ws_client fresh(srv.port());
  auto hf = fresh.hello(fresh_dev.token);
  EXPECT_EQ(jint(hf, "head"), total);
  EXPECT_EQ(jint(hf, "since"), total);
  std::int64_t synced = -1;
  EXPECT_TRUE(fresh.until_synced(&synced).empty());
  EXPECT_EQ(synced, total);
  auto ack = http.call("send", send_fields(conv, "after", "new one"), s1.token);
  auto only = fresh.next_event();
  EXPECT_EQ(jint(only, "pos"), total + 1);
  EXPECT_EQ(jint(ev(only), "seq"), jint(ack, "seq"));
  EXPECT_EQ(jstr(ev(only), "text"), "new one");
  EXPECT_TRUE(fresh.drain_events(100ms).empty());

  // hello with since=0 replays everything.
  ws_client replay(srv.port());
  auto hr = replay.hello(r.token, 0);
  EXPECT_EQ(jint(hr, "head"), total + 1);
  EXPECT_EQ(jint(hr, "since"), 0);
  auto all = replay.until_synced(&synced);
  EXPECT_EQ(synced, total + 1);
  EXPECT_EQ(positions_of(all), range(1, total + 1));
  EXPECT_EQ(seqs_of(all), range(1, total + 1));
}

// ============================================================================ 5. kill -9 and restart

TEST_P(E2E, AckedMessagesSurviveKill9) {
  constexpr int sequential = 40, pipelined = 40;
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  auto alice = register_user(http, "alice");
  auto bob = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"username", "bob"}}, alice.token), "conv");

  struct acked {
    std::int64_t seq, ts;
    std::string text;
  };
  std::map<std::string, acked> acks;
  {
    ws_client w(srv.port());
    w.hello(alice.token);
    for (int i = 0; i < sequential; ++i) {
      std::string cid = "seq-" + std::to_string(i), text = "sequential " + std::to_string(i);
      auto a = w.call_ok("send", send_fields(conv, cid, text));
      acks[cid] = {jint(a, "seq"), jint(a, "ts"), text};
    }
    // Then a burst in flight: kill -9 as soon as part of it is acked.
    std::map<std::int64_t, std::pair<std::string, std::string>> by_id;
    for (int i = 0; i < pipelined; ++i) {
      std::string cid = "burst-" + std::to_string(i), text = "burst " + std::to_string(i);
      by_id[w.send_op("send", send_fields(conv, cid, text))] = {cid, text};
    }
    int replies = 0;
    for (auto& [id, m] : by_id) {
      auto r = w.reply(id);
      ASSERT_TRUE(r.has_value());
      auto data = jobj(*r, "data");
      acks[m.first] = {jint(data, "seq"), jint(data, "ts"), m.second};
      if (++replies == pipelined / 4) break;
    }
    srv.kill9();
  }
  restart(srv, no_rate_limit);
  http_client http2(srv.port());
  auto history = messages_of(full_history(http2, bob.token, conv));
  std::map<std::string, json::object> stored;
  for (auto& e : history) stored[jstr(e, "client_id")] = e;
  for (auto& [cid, a] : acks) {
    SCOPED_TRACE(cid);
    auto it = stored.find(cid);
    ASSERT_NE(it, stored.end()) << "acked message lost";
    EXPECT_EQ(jint(it->second, "seq"), a.seq);
    EXPECT_EQ(jint(it->second, "ts"), a.ts);
    EXPECT_EQ(jstr(it->second, "text"), a.text);
  }
  // Seqs in storage are still gap-free (history seqs are 2..N after the "created" event).
  auto all = full_history(http2, bob.token, conv);
  std::vector<std::int64_t> seqs;
  for (auto& e : all) seqs.push_back(jint(e, "seq"));
  EXPECT_EQ(seqs, range(1, static_cast<std::int64_t>(all.size())));

  // Retrying an acked client_id after the restart returns the original ack.
  ws_client w(srv.port());
  w.hello(alice.token);
  for (const char* cid : {"seq-7", "burst-0"}) {
    auto retry = w.call_ok("send", send_fields(conv, cid, "retry"));
    EXPECT_TRUE(retry.at("duplicate").as_bool()) << cid;
    EXPECT_EQ(jint(retry, "seq"), acks[cid].seq) << cid;
    EXPECT_EQ(jint(retry, "ts"), acks[cid].ts) << cid;
  }
  // And the conversation goes on after the last stored event.
  auto next = w.call_ok("send", send_fields(conv, "after-restart", "still here"));
  EXPECT_FALSE(next.at("duplicate").as_bool());
  EXPECT_EQ(jint(next, "seq"), static_cast<std::int64_t>(all.size()) + 1);
}

// ============================================================================ 6. revoked device

TEST_P(E2E, RevokedDeviceIsDisconnected) {
  auto& srv = start();
  http_client http(srv.port());
  auto laptop = register_user(http, "alice", "laptop");
  auto phone = login(http, "alice", "phone");
  ws_client w1(srv.port());
  w1.hello(laptop.token);

  auto r = http.call("revoke_device", {{"device_id", laptop.device_id}}, phone.token);
  EXPECT_TRUE(r.at("ok").as_bool());
  auto code = w1.wait_close(10s);
  ASSERT_TRUE(code.has_value()) << "the revoked device's WebSocket stayed open";
  EXPECT_EQ(*code, 4001) << w1.close_reason();

  // The revoked token no longer works, over HTTP ...
  auto me = http.post("me", {}, laptop.token);
  EXPECT_EQ(me.status, 401u);
  EXPECT_EQ(me.error_code(), "unauthenticated");
  EXPECT_EQ(me.www_authenticate, "Bearer");
  // ... nor in a WebSocket hello.
  ws_client w2(srv.port());
  auto hello = w2.call("hello", {{"token", laptop.token}});
  EXPECT_EQ(error_code(hello), "unauthenticated");
  // The other device is unaffected and sees the revocation.
  auto devices = http.call("devices", {}, phone.token);
  bool found = false;
  for (auto& d : jarr(devices, "devices"))
    if (jint(d, "device_id") == laptop.device_id) {
      found = true;
      EXPECT_FALSE(d.at("revoked_ts").is_null());
    }
  EXPECT_TRUE(found);
}

// ============================================================================ 7. removed member

TEST_P(E2E, RemovedMemberReceivesNothingMore) {
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  auto a = register_user(http, "owner");
  auto b = register_user(http, "bee");
  auto c = register_user(http, "cee");
  const auto conv =
      jint(http.call("create_group", {{"title", "three"}, {"members", json::array{b.user_id, c.user_id}}}, a.token), "conv");
  ws_client wb(srv.port()), wc(srv.port());
  wb.hello(b.token);
  wc.hello(c.token);
  wb.until_synced();
  wc.until_synced();

  http.call("send", send_fields(conv, "m1", "before"), a.token);
  EXPECT_EQ(jint(ev(wc.next_event()), "seq"), 2);
  const auto removal = jint(http.call("remove_member", {{"conv", conv}, {"user_id", c.user_id}}, a.token), "seq");
  EXPECT_EQ(removal, 3);
  auto removed = wc.next_event();
  EXPECT_EQ(jstr(ev(removed), "kind"), "member_removed");
  EXPECT_EQ(jint(ev(removed), "seq"), removal);
  EXPECT_EQ(jint(jobj(ev(removed), "data"), "user"), c.user_id);
  EXPECT_EQ(jint(jobj(ev(removed), "data"), "by"), a.user_id);

  for (int i = 0; i < 5; ++i) http.call("send", send_fields(conv, "after" + std::to_string(i), "secret"), a.token);
  // b gets everything (so it was published) ...
  auto bs = wb.events(7);
  EXPECT_EQ(seqs_of(bs), range(2, 8));
  // ... c nothing after its removal.
  auto leaked = wc.drain_events(500ms);
  EXPECT_TRUE(leaked.empty()) << leaked.size() << " events after removal, first: " << dump(leaked.front());

  // c's history ends at the removal.
  auto hist = http.call("history", {{"conv", conv}}, c.token);
  std::vector<std::int64_t> seqs;
  for (auto& e : jarr(hist, "events")) seqs.push_back(jint(e, "seq"));
  EXPECT_EQ(seqs, range(1, removal));
  EXPECT_FALSE(hist.at("has_more").as_bool());
  auto later = http.call("history", {{"conv", conv}, {"after", removal}}, c.token);
  EXPECT_TRUE(jarr(later, "events").empty());
  // c can no longer send or read membership; its stream head stayed at the removal.
  auto s = http.post("send", send_fields(conv, "c1", "let me in"), c.token);
  EXPECT_EQ(s.status, 403u);
  EXPECT_EQ(s.error_code(), "forbidden");
  EXPECT_EQ(error_code(wc.call("send", send_fields(conv, "c2", "let me in"))), "forbidden");
  EXPECT_EQ(error_code(wc.call("members", {{"conv", conv}})), "forbidden");
  EXPECT_EQ(jint(http.call("me", {}, c.token), "head"), 3);
}

// ============================================================================ 8. bad input

class BadInput : public E2E {
 protected:
  // A server, a user "alice" (+ "bob" and a direct conversation), alice connected and hello'd.
  void open(const std::vector<std::string>& extra = {}) {
    srv_ = &start(extra);
    http_ = std::make_unique<http_client>(srv_->port());
    alice_ = register_user(*http_, "alice");
    bob_ = register_user(*http_, "bob");
    conv_ = jint(http_->call("create_direct", {{"username", "alice"}}, bob_.token), "conv");
    w_ = std::make_unique<ws_client>(srv_->port());
    w_->hello(alice_.token);
    w_->until_synced();
  }
  void TearDown() override {
    w_.reset();  // before the server stops: an open client that never answers the close would delay it
    E2E::TearDown();
  }

  server_process* srv_ = nullptr;
  std::unique_ptr<http_client> http_;
  account alice_, bob_;
  std::int64_t conv_ = 0;
  std::unique_ptr<ws_client> w_;
};

TEST_P(BadInput, MalformedJson) {
  open();
  for (const char* text : {"{\"op\":", "not json at all", "{\"op\":\"ping\",}", ""}) {
    SCOPED_TRACE(text);
    w_->send_text(text);
    auto e = w_->next("error");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(error_code(*e), "malformed");
    EXPECT_TRUE(e->at("id").is_null());
    expect_alive(*w_);
  }
  auto r = http_->post_raw("/v1/me", "{oops", alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "malformed");
}

TEST_P(BadInput, JsonThatIsNotAnObject) {
  open();
  for (const char* text : {"[1,2,3]", "\"ping\"", "42", "null"}) {
    SCOPED_TRACE(text);
    w_->send_text(text);
    auto e = w_->next("error");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(error_code(*e), "malformed");
    expect_alive(*w_);
  }
  auto r = http_->post_raw("/v1/me", "[1]", alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "malformed");
}

TEST_P(BadInput, UnknownOp) {
  open();
  auto e = w_->call("frobnicate");
  EXPECT_EQ(error_code(e), "unknown_op");
  expect_alive(*w_);
  auto r = http_->post("frobnicate", {}, alice_.token);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.error_code(), "unknown_op");
}

TEST_P(BadInput, WrongFieldType) {
  open();
  EXPECT_EQ(error_code(w_->call("send", {{"conv", "one"}, {"client_id", "x"}, {"text", "t"}})), "invalid_field");
  expect_alive(*w_);
  EXPECT_EQ(error_code(w_->call("send", {{"conv", conv_}, {"client_id", 7}, {"text", "t"}})), "invalid_field");
  expect_alive(*w_);
  EXPECT_EQ(error_code(w_->call("history", {{"conv", conv_}, {"limit", "ten"}})), "invalid_field");
  expect_alive(*w_);
  // op itself of the wrong type.
  w_->send_text(R"({"op":5,"id":99})");
  auto e = w_->next("error");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(error_code(*e), "invalid_field");
  expect_alive(*w_);
  auto r = http_->post("send", {{"conv", conv_}, {"client_id", "x"}, {"text", json::array{1}}}, alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "invalid_field");
}

TEST_P(BadInput, MissingField) {
  open();
  EXPECT_EQ(error_code(w_->call("send", {{"conv", conv_}, {"client_id", "x"}})), "missing_field");
  expect_alive(*w_);
  EXPECT_EQ(error_code(w_->call("history", {})), "missing_field");
  expect_alive(*w_);
  w_->send_text(R"({"id":5,"conv":1})");  // no op
  auto e = w_->next("error");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(error_code(*e), "missing_field");
  expect_alive(*w_);
  auto r = http_->post("send", {{"conv", conv_}, {"text", "t"}}, alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "missing_field");
}

TEST_P(BadInput, InvalidUtf8) {
  open();
  // HTTP body: the server's own UTF-8 check.
  const std::string bad = "{\"conv\":1,\"client_id\":\"x\",\"text\":\"\xC3\x28\xFF\"}";
  auto r = http_->post_raw("/v1/send", bad, alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "invalid_utf8");
  // Binary frames are refused (frames must be JSON text); the connection stays usable.
  w_->send_binary("{\"op\":\"ping\",\"id\":1,\"x\":\"\xFF\xFE\"}");
  auto e = w_->next("error");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(error_code(*e), "malformed");
  expect_alive(*w_);
  // A text frame with invalid UTF-8 breaks the WebSocket protocol itself (RFC 6455 8.1): the
  // server fails the connection with 1007, and keeps serving everyone else.
  w_->send_text("{\"op\":\"ping\",\"id\":2,\"x\":\"\xC3\x28\"}");
  auto code = w_->wait_close(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1007);
  ws_client other(srv_->port());
  other.hello(alice_.token);
  expect_alive(other);
}

TEST_P(BadInput, FrameOverMaxFrameBytes) {
  open({"--max-frame-bytes", "4096"});
  const std::string big(5000, 'a');
  w_->send(send_fields(conv_, "big", big));
  auto e = w_->next("error");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(error_code(*e), "too_large");
  expect_alive(*w_);
  // Just under the limit is fine (the frame limit, not the text limit, is what bites here).
  auto ok = w_->call("send", send_fields(conv_, "small", std::string(3900, 'a')));
  EXPECT_EQ(frame_type(ok), "result") << dump(ok);
  auto r = http_->post("send", send_fields(conv_, "big", big), alice_.token);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.error_code(), "too_large");
}

TEST_P(BadInput, TextOverMaxTextBytes) {
  open({"--max-text-bytes", "100"});
  EXPECT_EQ(error_code(w_->call("send", send_fields(conv_, "t1", std::string(101, 'x')))), "text_too_long");
  expect_alive(*w_);
  // The limit counts bytes, not characters: 34 x U+20AC is 102 bytes.
  std::string euros;
  for (int i = 0; i < 34; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(error_code(w_->call("send", send_fields(conv_, "t2", euros))), "text_too_long");
  expect_alive(*w_);
  auto ok = w_->call("send", send_fields(conv_, "t3", std::string(100, 'x')));
  EXPECT_EQ(frame_type(ok), "result") << dump(ok);
  auto r = http_->post("send", send_fields(conv_, "t4", std::string(101, 'x')), alice_.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "text_too_long");
  // Nothing but the one valid message was stored.
  EXPECT_EQ(messages_of(full_history(*http_, bob_.token, conv_)).size(), 1u);
}

TEST_P(BadInput, Unauthenticated) {
  open();
  ws_client w(srv_->port());
  EXPECT_EQ(error_code(w.call("conversations")), "unauthenticated");
  expect_alive(w);
  EXPECT_EQ(error_code(w.call("send", send_fields(conv_, "x", "y"))), "unauthenticated");
  EXPECT_EQ(error_code(w.call("hello", {{"token", "not-a-real-token"}})), "unauthenticated");
  expect_alive(w);
  w.hello(alice_.token);  // the same connection can still authenticate
  EXPECT_EQ(frame_type(w.call("conversations")), "result");

  auto r = http_->post("conversations", {});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.error_code(), "unauthenticated");
  EXPECT_EQ(r.www_authenticate, "Bearer");
  r = http_->post("conversations", {}, "bogus-token");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.error_code(), "unauthenticated");
}

// Regression: register validated device_name only after the account was written, so a bad
// device_name answered invalid_field yet took the username for good (the retry got conflict).
TEST_P(BadInput, RegisterWithBadDeviceNameWritesNothing) {
  open();
  auto bad = http_->post("register", {{"username", "dora"}, {"password", "password123"}, {"device_name", 5}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.error_code(), "invalid_field");
  auto too_long = http_->post("register", {{"username", "dora"}, {"password", "password123"}, {"device_name", std::string(65, 'd')}});
  EXPECT_EQ(too_long.error_code(), "invalid_field");
  auto ok = http_->post("register", {{"username", "dora"}, {"password", "password123"}, {"device_name", "phone"}});
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST_P(BadInput, ConnectionsOverTheLimitAreRefused) {
  open({"--max-connections", "3"});  // w_ holds one
  // The server frees a slot when it sees a connection end, which for the set-up's HTTP requests
  // may be a moment after the client closed them: connect with a bounded retry.
  auto connect = [&]() -> std::unique_ptr<ws_client> {
    for (int i = 0; i < 50; ++i) {
      try {
        return std::make_unique<ws_client>(srv_->port());
      } catch (const std::exception&) {
        std::this_thread::sleep_for(100ms);
      }
    }
    return nullptr;
  };
  auto second = connect();
  auto third = connect();
  ASSERT_TRUE(second && third);
  // All three slots are held by open WebSockets: a fourth is refused.
  EXPECT_THROW({ ws_client fourth(srv_->port()); }, std::exception);
  expect_alive(*second);
  // A closed connection frees its slot.
  third->close();
  EXPECT_TRUE(connect() != nullptr);
  expect_alive(*w_);
}

TEST_P(BadInput, FieldValuesOutOfRange) {
  open();
  auto code = [&](std::string_view op, json::object f) { return error_code(w_->call(op, std::move(f))); };
  EXPECT_EQ(code("history", {{"conv", conv_}, {"limit", 0}}), "invalid_field");
  EXPECT_EQ(code("history", {{"conv", conv_}, {"limit", 101}}), "invalid_field");
  EXPECT_EQ(code("history", {{"conv", conv_}, {"before", 5}, {"after", 1}}), "invalid_field");
  EXPECT_EQ(code("send", {{"conv", conv_}, {"client_id", ""}, {"text", "x"}}), "invalid_field");
  EXPECT_EQ(code("send", {{"conv", conv_}, {"client_id", std::string(65, 'c')}, {"text", "x"}}), "invalid_field");
  EXPECT_EQ(code("send", {{"conv", conv_}, {"client_id", "c"}, {"text", "x"}, {"content_type", std::string(129, 't')}}),
            "invalid_field");
  EXPECT_EQ(code("send", {{"conv", conv_}, {"client_id", "c"}, {"text", "x"}, {"reply_to", 999}}), "invalid_field");
  EXPECT_EQ(code("send", {{"conv", conv_}, {"client_id", "c"}, {"text", std::string("a\0b", 3)}}), "invalid_field");
  EXPECT_EQ(code("read", {{"conv", conv_}, {"seq", -1}}), "invalid_field");
  EXPECT_EQ(code("create_group", {{"title", ""}, {"members", json::array{}}}), "invalid_field");
  EXPECT_EQ(code("create_group", {{"title", "t"}, {"members", json::array{"bob"}}}), "invalid_field");
  EXPECT_EQ(code("set_role", {{"conv", conv_}, {"user_id", bob_.user_id}, {"role", "admin"}}), "forbidden");  // direct
  EXPECT_EQ(code("create_direct", {}), "missing_field");
  expect_alive(*w_);
  auto r = http_->post("register", {{"username", "bad name!"}, {"password", "password123"}});
  EXPECT_EQ(r.error_code(), "invalid_field");
  r = http_->post("register", {{"username", std::string(33, 'u')}, {"password", "password123"}});
  EXPECT_EQ(r.error_code(), "invalid_field");
  r = http_->post("register", {{"username", "shortpw"}, {"password", "1234567"}});
  EXPECT_EQ(r.error_code(), "invalid_field");
  r = http_->post("register", {{"username", "alice"}, {"password", "password123"}});
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.error_code(), "conflict");
  r = http_->post("login", {{"username", "alice"}, {"password", "wrong password"}});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.error_code(), "invalid_credentials");
  r = http_->post("login", {{"username", "nobody"}, {"password", "whatever1"}});
  EXPECT_EQ(r.error_code(), "invalid_credentials");
}

TEST_P(BadInput, HttpMethodsAndRoutes) {
  open();
  auto r = http_->post_raw("/v1/no_such_op", "{}", alice_.token);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.error_code(), "unknown_op");
  r = http_->post_raw("/nowhere", "{}");
  EXPECT_EQ(r.status, 404u);
}

TEST_P(BadInput, FindUsersByPrefix) {
  open();
  register_user(*http_, "alfred");
  auto names = [&](const json::object& body, const std::string& token) {
    std::vector<std::string> out;
    auto v = http_->call("find_users", body, token);
    for (auto& u : v.as_object().at("users").as_array()) out.emplace_back(u.as_object().at("username").as_string());
    return out;
  };
  EXPECT_EQ(names({{"prefix", "al"}}, alice_.token), (std::vector<std::string>{"alfred"}));  // not the caller
  EXPECT_EQ(names({{"prefix", "al"}}, bob_.token), (std::vector<std::string>{"alfred", "alice"}));
  EXPECT_EQ(names({{"prefix", "al"}, {"limit", 1}}, bob_.token), (std::vector<std::string>{"alfred"}));
  EXPECT_EQ(names({{"prefix", "Al"}}, bob_.token), (std::vector<std::string>{"alfred", "alice"}));  // ignores case
  auto code = [&](const json::object& body) { return http_->post("find_users", body, alice_.token).error_code(); };
  EXPECT_EQ(code({}), "missing_field");
  EXPECT_EQ(code({{"prefix", ""}}), "invalid_field");
  EXPECT_EQ(code({{"prefix", std::string(33, 'a')}}), "invalid_field");
  EXPECT_EQ(code({{"prefix", "a%"}}), "invalid_field");
  EXPECT_EQ(code({{"prefix", "a"}, {"limit", 0}}), "invalid_field");
  EXPECT_EQ(code({{"prefix", "a"}, {"limit", 21}}), "invalid_field");
  EXPECT_EQ(http_->post("find_users", {{"prefix", "a"}}).error_code(), "unauthenticated");
}

TEST_P(BadInput, HelloMisuse) {
  open();
  {  // a cursor ahead of the stream: error, then close 1008
    ws_client w(srv_->port());
    auto e = w.call("hello", {{"token", alice_.token}, {"since", 1000000}});
    EXPECT_EQ(error_code(e), "invalid_field");
    auto c = w.wait_close();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, 1008);
  }
  {  // negative cursor, then a second hello on an authenticated connection
    ws_client w(srv_->port());
    EXPECT_EQ(error_code(w.call("hello", {{"token", alice_.token}, {"since", -1}})), "invalid_field");
    w.hello(alice_.token);
    EXPECT_EQ(error_code(w.call("hello", {{"token", alice_.token}})), "invalid_field");
    expect_alive(w);
  }
  {  // three failed hellos close the connection
    ws_client w(srv_->port());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(error_code(w.call("hello", {{"token", "wrong"}})), "unauthenticated");
    auto c = w.wait_close();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, 1008);
  }
}

TEST_P(BadInput, RealtimeOpsRejectBadFields) {
  open();
  auto carol = register_user(*http_, "carol");
  // typing
  EXPECT_EQ(error_code(w_->call("typing", {})), "missing_field");
  EXPECT_EQ(error_code(w_->call("typing", {{"conv", conv_}, {"active", "yes"}})), "invalid_field");
  EXPECT_EQ(error_code(w_->call("typing", {{"conv", 999999}})), "forbidden");
  // receipts
  EXPECT_EQ(error_code(w_->call("delivered", {{"conv", conv_}, {"seq", -1}})), "invalid_field");
  EXPECT_EQ(error_code(w_->call("delivered", {{"conv", conv_}})), "missing_field");
  EXPECT_EQ(error_code(w_->call("delivered", {{"conv", 999999}, {"seq", 1}})), "not_found");
  EXPECT_EQ(error_code(w_->call("receipts", {{"conv", "x"}})), "invalid_field");
  auto r = http_->post("receipts", {{"conv", conv_}}, carol.token);
  EXPECT_EQ(r.error_code(), "forbidden");
  // presence (WebSocket only)
  EXPECT_EQ(error_code(w_->call("presence", {{"users", "bob"}})), "invalid_field");
  EXPECT_EQ(error_code(w_->call("presence", {{"users", json::array{1.5}}})), "invalid_field");
  json::array many;
  for (int i = 0; i < 257; ++i) many.push_back(i + 1);
  EXPECT_EQ(error_code(w_->call("presence", {{"users", many}})), "invalid_field");
  EXPECT_EQ(error_code(w_->call("presence", {{"users", json::array{carol.user_id}}})), "forbidden");
  EXPECT_EQ(http_->post("presence", {{"users", json::array{bob_.user_id}}}, alice_.token).error_code(), "unknown_op");
  expect_alive(*w_);
}

TEST_P(BadInput, OversizedMessagesCloseWith1009) {
  open({"--max-frame-bytes", "4096"});  // hard limit after hello: max(4 x 4096, 1 MiB)
  {  // before hello, the frame limit itself is the hard limit
    ws_client w(srv_->port());
    w.send_text(std::string(5000, ' '));
    auto c = w.wait_close();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, 1009);
  }
  {  // after hello, over the frame limit is a typed error; over the hard limit closes
    ws_client w(srv_->port());
    w.hello(alice_.token);
    w.send_text(std::string(5000, ' '));
    auto e = w.next("error");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(error_code(*e), "too_large");
    w.send_text(std::string((1 << 20) + 10, ' '));
    auto c = w.wait_close();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, 1009);
  }
  expect_alive(*w_);
}

TEST_P(BadInput, ConversationOfOthersIsForbidden) {
  open();
  auto carol = register_user(*http_, "carol");
  ws_client w(srv_->port());
  w.hello(carol.token);
  EXPECT_EQ(error_code(w.call("history", {{"conv", conv_}})), "forbidden");
  expect_alive(w);
  EXPECT_EQ(error_code(w.call("send", send_fields(conv_, "c", "hi"))), "forbidden");
  EXPECT_EQ(error_code(w.call("members", {{"conv", conv_}})), "forbidden");
  EXPECT_EQ(error_code(w.call("conversation", {{"conv", conv_}})), "forbidden");
  expect_alive(w);
  auto r = http_->post("history", {{"conv", conv_}}, carol.token);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_TRUE(w.drain_events(100ms).empty());
}

TEST_P(BadInput, ConversationThatDoesNotExist) {
  open();
  EXPECT_EQ(error_code(w_->call("send", send_fields(987654, "n", "hello?"))), "not_found");
  expect_alive(*w_);
  EXPECT_EQ(error_code(w_->call("history", {{"conv", 987654}})), "not_found");
  EXPECT_EQ(error_code(w_->call("create_direct", {{"username", "nobody"}})), "not_found");
  expect_alive(*w_);
  auto r = http_->post("send", send_fields(987654, "n2", "hello?"), alice_.token);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.error_code(), "not_found");
}

TEST_P(BadInput, FloodIsRateLimited) {
  open({"--rate-per-sec", "5", "--rate-burst", "10"});
  auto dev = login(*http_, "alice", "flooder");  // a device whose bucket is full
  ws_client w(srv_->port());
  w.hello(dev.token);
  std::vector<std::int64_t> ids;
  const auto t0 = steady::now();
  for (int i = 0; i < 50; ++i) ids.push_back(w.send_op("send", send_fields(conv_, "f" + std::to_string(i), "flood")));
  int ok = 0, limited = 0;
  for (auto id : ids) {
    auto r = w.reply(id);
    ASSERT_TRUE(r.has_value());
    if (frame_type(*r) == "result") {
      ++ok;
    } else {
      EXPECT_EQ(error_code(*r), "rate_limited");
      EXPECT_TRUE(jobj(*r, "error").at("retryable").as_bool());
      ++limited;
    }
  }
  const double secs = std::chrono::duration<double>(steady::now() - t0).count();
  // The burst of 10, plus at most what 5/s refilled while the flood lasted.
  EXPECT_GE(ok, 10);
  EXPECT_LE(ok, 10 + static_cast<int>(secs * 5) + 1);
  EXPECT_EQ(ok + limited, 50);
  EXPECT_GE(limited, 30);
  expect_alive(w);  // ping is not rate limited; the connection stays open
  // After waiting, sends succeed again.
  std::this_thread::sleep_for(1200ms);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(frame_type(w.call("send", send_fields(conv_, "later" + std::to_string(i), "calm"))), "result");
  // Only accepted sends were stored.
  EXPECT_EQ(messages_of(full_history(*http_, bob_.token, conv_)).size(), static_cast<std::size_t>(ok + 3));
}

TEST_P(BadInput, SlowConsumerIsDisconnected) {
  std::vector<std::string> extra = no_rate_limit;
  extra.insert(extra.end(), {"--max-outbox-bytes", "8192"});
  open(extra);
  auto slow = register_user(*http_, "slow");
  auto watcher = register_user(*http_, "watcher");
  const auto conv = jint(http_->call("create_group", {{"title", "firehose"}, {"members", json::array{slow.user_id, watcher.user_id}}},
                                     alice_.token),
                         "conv");
  ws_client::options small;
  small.receive_buffer = 4096;
  ws_client ws(srv_->port(), small);
  ws.hello(slow.token);
  ws.until_synced();
  ws_client ww(srv_->port());
  ww.hello(watcher.token);
  ww.until_synced();

  // The slow client stops reading; alice produces ~4 KB events until the server gives up on it
  // (its log says so) or the bound is reached. The watcher keeps reading all along.
  const std::string text(4000, 'z');
  const int max_messages = 3000;
  int produced = 0;
  bool kicked = false;
  for (; produced < max_messages && !kicked; ++produced) {
    w_->call_ok("send", send_fields(conv, "fire" + std::to_string(produced), text));
    auto f = ww.next_event();
    ASSERT_EQ(jint(ev(f), "seq"), produced + 2);
    w_->drain_events(0ms);  // alice's own copies of the events
    if (produced % 25 == 24) {
      std::ifstream log(srv_->log_path());
      std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      kicked = all.find("slow consumer disconnected") != std::string::npos;
    }
  }
  ASSERT_TRUE(kicked) << "no disconnect after " << produced << " events of 4 KB";
  // The slow client, reading again, gets what was already in flight, then the close.
  auto code = ws.wait_close(20s);
  ASSERT_TRUE(code.has_value()) << "the slow consumer's connection was not closed";
  EXPECT_TRUE(*code == 1008 || *code == 0) << "close code " << *code << " " << ws.close_reason();
  auto got = ws.drain_events(0ms);
  std::cerr << "[   info   ] slow consumer cut off after " << produced << " events of 4 KB; it then read " << got.size()
            << " events and close code " << *code << " (" << ws.close_reason() << ")\n";
  EXPECT_LT(got.size(), static_cast<std::size_t>(produced));
  if (!got.empty()) {
    EXPECT_EQ(positions_of(got), range(jint(got.front(), "pos"), jint(got.back(), "pos")));
  }
  // Everyone else is still served.
  EXPECT_FALSE(ww.closed());
  expect_alive(ww);
  expect_alive(*w_);
  auto last = w_->call_ok("send", send_fields(conv, "after-kick", "still serving"));
  EXPECT_EQ(jint(ev(ww.next_event()), "seq"), jint(last, "seq"));
}

TEST_P(BadInput, HelloTimeout) {
  open({"--handshake-timeout", "1"});
  const auto t0 = steady::now();
  ws_client silent(srv_->port());
  auto code = silent.wait_close(5s);
  const auto waited = steady::now() - t0;
  ASSERT_TRUE(code.has_value()) << "a WebSocket that never said hello stayed open";
  EXPECT_EQ(*code, 1008) << silent.close_reason();
  EXPECT_GE(waited, 900ms);
  // A ping is not a hello: the timer still fires.
  ws_client pinger(srv_->port());
  expect_alive(pinger);
  ASSERT_TRUE(pinger.wait_close(5s).has_value());
  // A connection that said hello is not affected by the timer.
  ws_client greeter(srv_->port());
  greeter.hello(alice_.token);
  std::this_thread::sleep_for(1500ms);
  expect_alive(greeter);
}

// ============================================================================ 9. graceful shutdown

// The single-node default (in-process broker): typing, receipts and presence between two users.
TEST_P(E2E, TypingReceiptsAndPresenceOnOneNode) {
  auto& srv = start({"--typing-ttl-ms", "1000"});
  http_client http(srv.port());
  auto a = register_user(http, "alice"), b = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  ws_client wa(srv.port());
  wa.hello(a.token);
  wa.until_synced();
  auto p = wa.call_ok("presence", {{"users", json::array{b.user_id}}});
  EXPECT_FALSE(jarr(p, "users")[0].at("online").as_bool());
  auto wb = std::make_unique<ws_client>(srv.port());
  wb->hello(b.token);
  auto on = wa.next("presence");
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->at("online").as_bool());
  wb->call_ok("typing", {{"conv", conv}});
  auto t = wa.next("typing");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->at("active").as_bool());
  auto t2 = wa.next("typing", 5s);
  ASSERT_TRUE(t2);
  EXPECT_FALSE(t2->at("active").as_bool());  // expired on its own
  auto ack = wa.call_ok("send", send_fields(conv, "m", "hi"));
  wb->next_event();
  wb->call_ok("delivered", {{"conv", conv}, {"seq", jint(ack, "seq")}});
  auto rc = wa.next("receipt");
  ASSERT_TRUE(rc);
  EXPECT_EQ(jint(*rc, "delivered_seq"), jint(ack, "seq"));
  wb->call_ok("read", {{"conv", conv}, {"seq", jint(ack, "seq")}});
  rc = wa.next("receipt");
  ASSERT_TRUE(rc);
  EXPECT_EQ(jint(*rc, "read_seq"), jint(ack, "seq"));
  wb->close();
  wb.reset();
  auto off = wa.next("presence");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->at("online").as_bool());
  EXPECT_GT(jint(*off, "last_seen_ts"), 0);
}

// hello "batch":true: frames queued behind one another go out as one "batch" message, in order.
TEST_P(E2E, BatchedFramesKeepOrderAndContent) {
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  auto a = register_user(http, "alice"), b = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  constexpr int n = 300;
  for (int i = 0; i < n; ++i) http.call("send", send_fields(conv, "m" + std::to_string(i), "t" + std::to_string(i)), a.token);
  ws_client w(srv.port());
  auto id = w.send_op("hello", {{"token", b.token}, {"since", 0}, {"batch", true}});
  auto h = w.reply(id);
  ASSERT_TRUE(h);
  ASSERT_EQ(frame_type(*h), "result") << dump(*h);
  // Catch-up queues a page of events at once: all but the first leave in batches.
  std::vector<json::object> events;
  int batches = 0;
  bool synced = false;
  while (!synced) {
    auto f = w.next("", 10s);
    ASSERT_TRUE(f) << "no synced frame";
    std::vector<json::object> frames;
    if (frame_type(*f) == "batch") {
      ++batches;
      for (auto& x : jarr(*f, "frames")) frames.push_back(x.as_object());
      EXPECT_GT(frames.size(), 1u);
    } else {
      frames.push_back(*f);
    }
    for (auto& x : frames) {
      if (frame_type(x) == "event") events.push_back(x);
      if (frame_type(x) == "synced") synced = true;
    }
  }
  EXPECT_GT(batches, 0);
  EXPECT_EQ(positions_of(events), range(1, n + 1));
  EXPECT_EQ(jstr(ev(events.back()), "text"), "t" + std::to_string(n - 1));
  // A non-boolean batch is refused.
  ws_client w2(srv.port());
  EXPECT_EQ(error_code(w2.call("hello", {{"token", b.token}, {"batch", "yes"}})), "invalid_field");
}

// On the sending connection, a message's own event is queued before the send's result (the
// session holds live events for one strand turn while a request is in flight, so that the two
// can leave in one write): with and without "batch", every send gets its event once, with the
// seq of its result, and before the result unless a catch-up delivered it (hello's catch-up, or
// the re-read when the user's channel goes live), which then ends with a synced frame.
TEST_P(E2E, ASendersOwnEventComesBeforeItsResult) {
  auto& srv = start(no_rate_limit);
  http_client http(srv.port());
  auto a = register_user(http, "alice"), b = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"user_id", b.user_id}}, a.token), "conv");
  for (bool batch : {false, true}) {
    SCOPED_TRACE(batch ? "batch" : "no batch");
    ws_client w(srv.port());
    std::deque<json::object> got;  // frames in arrival order, batches unwrapped
    auto take = [&]() -> std::optional<json::object> {
      while (got.empty()) {
        auto f = w.next("", 10s);
        if (!f) return std::nullopt;
        if (frame_type(*f) == "batch") {
          for (auto& x : jarr(*f, "frames")) got.push_back(x.as_object());
        } else {
          got.push_back(*f);
        }
      }
      auto f = std::move(got.front());
      got.pop_front();
      return f;
    };
    w.send_op("hello", {{"token", a.token}, {"batch", batch}});
    for (bool synced = false; !synced;) {
      auto f = take();
      ASSERT_TRUE(f) << "no synced frame";
      synced = frame_type(*f) == "synced";
    }
    for (int i = 0; i < 40; ++i) {
      const std::string cid = std::string(batch ? "b" : "p") + std::to_string(i);
      const auto id = w.send_op("send", send_fields(conv, cid, "x"));
      std::optional<std::int64_t> event_seq, result_seq;
      bool event_late = false;
      while (!event_seq || !result_seq) {
        auto f = take();
        ASSERT_TRUE(f) << "send " << i << ": no " << (result_seq ? "event" : "result");
        const auto type = frame_type(*f);
        if (type == "event") {
          EXPECT_FALSE(event_seq) << "two events for send " << i;
          EXPECT_EQ(jstr(ev(*f), "client_id"), cid);
          event_seq = jint(ev(*f), "seq");
          event_late = result_seq.has_value();
        } else if (type == "result") {
          ASSERT_EQ(jint(*f, "id"), id);
          result_seq = jint(jobj(*f, "data"), "seq");
        }  // else a synced frame of a re-read: skipped
      }
      EXPECT_EQ(*result_seq, *event_seq);
      if (!event_late) continue;
      // After its result: only a catch-up may have delivered it, and a catch-up ends with synced.
      for (bool synced = false; !synced;) {
        auto f = take();
        ASSERT_TRUE(f) << "send " << i << ": its event came after its result, outside a catch-up";
        synced = frame_type(*f) == "synced";
      }
    }
  }
}

TEST_P(E2E, SigtermClosesWebSocketsWith1001AndExitsZero) {
  auto& srv = start();
  http_client http(srv.port());
  auto alice = register_user(http, "alice");
  auto bob = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"username", "bob"}}, alice.token), "conv");
  ws_client w(srv.port());
  w.hello(alice.token);
  auto ack = w.call_ok("send", send_fields(conv, "last", "before shutdown"));
  w.next_event();

  ASSERT_EQ(::kill(srv.pid(), SIGTERM), 0);
  auto code = w.wait_close(10s);
  ASSERT_TRUE(code.has_value()) << "the WebSocket was not closed on SIGTERM";
  EXPECT_EQ(*code, 1001) << w.close_reason();
  auto status = srv.wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << "confabd did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status)) << "status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0);

  // What was acked before the shutdown is there after a restart.
  restart(srv);
  http_client http2(srv.port());
  auto msgs = messages_of(full_history(http2, bob.token, conv));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(jint(msgs[0], "seq"), jint(ack, "seq"));
}

// ============================================================================ regressions

// Regression: catch-up once queued a whole storage page (256 events) regardless of the outbox
// bound, so a backlog page larger than --max-outbox-bytes (here: 300 messages at the 16 KiB text
// limit against the default 4 MiB outbox) got the device disconnected with 1008 before anything
// was sent — and again on every reconnect from the same cursor. Catch-up now stops queueing at
// half the bound and re-reads once the client has drained.
TEST_P(E2E, CatchUpOfLargeBacklogCompletes) {
  auto& srv = start(no_rate_limit);  // default --max-text-bytes 16384, --max-outbox-bytes 4 MiB
  http_client http(srv.port());
  auto alice = register_user(http, "alice");
  auto bob = register_user(http, "bob");
  const auto conv = jint(http.call("create_direct", {{"username", "bob"}}, alice.token), "conv");
  ws_client wa(srv.port());
  wa.hello(alice.token);
  const std::string text(16384, 'x');
  for (int i = 0; i < 300; ++i) wa.call_ok("send", send_fields(conv, "big" + std::to_string(i), text));
  for (int attempt = 0; attempt < 2; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    ws_client wb(srv.port());
    wb.hello(bob.token, 0);
    std::int64_t synced = -1;
    auto all = wb.until_synced(&synced, 30s);
    EXPECT_EQ(synced, 301);
    EXPECT_EQ(positions_of(all), range(1, 301));
  }
}

// ============================================================================ instantiation

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Backends, E2E, ::testing::Values("sqlite", "postgres"), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, BadInput, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
