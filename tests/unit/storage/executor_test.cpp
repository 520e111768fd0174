// The executor's batch logic (savepoints, commit outcomes, retries) against a scripted
// connection: which statements ran and what each returned. The SQL itself is tested against real
// SQLite and PostgreSQL by the conformance suite; this pins the transaction bookkeeping, whose
// failure paths a real database will not produce on demand.
#include "storage/executor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

namespace confab::storage {
namespace {
namespace asio = boost::asio;

struct script {
  std::mutex mu;
  std::vector<std::string> log;       // every exec()/query() in order
  std::string fail_exec;              // exec() of exactly this SQL fails ...
  int fail_times = 0;                 // ... this many times
  bool fail_breaks = false;           // ... and marks the connection broken
  bool fail_retry = false;            // ... and asks for a transaction re-run
  int jobs_in_txn = 0;                // "job" statements since BEGIN: failures hit only batches with jobs
  std::string fail_query;             // query() of exactly this SQL fails as a deadlock would ...
  int fail_query_times = 0;           // ... this many times
};

// The text PostgreSQL's driver reports for a deadlock (pg_backend.cpp: primary message + SQLSTATE).
constexpr std::string_view deadlock_text = "postgres: deadlock detected (SQLSTATE 40P01)";

class scripted_connection final : public connection {
 public:
  explicit scripted_connection(script& s) : s_(s) {}
  db_result<rows> query(std::string_view sql, std::span<const param>) override {
    std::lock_guard l(s_.mu);
    s_.log.emplace_back(sql);
    if (sql.substr(0, 4) == "job ") ++s_.jobs_in_txn;
    if (sql == s_.fail_query && s_.fail_query_times > 0) {
      --s_.fail_query_times;
      request_retry(std::string(deadlock_text));  // as the drivers do for 40P01 / SQLITE_BUSY
      return db_error{errc::unavailable, std::string(deadlock_text), true};
    }
    return rows{};
  }
  db_result<void> exec(std::string_view sql) override {
    std::lock_guard l(s_.mu);
    s_.log.emplace_back(sql);
    if (sql == "BEGIN") s_.jobs_in_txn = 0;
    if (sql == s_.fail_exec && s_.fail_times > 0 && s_.jobs_in_txn > 0) {
      --s_.fail_times;
      broken = s_.fail_breaks;
      retry_requested = s_.fail_retry;
      return db_error{errc::unavailable, "scripted failure", s_.fail_retry};
    }
    return {};
  }

 private:
  script& s_;
};

class executor_test : public ::testing::Test {
 protected:
  std::unique_ptr<executor> make() {
    auto ex = std::make_unique<executor>(
        [this]() -> db_result<std::unique_ptr<connection>> { return std::make_unique<scripted_connection>(s_); },
        executor::options{1, 64});
    ex->set_on_uncertain_commit([this] { ++uncertain_; });
    return ex;
  }
  // Runs queue() (which queues writes on ioc_) while the writer is held by a gate job, so that
  // everything it queues shares one batch; then runs them all.
  void gated(executor& ex, const std::function<void()>& queue) {
    std::promise<void> open, running;
    std::shared_future<void> gate = open.get_future().share();
    auto gate_running = running.get_future();
    auto signalled = std::make_shared<std::atomic<bool>>(false);
    auto held = asio::co_spawn(ioc_, ex.write<int>([gate, &running, signalled](write_context&) -> result<int> {
                                 if (!signalled->exchange(true)) running.set_value();  // a re-run must not set it twice
                                 gate.wait();
                                 return 0;
                               }),
                               asio::use_future);
    ioc_.poll();
    // Regression (flaky under load): queue the jobs only once the writer is inside the gate
    // job, or it may take some of them into the gate's batch and split them over two batches.
    gate_running.wait();
    queue();
    ioc_.poll();  // every job is queued now
    open.set_value();
    ioc_.run();
    (void)held.get();
  }
  std::future<result<int>> queue_job(executor& ex, int i, std::function<bool(int)> fail) {
    return asio::co_spawn(ioc_,
                          ex.write<int>([this, i, fail](write_context& ctx) -> result<int> {
                            ++runs_;
                            (void)ctx.db.query("job " + std::to_string(i), {});
                            if (fail(i)) return make_error(errc::forbidden, "no");
                            ctx.after_commit = [this] { ++hooks_; };
                            return i;
                          }),
                          asio::use_future);
  }
  // Queues n writes in one batch; job i fails when fail(i).
  std::vector<result<int>> write_batch(executor& ex, int n, std::function<bool(int)> fail = [](int) { return false; }) {
    std::vector<std::future<result<int>>> fs;
    gated(ex, [&] {
      for (int i = 0; i < n; ++i) fs.push_back(queue_job(ex, i, fail));
    });
    std::vector<result<int>> out;
    for (auto& f : fs) out.push_back(f.get());
    return out;
  }
  int count(const std::string& sql) {
    std::lock_guard l(s_.mu);
    return static_cast<int>(std::count(s_.log.begin(), s_.log.end(), sql));
  }

