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
