// storage::feed on each backend (one binary per backend, as the conformance suite): reads past a
// consumer's cursor, monotonic commits, independent consumers, round robin, bad arguments, and
// no skipped or repeated event while two stores (two nodes) commit concurrently.
#include "backend_fixture.hpp"
#include "storage/feed.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

namespace confab::testing {
namespace {
namespace asio = boost::asio;
using storage::feed_position;

template <class T>
T run(asio::awaitable<T> a) {
  asio::io_context ioc;
  auto fut = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.run();
  return fut.get();
}

class feed_test : public ::testing::Test {
 protected:
  void SetUp() override {
    be_ = make_backend();
    st_ = be_->open();
    feed_ = std::make_unique<storage::feed>(*be_->executor());
    a_ = *run(st_->create_user("alice", "h"));
    b_ = *run(st_->create_user("bob", "h"));
    da_ = run(st_->create_device(a_, "d", "ta"))->id;
    direct_ = run(st_->create_direct(a_, da_, b_))->conv;
    group_ = *run(st_->create_group(a_, da_, "g", {b_}));
  }
  void TearDown() override {
    feed_.reset();
    if (st_) st_->stop();
  }
  void send(storage::store& st, id_t conv, const std::string& cid) {
    auto r = run(st.send({a_, da_, conv, cid, "x", "text/plain", std::nullopt}));
    ASSERT_TRUE(r) << r.error().message;
  }
  std::vector<std::pair<id_t, std::int64_t>> keys(const storage::feed_batch& b) {
    std::vector<std::pair<id_t, std::int64_t>> out;
    for (const auto& e : b.events) out.emplace_back(e.conv, e.seq);
    return out;
  }