  script s_;
  asio::io_context ioc_;
  std::atomic<int> runs_{0}, hooks_{0}, uncertain_{0};
};

TEST_F(executor_test, a_failed_job_is_rolled_back_alone_and_the_rest_commit) {
  auto ex = make();
  auto rs = write_batch(*ex, 3, [](int i) { return i == 1; });
  ex->stop();
  EXPECT_TRUE(rs[0]);
  EXPECT_EQ(rs[1].error().code, errc::forbidden);
  EXPECT_TRUE(rs[2]);
  EXPECT_EQ(hooks_, 2);  // only the successful jobs' hooks, after COMMIT
  EXPECT_EQ(count("ROLLBACK TO SAVEPOINT confab_job; RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job"), 1);
}

TEST_F(executor_test, a_failed_last_job_is_rolled_back_before_commit) {
  auto ex = make();
  auto rs = write_batch(*ex, 1, [](int) { return true; });
  ex->stop();
  EXPECT_EQ(rs[0].error().code, errc::forbidden);
  EXPECT_EQ(count("ROLLBACK TO SAVEPOINT confab_job"), 1);
  EXPECT_EQ(hooks_, 0);
}

// Regression: a COMMIT lost with its connection was treated like a conflict and the whole batch
// re-run on a new connection, although the first COMMIT may have landed (duplicate groups,
// "username taken" for a just-created account, events never announced).
TEST_F(executor_test, a_commit_with_unknown_outcome_is_not_rerun_and_is_reported) {
  s_.fail_exec = "COMMIT";
  s_.fail_times = 1;
  s_.fail_breaks = true;
  auto ex = make();
  auto rs = write_batch(*ex, 4);
  ex->stop();
  for (auto& r : rs) EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_EQ(runs_, 4);       // each job ran once: no re-run
  EXPECT_EQ(hooks_, 0);      // nothing announced as committed
  EXPECT_EQ(uncertain_, 1);  // but sessions are told to re-check storage
}

TEST_F(executor_test, a_serialization_failure_reruns_the_whole_batch) {
  s_.fail_exec = "COMMIT";
  s_.fail_times = 1;
  s_.fail_retry = true;
  auto ex = make();
  auto rs = write_batch(*ex, 3);
  ex->stop();
  for (auto& r : rs) EXPECT_TRUE(r);
  EXPECT_EQ(runs_, 6);  // ran twice
  EXPECT_EQ(hooks_, 3);  // hooks once, for the commit that succeeded
  EXPECT_EQ(uncertain_, 0);
}

// Regression: a re-run asked for by a job's statement (a deadlock, a key another node took) was
// logged as "transaction conflict", without the database's text, so deadlocks could not be told
// from key conflicts. The log line carries the text, and so do the results once re-runs run out.
TEST_F(executor_test, a_batch_rerun_logs_the_database_error_text) {
  s_.fail_query = "job 1";
  s_.fail_query_times = 1;
  auto ex = make();
  ::testing::internal::CaptureStderr();
  auto rs = write_batch(*ex, 3);
  ex->stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  for (auto& r : rs) EXPECT_TRUE(r);  // the re-run committed them all
  const auto line = log.find("storage batch re-run");
  ASSERT_NE(line, std::string::npos) << log;
  const std::string first = log.substr(line, log.find('\n', line) - line);
  EXPECT_NE(first.find("deadlock detected (SQLSTATE 40P01)"), std::string::npos) << first;
  EXPECT_EQ(log.find("transaction conflict"), std::string::npos) << log;
}

TEST_F(executor_test, a_batch_out_of_reruns_fails_with_the_database_error_text) {
  s_.fail_query = "job 0";
  s_.fail_query_times = 100;
  auto ex = make();
  ::testing::internal::CaptureStderr();
  auto rs = write_batch(*ex, 2);
  ex->stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  for (auto& r : rs) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unavailable);
    EXPECT_NE(r.error().message.find("deadlock detected"), std::string::npos) << r.error().message;
  }
  EXPECT_NE(log.find("storage batch failed"), std::string::npos) << log;
}

