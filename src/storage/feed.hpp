// Feeds: every committed event, for consumers that must not miss one (search indexing, push,
// webhooks), durable across restarts, with a cursor per consumer. Not the live path (that is the
// best-effort event_sink); a consumer reads storage itself.
//
// Order and cursors. Order is per conversation: events of one conversation are delivered in seq
// order; there is no order between conversations (none exists in the product either). A
// consumer's cursor is a map conversation -> last seq handled, stored in feed_cursors (consumer,
// conv_id, seq). A read looks for conversations whose last_seq moved past the consumer's cursor
// and returns their events in (cursor, last_seq].
//
// Why this is exact with several nodes writing one PostgreSQL: conversations.last_seq and the
// events up to it are written in one transaction, under the conversation's row lock, so a later
// seq of a conversation never commits before an earlier one and a reader that sees last_seq = n
// also sees events 1..n. A global auto-increment id would not do: ids are taken when a
// transaction inserts, not when it commits, so a reader could pass an id whose transaction
// commits later and skip it for good. (A global position taken under one row lock at commit would
// be exact too, but it would serialise every writer of every node on that row.)
//
// Delivery: at least once. feed_runner hands a batch to its handler and commits the cursor only
// after the handler succeeded; a crash (or SIGKILL) between the two redelivers the batch after the
// restart. A handler whose effect is idempotent per (conv, seq) therefore has an exactly-once
// effect: nothing is skipped (the cursor never passes an unhandled event) and a repeat changes
// nothing. A handler that is not idempotent sees a repeat after such a crash.
//
// Leases: a consumer that every node runs under one name (the "search" index) runs on one node at
// a time. Its runner claims the lease (feed_leases: holder, until when) before reading and renews
// it once a quarter of it has run (not before every batch: a claim is a write); while another
// node holds an unexpired lease it only waits and tries again at each poll. A node that dies stops renewing, and another takes over once the lease has expired; a
// node that stops cleanly releases it. Leases are an economy, not the exactness above: two
// holders at once (a node paused past its lease) repeat work, which an idempotent handler
// absorbs. Without one, every node indexes every event, and their cursor and index writes,
// group-committed with sends, lock rows in orders that deadlock with other nodes' batches.
//
// Cost: a read scans the conversations table once (joined to the consumer's cursors by key), so
// one idle poll costs O(conversations); the events themselves are read by key.
//
// Threads: feed's calls run on the storage executor (reads on a reader, commits on the writer,
// group-committed with other writes) and resume on the caller's executor. feed_runner runs on its
// own strand.
#pragma once

#include "core/gate.hpp"
#include "storage/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace confab::storage {

struct feed_position {
  id_t conv = 0;
  std::int64_t seq = 0;
  bool operator==(const feed_position&) const = default;
};

struct feed_batch {
  std::vector<event> events;             // by conversation, ascending seq within each
  std::vector<feed_position> reached;    // per conversation in events: the last seq included
  id_t next_conv = 0;                    // where the next read should start (round robin)
};

struct feed_progress {
  std::int64_t done = 0;
  std::int64_t total = 0;
  bool started = false;
};

class feed {
 public:
  // ex must outlive the feed (confabd: the store's executor).
  explicit feed(executor& ex) : ex_(ex) {}

  // Up to limit events past consumer's cursor, from conversations with id > after_conv first, then
  // from the start (so a busy conversation cannot starve the others). Empty when caught up.
  // Errors: errc::unavailable when the database failed; invalid_field for an empty consumer name
  // or limit outside 1..10000.
  task<feed_batch> read(const std::string& consumer, int limit, id_t after_conv = 0);

  // Durably moves consumer's cursor to each position (never backwards: a position at or below
  // the stored one changes nothing). Completes after COMMIT. Errors as for read.
  task<nothing> commit(const std::string& consumer, const std::vector<feed_position>& positions);

  // The consumer's stored cursor, ascending by conversation (for tests and operators).
  task<std::vector<feed_position>> cursor(const std::string& consumer);

