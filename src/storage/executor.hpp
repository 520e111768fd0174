// Runs blocking storage work on storage-owned threads and hands results back to coroutines.
//
// Reads run on a pool of reader threads, each with its own connection. Writes run on one writer
// thread that takes every queued write (up to max_batch) and runs them in one transaction, each
// inside its own savepoint: a failed write is rolled back alone, and one commit (one fsync) makes
// the whole batch durable — group commit. A write's result is handed back only after COMMIT
// succeeded, so "completed ok" means durable. Its after_commit hook (if the job sets one) runs
// after that commit on the publisher thread, which takes finished batches from the writer in
// commit order and runs their hooks in batch order, then hands back their results: the hook
// publishes live events, so publication order equals commit order on this node, and the writer
// starts the next batch while the last one is being published (at most 8 batches wait).
//
// Threads: read() and write() may be called from any thread; the awaiting coroutine resumes on
// its own executor. Cancellation is not supported: a queued job runs to completion.
// Errors: a job's own error is returned as is. A COMMIT that fails fails every job of the batch
// with errc::unavailable; its outcome may be unknown (connection lost during COMMIT), so the batch
// is never re-run and on_uncertain_commit runs.
// Metrics (core/node_metrics.hpp): writes per batch, batch and COMMIT time, re-runs, failed batches.
// Grouped writes (write_grouped): the queued writes of one write_group in a batch run as one unit,
// one call and one savepoint, at the place of the group's first write (the writes between keep
// their order; all of a batch's writes are concurrent, so any order is a valid one); a group that
// fails is rolled back as a whole. Deadlocks and serialization failures before or at
// COMMIT re-run the whole batch up to 5 times.
#pragma once

#include "core/error.hpp"
#include "storage/db.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

namespace confab::storage {

// Passed to a write job: the connection (inside the batch transaction) and the hook slot.
struct write_context {
  connection& db;
  std::function<void()> after_commit;  // optional; runs on the publisher thread after COMMIT
};

// A kind of write that runs set-based: the executor hands every run of consecutive queued writes
// of one group to one call of run(), inside one savepoint, so a batch of N such writes costs a
// few statements instead of a few per write (PostgreSQL round trips). The group object must
// outlive the executor's use of it; run() is called on the writer thread only.
template <class Req, class T>
class write_group {
 public:
  struct item {
    Req req;
    std::optional<result<T>> res;       // run() sets it for every item
    std::function<void()> after_commit;  // optional, as in write_context; kept only if res is ok
  };
  virtual ~write_group() = default;
  // Runs items (in queue order) inside the batch transaction. Returns false if the writes made
  // by this call must be rolled back (every item's res must then be an error). Items may fail on
  // their own (a bad request) while the call returns true. A driver error that asks for the
  // transaction to be re-run (connection::retry_requested) re-runs the whole batch, as for jobs.
  virtual bool run(connection& c, std::span<item* const> items) = 0;
};

class executor {
 public:
  struct options {
    int readers = 2;
    int max_batch = 256;
  };

  executor(connection_factory factory, options opts);
  ~executor();  // stop()
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  // Finishes every queued write (so accepted writes are durable) and every queued read, then
  // joins all threads; work queued after stop() began completes with errc::unavailable.
  // Call from one thread (the owner); a second call is a no-op.
  void stop();

  // (Plain functions returning the awaitable, not coroutines: GCC 12 mis-copies by-value
  // coroutine parameters built from temporaries, such as a lambda converted to std::function.)
  template <class T>
  boost::asio::awaitable<result<T>> read(std::function<result<T>(connection&)> fn) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(result<T>)>(
        [this](auto handler, std::function<result<T>(connection&)> f) {
          enqueue_read(std::make_unique<job_impl<T, decltype(handler), false>>(std::move(f), std::move(handler)));
        },
        boost::asio::use_awaitable, std::move(fn));
  }