// Regression: errors of the savepoint statements were ignored, so after SQLite rolled a
// transaction back by itself (disk full) later jobs ran outside any transaction.
TEST_F(executor_test, a_failing_savepoint_aborts_the_batch_instead_of_running_jobs_outside_it) {
  s_.fail_exec = "RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job";
  s_.fail_times = 1;
  auto ex = make();
  auto rs = write_batch(*ex, 3);
  ex->stop();
  int failed = 0;
  for (auto& r : rs) failed += !r;
  EXPECT_EQ(failed, 3);  // the whole batch fails; nothing ran after the broken savepoint
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(hooks_, 0);
}

// A write group that records its calls; a negative request fails on its own, and roll_back makes
// the whole call fail (every item an error), as a failed set-based statement would.
struct recording_group final : write_group<int, int> {
  explicit recording_group(std::atomic<int>& h) : hooks(h) {}
  bool run(connection& c, std::span<item* const> items) override {
    sizes.push_back(items.size());
    (void)c.query("group of " + std::to_string(items.size()), {});
    for (auto* it : items) {
      order.push_back(it->req);
      if (roll_back) {
        it->res.emplace(make_error(errc::unavailable, "statement failed"));
      } else if (it->req < 0) {
        it->res.emplace(make_error(errc::forbidden, "no"));
      } else {
        it->res.emplace(it->req);
        it->after_commit = [this] { ++hooks; };
      }
    }
    return !roll_back;
  }
  std::atomic<int>& hooks;
  std::vector<std::size_t> sizes;
  std::vector<int> order;  // requests in the order run() saw them
  bool roll_back = false;
};

// Regression: grouped writes split by another job ran as two units of one transaction, whose
// ordered row locks (conversations, user heads) were then taken out of order; with writers on
// several nodes that deadlocked. A batch's grouped writes now run as one unit, in their order.
TEST_F(executor_test, a_batchs_grouped_writes_run_as_one_call_in_one_savepoint) {
  auto ex = make();
  recording_group g(hooks_);
  std::vector<std::future<result<int>>> fs;
  auto never = [](int) { return false; };
  gated(*ex, [&] {
    fs.push_back(queue_job(*ex, 0, never));
    for (int r : {1, -2, 3}) fs.push_back(asio::co_spawn(ioc_, ex->write_grouped(g, r), asio::use_future));
    fs.push_back(queue_job(*ex, 4, never));
    for (int r : {5, 6}) fs.push_back(asio::co_spawn(ioc_, ex->write_grouped(g, r), asio::use_future));
  });
  ex->stop();
  EXPECT_EQ(g.sizes, (std::vector<std::size_t>{5}));
  EXPECT_EQ(g.order, (std::vector<int>{1, -2, 3, 5, 6}));
  std::vector<result<int>> rs;
  for (auto& f : fs) rs.push_back(f.get());
  EXPECT_EQ(*rs[0], 0);
  EXPECT_EQ(*rs[1], 1);
  EXPECT_EQ(rs[2].error().code, errc::forbidden);  // fails alone; the group's call succeeded
  EXPECT_EQ(*rs[3], 3);
  EXPECT_EQ(*rs[4], 4);
  EXPECT_EQ(*rs[5], 5);
  EXPECT_EQ(*rs[6], 6);
  EXPECT_EQ(hooks_, 6);  // the two jobs and the four successful grouped writes
  // Three units (job, the group, job): three savepoints, none rolled back, one COMMIT (plus the
  // gate job's own batch: one savepoint, one COMMIT).
  EXPECT_EQ(count("SAVEPOINT confab_job") + count("RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job"), 1 + 3);
  EXPECT_EQ(count("ROLLBACK TO SAVEPOINT confab_job; RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job"), 0);
  EXPECT_EQ(count("COMMIT"), 1 + 1);
}