  // Takes consumer's lease for holder, or renews it, until now + ttl: true if holder holds it
  // after the call, false while another holder's lease runs (or another node is claiming it in
  // the same instant: the claim never waits for one). With want, a holder that is refused asks
  // for the lease: the current holder hands it over at its next claim (which returns false), and
  // no one else takes it meanwhile, even expired (a reindex uses this to take the index over from
  // running nodes). Completes after COMMIT. Errors as for read (invalid_field also for an empty
  // holder or a ttl under 1 ms).
  task<bool> claim(const std::string& consumer, const std::string& holder, std::chrono::milliseconds ttl, bool want = false);
  // Gives up holder's lease (nothing if holder does not hold it): another node may take it at once.
  // false when another node was claiming it in the same instant (the release never waits for
  // one): call again (release_lease does).
  task<bool> release(const std::string& consumer, const std::string& holder);

  // Forgets consumer's cursor: its next read starts from the first event again.
  task<nothing> reset(const std::string& consumer);
  // How far consumer has come: events handled (its cursor's seqs summed: seqs have no gaps) of
  // every event committed (every conversation's last seq summed), and whether it has a cursor.
  task<feed_progress> progress(const std::string& consumer);

 private:
  executor& ex_;
};

// Runs one consumer: read a batch, hand it to the handler, commit the cursor, repeat; waits
// options::poll when caught up (events committed on other nodes are only seen by reading).
class feed_runner {
 public:
  // The handler's effect should be idempotent per (conv, seq) (see above). An error return (or an
  // exception, logged) leaves the cursor where it was: the batch is read again after retry.
  using handler = std::function<boost::asio::awaitable<result<nothing>>(const feed_batch&)>;
  struct options {
    int batch = 256;
    std::chrono::milliseconds poll{500};
    std::chrono::milliseconds retry{1000};
    // Test hook: runs after the handler succeeded and before the cursor commit.
    std::function<void()> after_handle;
    // Not empty: run only while holding the consumer's lease as this holder (a node id), claimed
    // for lease at a time. Empty: run always (a consumer of this node's own).
    std::string lease_holder;
    std::chrono::milliseconds lease{10000};
  };

  feed_runner(boost::asio::any_io_executor ex, feed& f, std::string consumer, handler h, options o);
  feed_runner(const feed_runner&) = delete;
  feed_runner& operator=(const feed_runner&) = delete;

  // Starts the loop on the runner's strand. Call once.
  void start();
  // Asks the loop to stop and completes when it has: a batch in hand is finished (handled and
  // committed) first. Any thread; must be awaited before the runner is destroyed.
  boost::asio::awaitable<void> stop();

  const std::string& consumer() const { return consumer_; }

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds d);
  // With a lease_holder: claims the lease; false (after a pause) when this node must not run now.
  boost::asio::awaitable<bool> hold_lease();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  feed& feed_;
  std::string consumer_;
  handler handler_;
  options opts_;
  boost::asio::steady_timer timer_;  // on strand_
  bool stopping_ = false;            // on strand_
  bool holding_ = false;             // on strand_: the last claim succeeded
  std::chrono::steady_clock::time_point claimed_at_{};  // on strand_: when it was made
  gate running_;                     // entered while the loop runs
};

// One turn of a consumer: read up to limit events after after_conv, hand them to h, run
// after_handle (if set), commit the cursor. How many events it handled (0: caught up) and where
// the next read starts. Errors name the stage that failed (read, handler, commit) and its cause;
// the cursor has then not moved past anything unhandled. Used by feed_runner and by the search
// reindex, which interleaves two consumers' turns on one coroutine.
// feed::release until it is done (at most about a second: 50 tries, 20 ms apart). false if every
// try met a concurrent claim: the lease then expires on its own.
boost::asio::awaitable<result<bool>> release_lease(feed& f, const std::string& consumer, const std::string& holder);

struct feed_step {
  std::int64_t events = 0;
  id_t next_conv = 0;
};
boost::asio::awaitable<result<feed_step>> run_feed_step(feed& f, const std::string& consumer, int limit, id_t after_conv,
                                              const feed_runner::handler& h, const std::function<void()>& after_handle = {});

}  // namespace confab::storage
