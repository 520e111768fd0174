#include "storage/executor.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <future>

namespace confab::storage {

namespace {
thread_local const executor::batch_info* publishing{};
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

std::chrono::steady_clock::time_point executor::committed_at() noexcept { return publishing ? publishing->committed : std::chrono::steady_clock::time_point{}; }

const executor::batch_info* executor::publishing_batch() noexcept { return publishing; }

executor::executor(connection_factory factory, options opts) : factory_(std::move(factory)), opts_(opts) {
  publisher_ = std::thread([this] { publisher_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
  for (int i = 0; i < opts_.readers; ++i) readers_.emplace_back([this] { reader_loop(); });
}

executor::~executor() { stop(); }

void executor::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  read_cv_.notify_all();
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  pub_cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  for (auto& t : readers_)
    if (t.joinable()) t.join();
  readers_.clear();
  std::deque<std::unique_ptr<job>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(reads_);
  }
  for (auto& j : left) {
    j->fail(make_error(errc::unavailable, "storage is shutting down"));
    j->complete();
  }
}

void executor::enqueue(std::deque<std::unique_ptr<job>>& q, std::condition_variable& cv, std::unique_ptr<job> j) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      q.push_back(std::move(j));
      cv.notify_one();
      return;
    }
  }
  j->fail(make_error(errc::unavailable, "storage is shutting down"));
  j->complete();
}

void executor::enqueue_read(std::unique_ptr<job> j) { enqueue(reads_, read_cv_, std::move(j)); }
void executor::enqueue_write(std::unique_ptr<job> j) { enqueue(writes_, write_cv_, std::move(j)); }

bool executor::ensure(std::unique_ptr<connection>& c, std::string& why) {
  if (c && !c->broken) return true;
  c.reset();
  auto r = factory_();
  if (!r) {
    why = r.error().message;
    return false;
  }
  c = std::move(*r);
  return true;
}

void executor::reader_loop() {
  std::unique_ptr<connection> conn;
  for (;;) {
    std::unique_ptr<job> j;
    {
      std::unique_lock lock(mu_);
      read_cv_.wait(lock, [&] { return stopping_ || !reads_.empty(); });
      if (reads_.empty()) return;
      j = std::move(reads_.front());
      reads_.pop_front();
    }
    std::string why;
    if (!ensure(conn, why)) {
      j->fail(make_error(errc::unavailable, "storage connection failed: " + why));
    } else {
      j->run(*conn);
      conn->retry_requested = false;
      conn->failure_reason.clear();
    }
    j->complete();
  }
}

db_result<void> executor::run_exclusive(const std::function<db_result<void>(connection&)>& fn) {
  std::promise<db_result<void>> done;
  auto fut = done.get_future();
  {
    std::lock_guard lock(mu_);
    exclusive_.push_back([&](connection* c) {
      if (!c) {
        done.set_value(db_error{errc::unavailable, "storage connection failed", false});
        return;
      }
      done.set_value(fn(*c));
    });
  }
  write_cv_.notify_one();
  return fut.get();
}

void executor::writer_loop() {
  std::unique_ptr<connection> owner;
  connection* conn = nullptr;
  for (;;) {
    std::vector<std::unique_ptr<job>> batch;
    std::function<void(connection*)> excl;
    {
      std::unique_lock lock(mu_);
      write_cv_.wait(lock, [&] { return stopping_ || !writes_.empty() || !exclusive_.empty(); });
      if (!exclusive_.empty()) {
        excl = std::move(exclusive_.front());
        exclusive_.pop_front();
      } else if (writes_.empty()) {
        return;  // stopping and drained
      } else {
        while (!writes_.empty() && static_cast<int>(batch.size()) < opts_.max_batch) {
          batch.push_back(std::move(writes_.front()));
          writes_.pop_front();
        }
      }
    }
    gather_groups(batch);
    std::string why;
    bool ok = ensure(owner, why);
    conn = owner.get();
    if (excl) {
      excl(ok ? conn : nullptr);
      continue;
    }
    if (!ok) {
      for (auto& j : batch) j->fail(make_error(errc::unavailable, "storage connection failed: " + why));
      metrics::node().batch_failures.inc();
      hand_off(batch, false, batch_info{});
      continue;
    }
    run_batch(conn, owner, batch);
  }
}

