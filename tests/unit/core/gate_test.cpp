#include "core/gate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace asio = boost::asio;

namespace {

// Starts a coroutine that awaits g.close() and sets *done afterwards.
void spawn_close(asio::io_context& ioc, confab::gate& g, bool* done) {
  asio::co_spawn(
      ioc,
      [&g, done]() -> asio::awaitable<void> {
        co_await g.close();
        *done = true;
      },
      asio::detached);
}

}  // namespace

TEST(gate, counts_entries_and_refuses_them_once_closed) {
  asio::io_context ioc;
  confab::gate g;
  EXPECT_TRUE(g.enter());
  auto p = g.try_enter();
  EXPECT_TRUE(p);
  EXPECT_EQ(g.count(), 2u);
  bool done = false;
  spawn_close(ioc, g, &done);
  ioc.poll();
  EXPECT_TRUE(g.closed());
  EXPECT_FALSE(g.enter());
  EXPECT_FALSE(g.try_enter());
  EXPECT_EQ(g.count(), 2u);  // refused entries are not counted
  g.leave();
  p.reset();
  ioc.restart();
  ioc.poll();
  EXPECT_TRUE(done);
}

TEST(gate, close_completes_only_when_the_last_piece_of_work_leaves) {
  asio::io_context ioc;
  confab::gate g;
  auto a = g.try_enter();
  auto b = g.try_enter();
  bool done = false;
  spawn_close(ioc, g, &done);
  ioc.poll();
  EXPECT_FALSE(done);
  a.reset();
  ioc.restart();
  ioc.poll();
  EXPECT_FALSE(done);  // b is still inside
  b.reset();
  EXPECT_FALSE(done);  // completion is posted, never run inside leave()
  ioc.restart();
  ioc.poll();
  EXPECT_TRUE(done);
}

TEST(gate, close_of_an_empty_gate_completes_at_once_and_every_waiter_completes) {
  asio::io_context ioc;
  confab::gate g;
  bool first = false, second = false;
  spawn_close(ioc, g, &first);
  spawn_close(ioc, g, &second);  // a second close is allowed (idempotent)
  ioc.poll();
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

TEST(gate, moved_passes_leave_once) {
  asio::io_context ioc;
  confab::gate g;
  auto a = g.try_enter();
  confab::gate::pass b(std::move(a));
  EXPECT_FALSE(a);
  EXPECT_EQ(g.count(), 1u);
  confab::gate::pass c;
  c = std::move(b);
  EXPECT_EQ(g.count(), 1u);
  c.reset();
  c.reset();
  EXPECT_EQ(g.count(), 0u);
}

TEST(gate, work_leaving_on_other_threads_completes_the_close_on_the_waiters_executor) {
  asio::io_context ioc;
  confab::gate g;
  constexpr int n = 8;
  std::vector<confab::gate::pass> passes;
  for (int i = 0; i < n; ++i) passes.push_back(g.try_enter());
  bool done = false;
  std::thread::id ran_on;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await g.close();
        done = true;
        ran_on = std::this_thread::get_id();
      },
      asio::detached);
  ioc.poll();
  std::vector<std::thread> threads;
  for (auto& p : passes) threads.emplace_back([p = std::move(p)]() mutable { p.reset(); });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(done);
  ioc.restart();
  ioc.run();  // the close's completion keeps run() busy until it ran
  EXPECT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}