  template <class T>
  boost::asio::awaitable<result<T>> write(std::function<result<T>(write_context&)> fn) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(result<T>)>(
        [this](auto handler, std::function<result<T>(write_context&)> f) {
          enqueue_write(std::make_unique<job_impl<T, decltype(handler), true>>(std::move(f), std::move(handler)));
        },
        boost::asio::use_awaitable, std::move(fn));
  }

  // A write of group g: queued like write(), but run together with its queued neighbours of the
  // same group (see write_group).
  template <class Req, class T>
  boost::asio::awaitable<result<T>> write_grouped(write_group<Req, T>& g, Req req) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(result<T>)>(
        [this, &g](auto handler, Req r) {
          enqueue_write(std::make_unique<grouped_impl<Req, T, decltype(handler)>>(g, std::move(r), std::move(handler)));
        },
        boost::asio::use_awaitable, std::move(req));
  }

  // Called on the publisher thread after a COMMIT whose outcome is unknown (the connection failed
  // during it): events may have been committed without their after_commit hooks. Set before use.
  void set_on_uncertain_commit(std::function<void()> fn) { on_uncertain_commit_ = std::move(fn); }

  // On the publisher thread while a batch's after_commit hooks run: when that batch's COMMIT
  // completed (the live-delivery latency starts there). Elsewhere: a default time_point (zero).
  static std::chrono::steady_clock::time_point committed_at() noexcept;
  // issue 17 (message traces): the batch whose hooks run, on the publisher thread; null elsewhere.
  struct batch_info {
    std::uint64_t id = 0;  // this executor's batches, counted from 1
    std::size_t writes = 0;
    std::chrono::steady_clock::time_point started, commit_started, committed;
  };
  static const batch_info* publishing_batch() noexcept;

  // Runs fn on the writer thread outside any batch (migrations at start-up). Blocking.
  db_result<void> run_exclusive(const std::function<db_result<void>(connection&)>& fn);

 private:
  struct job {
    virtual ~job() = default;
    // Runs the work; returns true if it succeeded (for writes: keep its savepoint).
    virtual bool run(connection& c) = 0;
    virtual void fail(error e) = 0;
    virtual void complete() = 0;  // hands the result to the waiting coroutine
    // Jobs with the same non-null group run together through run_group (consecutive ones only).
    virtual const void* group() const { return nullptr; }
    virtual bool run_group(connection& c, std::span<job* const> jobs) {
      (void)jobs;
      return run(c);
    }
    // issue 17: the trace id of the message this job writes (0: none), named in the batch's logs.
    virtual std::int64_t trace() const { return 0; }
    std::function<void()> after_commit;
  };

  // Hands res to the coroutine waiting behind handler, on its executor.
  template <class Handler, class R>
  static void post_result(Handler& handler, R& res, boost::asio::any_io_executor& work) {
    auto ex = boost::asio::get_associated_executor(handler);
    boost::asio::post(ex, [h = std::move(handler), r = std::move(res)]() mutable { h(std::move(r)); });
    // Released only after post() returned: the caller's io_context cannot run out of work (and
    // be destroyed) while this thread is still inside post().
    work = boost::asio::any_io_executor{};
  }

  template <class Req, class T>
  struct grouped_base : job {
    using group_t = write_group<Req, T>;
    grouped_base(group_t& g, Req r) : grp(&g), it{std::move(r), std::nullopt, {}} {}
    const void* group() const override { return grp; }
    bool run(connection& c) override {
      job* self = this;
      return run_group(c, std::span<job* const>(&self, 1));
    }
    bool run_group(connection& c, std::span<job* const> jobs) override {
      std::vector<typename group_t::item*> items;
      items.reserve(jobs.size());
      for (job* j : jobs) {
        auto* g = static_cast<grouped_base*>(j);  // same group() means same Req and T
        g->it.res.reset();
        g->it.after_commit = nullptr;
        items.push_back(&g->it);
      }
      bool ok = false;
      try {
        ok = grp->run(c, items);
      } catch (const std::exception& ex) {
        for (auto* i : items) i->res.emplace(make_error(errc::internal, std::string("storage job threw: ") + ex.what()));
        ok = false;
      }
      for (job* j : jobs) {
        auto* g = static_cast<grouped_base*>(j);
        if (!g->it.res) g->it.res.emplace(make_error(errc::internal, "storage group left a write without a result"));
        if (!ok && *g->it.res) g->it.res.emplace(make_error(errc::internal, "storage group rolled back a write it reported as done"));
        g->after_commit = *g->it.res ? std::move(g->it.after_commit) : nullptr;
      }
      return ok;
    }
    void fail(error e) override {
      it.res.emplace(std::move(e));
      after_commit = nullptr;
    }
    std::int64_t trace() const override {
      if constexpr (requires(const Req& r) { r.trace(); })
        return it.req.trace();
      else
        return 0;
    }
    group_t* grp;
    typename group_t::item it;
  };

  template <class Req, class T, class Handler>
  struct grouped_impl final : grouped_base<Req, T> {
    grouped_impl(write_group<Req, T>& g, Req r, Handler h)
        : grouped_base<Req, T>(g, std::move(r)),
          handler(std::move(h)),
          work(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                   boost::asio::execution::outstanding_work.tracked)) {}
    void complete() override { post_result(handler, *this->it.res, work); }
    Handler handler;
    boost::asio::any_io_executor work;
  };

  template <class T, class Handler, bool Write>
  struct job_impl final : job {
    using fn_t = std::conditional_t<Write, std::function<result<T>(write_context&)>,
                                    std::function<result<T>(connection&)>>;
    job_impl(fn_t f, Handler h)
        : fn(std::move(f)),
          handler(std::move(h)),
          work(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                   boost::asio::execution::outstanding_work.tracked)) {}
    bool run(connection& c) override {
      try {
        if constexpr (Write) {
          write_context ctx{c, {}};
          res.emplace(fn(ctx));
          after_commit = res->has_value() ? std::move(ctx.after_commit) : nullptr;
        } else {
          res.emplace(fn(c));
        }
      } catch (const std::exception& ex) {
        res.emplace(make_error(errc::internal, std::string("storage job threw: ") + ex.what()));
        after_commit = nullptr;
      }
      return res->has_value();
    }
    void fail(error e) override {
      res.emplace(std::move(e));
      after_commit = nullptr;
    }
    void complete() override { post_result(handler, *res, work); }
    fn_t fn;
    Handler handler;
    boost::asio::any_io_executor work;
    std::optional<result<T>> res;
  };

  void enqueue(std::deque<std::unique_ptr<job>>& q, std::condition_variable& cv, std::unique_ptr<job> j);
  void enqueue_read(std::unique_ptr<job> j);
  void enqueue_write(std::unique_ptr<job> j);
  void reader_loop();
  void writer_loop();
  void publisher_loop();
  // Queues a finished batch (results set) for the publisher; waits while it is far behind.
  void hand_off(std::vector<std::unique_ptr<job>>& batch, bool uncertain, const batch_info& info);
  void run_batch(connection*& conn, std::unique_ptr<connection>& owner, std::vector<std::unique_ptr<job>>& batch);
  bool ensure(std::unique_ptr<connection>& c, std::string& why);
  // The batch's traced messages are named on the line (traces_field), computed only when logging.
  static void log_rerun(int attempt, const std::string& error, const std::vector<std::unique_ptr<job>>& batch);
  // issue 17: R"(,"traces":[ids])" of the batch's traced messages, or "" if none is traced.
  static std::string traces_field(const std::vector<std::unique_ptr<job>>& batch);
  // Moves each write group's jobs next to the group's first job (their order kept): one unit each.
  static void gather_groups(std::vector<std::unique_ptr<job>>& batch);

  connection_factory factory_;
  options opts_;
  std::mutex mu_;
  std::condition_variable read_cv_, write_cv_;
  std::deque<std::unique_ptr<job>> reads_, writes_;
  std::deque<std::function<void(connection*)>> exclusive_;
  struct finished {
    std::vector<std::unique_ptr<job>> batch;
    bool uncertain = false;  // the COMMIT's outcome is unknown: on_uncertain_commit after it
    batch_info info;  // info.committed: when COMMIT completed (zero: not committed)
  };
  std::uint64_t batches_ = 0;  // writer thread
  static constexpr std::size_t max_published = 8;
  std::deque<finished> published_;  // batches waiting for the publisher, in commit order
  std::condition_variable pub_cv_, pub_space_cv_;
  bool writer_done_ = false;  // set by stop() once the writer has joined
  bool stopping_ = false;
  std::vector<std::thread> readers_;
  std::thread writer_, publisher_;
  std::function<void()> on_uncertain_commit_;
};

}  // namespace confab::storage