// Every job of a batch was queued before the batch began and none has completed, so any order of
// them is a valid order of events; only the jobs of one group keep their own relative order (a
// device's sends, in the order it sent them). Gathering each group's jobs into one unit means a
// batch takes a group's ordered row locks (conversations, then user heads, each ascending) once:
// two units of one group in one transaction would take the second unit's locks after the first
// one's, out of order, and deadlock with another node's batch doing the same the other way round
// (seen after per-request device-activity writes began to interleave with sends: cluster_test's
// writers on three nodes hit 'deadlock detected').
void executor::gather_groups(std::vector<std::unique_ptr<job>>& batch) {
  std::vector<std::unique_ptr<job>> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i]) continue;  // already moved with its group
    const void* g = batch[i]->group();
    out.push_back(std::move(batch[i]));
    if (!g) continue;
    for (std::size_t k = i + 1; k < batch.size(); ++k)
      if (batch[k] && batch[k]->group() == g) out.push_back(std::move(batch[k]));
  }
  batch = std::move(out);
}

void executor::run_batch(connection*& conn, std::unique_ptr<connection>& owner,
                         std::vector<std::unique_ptr<job>>& batch) {
  const std::string begin(conn->begin_write());
  const auto started = std::chrono::steady_clock::now();
  auto& m = metrics::node();
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    conn->retry_requested = false;
    conn->failure_reason.clear();
    if (auto r = conn->exec(begin); !r) {
      failure = r.error().message;
      if (conn->broken) {
        log_rerun(attempt, "connection lost: " + failure, batch);
        std::string why;
        if (!ensure(owner, why)) break;
        conn = owner.get();
        continue;
      }
      if (r.error().retry_transaction) {
        log_rerun(attempt, failure, batch);
        continue;
      }
      break;
    }
    bool restart = false;
    bool aborted = false;  // the transaction is unusable: roll back, then retry or fail the batch
    bool prev_ok = true;
    std::vector<job*> unit;
    for (std::size_t i = 0; i < batch.size() && !aborted;) {
      // A unit is one job, or a run of consecutive jobs of one write group (run set-based).
      unit.assign(1, batch[i].get());
      if (const void* g = batch[i]->group())
        while (i + unit.size() < batch.size() && batch[i + unit.size()]->group() == g) unit.push_back(batch[i + unit.size()].get());
      i += unit.size();
      // Each unit runs inside its own savepoint; closing the last and opening the next is one
      // round trip. A failed unit's writes are rolled back alone.
      const char* sp = i == unit.size() ? "SAVEPOINT confab_job"
                       : prev_ok        ? "RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job"
                                        : "ROLLBACK TO SAVEPOINT confab_job; RELEASE SAVEPOINT confab_job; SAVEPOINT confab_job";
      if (auto r = conn->exec(sp); !r) {
        // E.g. SQLite rolled the whole transaction back by itself (disk full): nothing after this
        // may run outside the batch transaction.
        failure = r.error().message;
        restart = r.error().retry_transaction;
        aborted = true;
        break;
      }
      prev_ok = unit.size() == 1 ? unit[0]->run(*conn) : unit[0]->run_group(*conn, unit);
      if (conn->retry_requested || conn->broken) {
        // The job's own error holds the database's text too, but the job may be one of many:
        // the connection keeps the text that asked for the re-run.
        failure = conn->failure_reason.empty() ? "a write asked for a re-run without a database error" : conn->failure_reason;
        restart = true;
        aborted = true;
      }
    }
    if (!aborted && !prev_ok) {
      if (auto r = conn->exec("ROLLBACK TO SAVEPOINT confab_job"); !r) {
        failure = r.error().message;
        aborted = true;
      }
    }
    if (!aborted) {
      // COMMIT on its own, so the driver can check that it really committed.
      const auto commit_start = std::chrono::steady_clock::now();
      auto r = conn->exec("COMMIT");
      if (r) {
        const auto committed = std::chrono::steady_clock::now();
        m.commit_seconds.observe(std::chrono::duration<double>(committed - commit_start).count());
        m.batch_seconds.observe(seconds_since(started));
        m.batch_writes.observe(static_cast<double>(batch.size()));
        hand_off(batch, false, batch_info{++batches_, batch.size(), started, commit_start, committed});
        return;
      }
      failure = r.error().message;
      if (!r.error().retry_transaction) {
        // The outcome is unknown (the connection may have died after the server committed).
        // Never re-run the batch: fail every job (retries by clients are idempotent for sends),
        // and tell the sink that events may have been committed without being announced.
        (void)conn->exec("ROLLBACK");
        log::error("storage commit failed; outcome unknown",
                   "\"error\":" + boost::json::serialize(boost::json::string(failure)) + traces_field(batch));
        for (auto& j : batch) j->fail(make_error(errc::unavailable, "storage commit failed: " + failure));
        m.batch_failures.inc();
        hand_off(batch, true, batch_info{});
        return;
      }
      restart = true;  // serialization failure at commit: nothing was committed
    }
    (void)conn->exec("ROLLBACK");
    if (conn->broken) {
      log_rerun(attempt, "connection lost: " + failure, batch);
      std::string why;
      if (!ensure(owner, why)) break;
      conn = owner.get();
      continue;
    }
    if (!restart) break;
    log_rerun(attempt, failure, batch);
  }
  log::warn("storage batch failed",
            "\"error\":" + boost::json::serialize(boost::json::string(failure.empty() ? "retries exhausted" : failure)) + traces_field(batch));
  for (auto& j : batch) j->fail(make_error(errc::unavailable, "storage write failed: " + failure));
  m.batch_failures.inc();
  hand_off(batch, false, batch_info{});
}