TEST_F(executor_test, a_failed_group_is_rolled_back_alone_and_the_rest_commit) {
  auto ex = make();
  recording_group g(hooks_);
  g.roll_back = true;
  std::vector<std::future<result<int>>> fs;
  auto never = [](int) { return false; };
  gated(*ex, [&] {
    fs.push_back(queue_job(*ex, 0, never));
    for (int r : {1, 2}) fs.push_back(asio::co_spawn(ioc_, ex->write_grouped(g, r), asio::use_future));
    fs.push_back(queue_job(*ex, 3, never));
  });
  ex->stop();
  std::vector<result<int>> rs;
  for (auto& f : fs) rs.push_back(f.get());
  EXPECT_EQ(*rs[0], 0);
  EXPECT_EQ(rs[1].error().code, errc::unavailable);
  EXPECT_EQ(rs[2].error().code, errc::unavailable);
  EXPECT_EQ(*rs[3], 3);
  EXPECT_EQ(hooks_, 2);  // only the jobs'
  EXPECT_EQ(count("ROLLBACK TO SAVEPOINT confab_job; RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job"), 1);
  EXPECT_EQ(count("COMMIT"), 1 + 1);  // the gate job's batch, then this one
}

// The writer does not wait for a batch's hooks (live-event publication): it commits the next
// batch meanwhile, and the publisher still hands results back in commit order.
TEST_F(executor_test, the_next_batch_commits_while_the_last_one_is_being_published) {
  auto ex = make();
  std::promise<void> hook_started, release_hook, b_ran;
  auto release = release_hook.get_future().share();
  std::vector<int> completed;  // result order, recorded on ioc_'s thread
  auto a = asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        auto r = co_await ex->write<int>([&](write_context& ctx) -> result<int> {
          ctx.after_commit = [&] {
            hook_started.set_value();
            release.wait();
          };
          return 1;
        });
        completed.push_back(r ? *r : -1);
      },
      asio::use_future);
  ioc_.poll();
  hook_started.get_future().wait();  // the publisher is inside batch 1's hook
  auto b = asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        auto r = co_await ex->write<int>([&](write_context&) -> result<int> {
          b_ran.set_value();
          return 2;
        });
        completed.push_back(r ? *r : -1);
      },
      asio::use_future);
  ioc_.poll();
  // Batch 2 runs although batch 1's hook has not returned (bounded wait: a failure, not a hang).
  EXPECT_EQ(b_ran.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  release_hook.set_value();
  ioc_.run();
  a.get();
  b.get();
  ex->stop();
  EXPECT_EQ(completed, (std::vector<int>{1, 2}));
  EXPECT_EQ(count("COMMIT"), 2);
}

// Issue 17: a batch's log lines name the trace ids of the traced messages in it, and only those.
struct traced_req {
  std::int64_t t = 0;
  std::int64_t trace() const { return t; }
};
struct traced_group final : write_group<traced_req, int> {
  bool run(connection& c, std::span<item* const> items) override {
    (void)c.query("traced group", {});
    for (auto* it : items) it->res.emplace(0);
    return true;
  }
};

TEST_F(executor_test, batch_logs_name_the_traced_messages_in_the_batch) {
  s_.fail_query = "traced group";
  s_.fail_query_times = 1;
  auto ex = make();
  traced_group g;
  std::vector<std::future<result<int>>> fs;
  ::testing::internal::CaptureStderr();
  gated(*ex, [&] {
    for (std::int64_t t : {77, 0, 88}) fs.push_back(asio::co_spawn(ioc_, ex->write_grouped(g, traced_req{t}), asio::use_future));
    fs.push_back(queue_job(*ex, 1, [](int) { return false; }));
  });
  ex->stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  for (auto& f : fs) EXPECT_TRUE(f.get());
  const auto line = log.find("storage batch re-run");
  ASSERT_NE(line, std::string::npos) << log;
  EXPECT_NE(log.substr(line, log.find('\n', line) - line).find("\"traces\":[77,88]"), std::string::npos) << log;
}

TEST_F(executor_test, batch_logs_without_traced_messages_name_none) {
  s_.fail_query = "job 1";
  s_.fail_query_times = 1;
  auto ex = make();
  ::testing::internal::CaptureStderr();
  auto rs = write_batch(*ex, 2);
  ex->stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(log.find("storage batch re-run"), std::string::npos) << log;
  EXPECT_EQ(log.find("traces"), std::string::npos) << log;
}

}  // namespace
}  // namespace confab::storage