  std::unique_ptr<backend> be_;
  std::unique_ptr<storage::store> st_;
  std::unique_ptr<storage::feed> feed_;
  id_t a_ = 0, b_ = 0, da_ = 0, direct_ = 0, group_ = 0;
};

TEST_F(feed_test, reads_every_event_past_the_cursor_and_nothing_after_its_commit) {
  send(*st_, direct_, "m1");
  send(*st_, group_, "m2");
  auto b = run(feed_->read("search", 100));
  ASSERT_TRUE(b) << b.error().message;
  // Both conversations: seq 1 (created) and 2 (the message), ascending per conversation.
  EXPECT_EQ(keys(*b), (std::vector<std::pair<id_t, std::int64_t>>{{direct_, 1}, {direct_, 2}, {group_, 1}, {group_, 2}}));
  EXPECT_EQ(b->reached, (std::vector<feed_position>{{direct_, 2}, {group_, 2}}));
  EXPECT_EQ(b->events[1].text, "x");
  EXPECT_EQ(b->events[1].kind, event_kind::message);

  // Not committed: read again, the same.
  EXPECT_EQ(keys(*run(feed_->read("search", 100))), keys(*b));
  ASSERT_TRUE(run(feed_->commit("search", b->reached)));
  EXPECT_TRUE(run(feed_->read("search", 100))->events.empty());
  send(*st_, group_, "m3");
  EXPECT_EQ(keys(*run(feed_->read("search", 100))), (std::vector<std::pair<id_t, std::int64_t>>{{group_, 3}}));
}

TEST_F(feed_test, consumers_have_their_own_cursors_and_commits_never_move_back) {
  auto b = run(feed_->read("push", 100));
  ASSERT_TRUE(run(feed_->commit("push", b->reached)));
  EXPECT_EQ(run(feed_->read("webhooks", 100))->events.size(), 2u);  // another consumer: from the start
  // A late commit of an older position changes nothing.
  ASSERT_TRUE(run(feed_->commit("push", {{direct_, 0}, {group_, 1}})));
  EXPECT_EQ(*run(feed_->cursor("push")), (std::vector<feed_position>{{direct_, 1}, {group_, 1}}));
  EXPECT_TRUE(run(feed_->read("push", 100))->events.empty());
}

TEST_F(feed_test, a_limited_read_goes_round_robin_over_conversations) {
  for (int i = 0; i < 5; ++i) send(*st_, direct_, "d" + std::to_string(i));
  send(*st_, group_, "g");
  auto first = run(feed_->read("idx", 3));
  ASSERT_EQ(first->events.size(), 3u);
  EXPECT_EQ(first->events.back().conv, direct_);
  // Starting after direct_, the group comes next although direct_ has more.
  auto second = run(feed_->read("idx", 3, first->next_conv));
  ASSERT_FALSE(second->events.empty());
  EXPECT_EQ(second->events.front().conv, group_);
}

TEST_F(feed_test, bad_arguments_are_typed_errors) {
  EXPECT_EQ(run(feed_->read("", 10)).error().code, errc::invalid_field);
  EXPECT_EQ(run(feed_->read("x", 0)).error().code, errc::invalid_field);
  EXPECT_EQ(run(feed_->read("x", 10001)).error().code, errc::invalid_field);
  EXPECT_EQ(run(feed_->commit("", {{direct_, 1}})).error().code, errc::invalid_field);
}

// A lease has one holder at a time: another's claim fails until the holder's lease has expired
// or been released; the holder renews its own.
TEST_F(feed_test, a_lease_has_one_holder_until_it_expires_or_is_released) {
  using namespace std::chrono_literals;
  auto other = be_->open();  // a second node on the same database
  storage::feed feed2(*be_->executor());  // the executor of the store opened last: other's
  EXPECT_TRUE(*run(feed_->claim("search", "node-a", 60s)));
  EXPECT_FALSE(*run(feed2.claim("search", "node-b", 60s)));
  EXPECT_TRUE(*run(feed_->claim("search", "node-a", 60s))) << "the holder renews";
  EXPECT_TRUE(*run(feed2.claim("file", "node-b", 60s))) << "leases are per consumer";
  ASSERT_TRUE(run(feed2.release("search", "node-b")));  // not its lease: nothing changes
  EXPECT_FALSE(*run(feed2.claim("search", "node-b", 60s)));
  ASSERT_TRUE(run(feed_->release("search", "node-a")));
  EXPECT_TRUE(*run(feed2.claim("search", "node-b", 50ms))) << "released: taken at once";
  EXPECT_FALSE(*run(feed_->claim("search", "node-a", 60s)));
  std::this_thread::sleep_for(100ms);  // past node-b's 50 ms lease
  EXPECT_TRUE(*run(feed_->claim("search", "node-a", 60s))) << "expired: taken over";
  EXPECT_EQ(run(feed_->claim("search", "", 60s)).error().code, errc::invalid_field);
  EXPECT_EQ(run(feed_->claim("search", "node-a", 0ms)).error().code, errc::invalid_field);
  other->stop();
}

// A claim with want asks the holder for the lease: the holder hands it over at its next claim,
// and no third node takes it meanwhile, even expired.
TEST_F(feed_test, a_wanted_lease_is_handed_over_at_the_holders_next_claim) {
  using namespace std::chrono_literals;
  EXPECT_TRUE(*run(feed_->claim("search", "node-a", 60s)));
  EXPECT_FALSE(*run(feed_->claim("search", "reindex", 60s, true)));
  EXPECT_FALSE(*run(feed_->claim("search", "node-b", 60s))) << "a's lease runs";
  EXPECT_FALSE(*run(feed_->claim("search", "node-a", 60s))) << "a hands it over";
  EXPECT_TRUE(*run(feed_->claim("search", "reindex", 60s, true)));
  EXPECT_FALSE(*run(feed_->claim("search", "node-a", 60s)));
  ASSERT_TRUE(run(feed_->release("search", "reindex")));
  EXPECT_TRUE(*run(feed_->claim("search", "node-a", 50ms))) << "released: a node takes it back";
  EXPECT_FALSE(*run(feed_->claim("search", "reindex", 60s, true)));
  std::this_thread::sleep_for(100ms);  // a's lease expires without a's next claim (a died)
  EXPECT_FALSE(*run(feed_->claim("search", "node-b", 60s))) << "kept for the one that asked";
  EXPECT_TRUE(*run(feed_->claim("search", "reindex", 60s, true)));
}

// Progress: events handled of events committed; reset forgets the cursor.
TEST_F(feed_test, progress_counts_handled_events_and_reset_starts_over) {
  send(*st_, direct_, "m1");
  auto p = run(feed_->progress("c"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->total, 3);  // two "created" events and m1
  EXPECT_EQ(p->done, 0);
  EXPECT_FALSE(p->started);
  auto b = run(feed_->read("c", 2));
  ASSERT_TRUE(b);
  ASSERT_TRUE(run(feed_->commit("c", b->reached)));
  p = run(feed_->progress("c"));
  EXPECT_EQ(p->done, 2);
  EXPECT_TRUE(p->started);
  ASSERT_TRUE(run(feed_->reset("c")));
  EXPECT_EQ(run(feed_->progress("c"))->done, 0);
  EXPECT_EQ(run(feed_->read("c", 10))->events.size(), 3u) << "read from the start again";
}

// Two runners of one consumer on two nodes: only the lease holder handles batches; when it stops
// (releasing the lease) the other takes over and handles what came after, each event once.
TEST_F(feed_test, runners_sharing_a_consumer_take_turns_by_lease) {
  using namespace std::chrono_literals;
  auto other = be_->open();
  storage::feed feed2(*be_->executor());  // the executor of the store opened last: other's
  asio::io_context ioc;
  std::map<std::string, std::vector<std::pair<id_t, std::int64_t>>> handled;
  auto runner = [&](storage::feed& f, std::string node) {
    storage::feed_runner::options o;
    o.poll = 20ms;
    o.lease_holder = node;
    return std::make_unique<storage::feed_runner>(
        ioc.get_executor(), f, "shared",
        [&handled, node, this](const storage::feed_batch& b) -> asio::awaitable<result<nothing>> {
          for (auto& k : keys(b)) handled[node].push_back(k);
          co_return nothing{};
        },
        o);
  };
  auto ra = runner(*feed_, "node-a");
  ASSERT_TRUE(*run(feed_->claim("shared", "node-a", 60s)));  // node-a holds it first
  auto rb = runner(feed2, "node-b");
  ra->start();
  rb->start();
  auto run_until = [&](auto done) {
    for (int i = 0; i < 500 && !done(); ++i) ioc.run_for(10ms);  // bounded: 5 s
  };
  send(*st_, direct_, "m1");
  run_until([&] { return handled["node-a"].size() == 3; });  // two "created" events and m1
  EXPECT_EQ(handled["node-a"].size(), 3u);
  EXPECT_EQ(handled["node-b"].size(), 0u) << "not the holder";
  bool a_stopped = false, b_stopped = false;
  asio::co_spawn(ioc, ra->stop(), [&](std::exception_ptr) { a_stopped = true; });
  run_until([&] { return a_stopped; });
  send(*st_, direct_, "m2");
  run_until([&] { return handled["node-b"].size() == 1; });
  EXPECT_EQ(handled["node-b"], (std::vector<std::pair<id_t, std::int64_t>>{{direct_, 3}}));
  EXPECT_EQ(handled["node-a"].size(), 3u) << "the stopped node handled nothing more";
  asio::co_spawn(ioc, rb->stop(), [&](std::exception_ptr) { b_stopped = true; });
  run_until([&] { return b_stopped; });
  ASSERT_TRUE(b_stopped);
  other->stop();
}

// Two stores on one database (two nodes, two writer connections) commit into the same
// conversations while a consumer reads and commits: every event is seen once, in seq order per
// conversation. Bounded: 2 writers x 60 sends.
TEST_F(feed_test, concurrent_writers_on_two_nodes_skip_and_repeat_nothing) {
  auto other = be_->open();
  std::atomic<int> writers_done{0};
  // Two writers into shared conversations may collide on the members' stream positions and see a
  // retryable unavailable (a storage issue of its own, not the feed's): retry as a client would,
  // with the same client id (idempotent), at most 10 times.
  auto writer = [&](storage::store* st, std::string tag) {
    for (int i = 0; i < 60; ++i) {
      const std::string cid = tag + std::to_string(i);
      result<send_ack> r = make_error(errc::unavailable, "not sent");
      for (int attempt = 0; attempt < 10 && !r && r.error().code == errc::unavailable; ++attempt)
        r = run(st->send({a_, da_, i % 2 ? direct_ : group_, cid, "x", "text/plain", std::nullopt}));
      EXPECT_TRUE(r) << r.error().message;
    }
    ++writers_done;
  };
  std::thread w1(writer, st_.get(), "a");
  std::thread w2(writer, other.get(), "b");
  std::map<id_t, std::vector<std::int64_t>> seen;
  id_t next = 0;
  for (int round = 0; round < 100000; ++round) {
    const bool last_round = writers_done.load() == 2;
    auto b = run(feed_->read("check", 7, next));
    ASSERT_TRUE(b) << b.error().message;
    for (const auto& e : b->events) seen[e.conv].push_back(e.seq);
    ASSERT_TRUE(run(feed_->commit("check", b->reached)));
    next = b->events.empty() ? 0 : b->next_conv;
    if (last_round && b->events.empty()) break;
  }
  w1.join();
  w2.join();
  other->stop();
  std::int64_t total = 0;
  for (auto& [conv, seqs] : seen) {
    std::vector<std::int64_t> want;
    for (std::int64_t s = 1; s <= static_cast<std::int64_t>(seqs.size()); ++s) want.push_back(s);
    EXPECT_EQ(seqs, want) << "conversation " << conv;
    total += static_cast<std::int64_t>(seqs.size());
  }
  EXPECT_EQ(total, 2 + 120);  // two "created" events and every send
}

}  // namespace
}  // namespace confab::testing