// Operators see conflicts between writers (deadlocks, serialization failures, keys taken by
// another node) and lost connections, each of which costs a whole batch, with the database's text.
void executor::log_rerun(int attempt, const std::string& error, const std::vector<std::unique_ptr<job>>& batch) {
  metrics::node().batch_reruns.inc();
  log::warn("storage batch re-run", "\"attempt\":" + std::to_string(attempt + 1) + ",\"error\":" +
                                        boost::json::serialize(boost::json::string(error.empty() ? "unknown error" : error)) +
                                        traces_field(batch));
}

std::string executor::traces_field(const std::vector<std::unique_ptr<job>>& batch) {
  std::string ids;
  for (const auto& j : batch)
    if (const auto t = j->trace()) ids += (ids.empty() ? "" : ",") + std::to_string(t);
  return ids.empty() ? std::string() : ",\"traces\":[" + ids + "]";
}

void executor::hand_off(std::vector<std::unique_ptr<job>>& batch, bool uncertain, const batch_info& info) {
  {
    std::unique_lock lock(mu_);
    // Bounded: a publisher that falls behind holds the writer back instead of queueing batches
    // (and their results) without limit.
    pub_space_cv_.wait(lock, [&] { return published_.size() < max_published; });
    published_.push_back({std::move(batch), uncertain, info});
  }
  pub_cv_.notify_one();
}

void executor::publisher_loop() {
  for (;;) {
    finished fin;
    {
      std::unique_lock lock(mu_);
      pub_cv_.wait(lock, [&] { return writer_done_ || !published_.empty(); });
      if (published_.empty()) return;  // the writer has stopped and everything was published
      fin = std::move(published_.front());
      published_.pop_front();
    }
    pub_space_cv_.notify_one();
    // Hooks (live events) in batch order, then the results: a sender's ack never overtakes the
    // event it produced, and batches are published in commit order.
    publishing = &fin.info;
    for (auto& j : fin.batch)
      if (j->after_commit) j->after_commit();
    publishing = nullptr;
    for (auto& j : fin.batch) j->complete();
    if (fin.uncertain && on_uncertain_commit_) on_uncertain_commit_();
  }
}

}  // namespace confab::storage
