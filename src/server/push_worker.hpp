// The push worker (issue 15): sends the push queue's due rows (storage/push_store.hpp) through the
// providers and records each outcome. Every node runs one; they share the queue through claims.
//
// For each claimed row it decides with the facts read at the claim (docs/push.md, "When a push is
// sent"): a message push is skipped once the device has it (its delivered pointer passed the seq),
// the member read it, it was deleted, or the device has no target any more; otherwise it goes to
// the transport. Outcomes: sent; dead (the target is removed); rejected; retry, again after
// exponential back-off with full jitter (base * 2^(attempt-1), capped), or the provider's
// Retry-After when that is later; failed after max_attempts.
//
// At most max_in_flight sends are outstanding, and at most max_in_flight_per_provider of them are
// being sent to one provider; the others wait on this node, in claim order, well within their lease.
//
// Threads: the worker's loop runs on its own strand; the transport's completions may come on any
// thread and are posted to the strand. stop() must be awaited before destruction: it waits for the
// sends in flight (at most their transport timeouts: two for an FCM send that waits for a token)
// and records their outcomes.
#pragma once

#include "core/gate.hpp"
#include "push/notification.hpp"
#include "push/registration.hpp"
#include "push/sender.hpp"
#include "storage/push_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace confab::server {

// What a provider said about one push (push/sender.hpp).
using push_delivery = push::send_outcome;

// Sends one push; calls done exactly once, on any thread. Must not block.
using push_transport = std::function<void(const push::push_target& to, const push::notification& n,
                                          std::string idempotency_key, std::function<void(push_delivery)> done)>;

struct push_worker_options {
  std::string node;                              // the claim holder's name
  std::chrono::milliseconds poll{200};           // the longest an idle worker sleeps (it wakes when the next row is due)
  int batch = 256;                               // rows claimed at once
  int max_in_flight = 1024;                      // sends outstanding at once (sending or waiting)
  int max_in_flight_per_provider = 256;          // sends to one provider at once; the rest wait here
  std::chrono::milliseconds lease{60000};        // a claim's lease (longer than any send)
  int max_attempts = 8;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{300000};
  bool previews = false;                         // include the sender and a preview of the text
  std::size_t preview_bytes = 200;               // the longest preview, cut at a character boundary
  push::endpoint_policy endpoints;               // targets are re-checked against it before a send
  std::chrono::milliseconds retention{24 * 3600 * 1000};  // finished rows are kept this long
  std::vector<std::string> providers{"fcm", "apns", "webpush"};  // the rows this node claims (its keys)
  // issue 17: the trace id of (conv, seq) if this node knows the message to be traced, else 0;
  // log lines about a push carry it. Called on the worker's executor; unset: none.
  std::function<std::int64_t(id_t conv, std::int64_t seq)> trace_of;
};

// The notification for a claimed job, or the reason to skip it ("" with a notification).
struct push_decision {
  std::optional<push::notification> send;
  std::string skip;  // why not, when send is empty
};
push_decision decide(const storage::push_job& j, const push_worker_options& o);
// The delay before attempt (attempt >= 1) is tried again: full jitter over base * 2^(attempt-1)
// capped at max, and never before the provider's retry_after. jitter01 in [0, 1).
std::chrono::milliseconds retry_delay(int attempt, std::optional<std::chrono::seconds> retry_after, double jitter01,
                                      const push_worker_options& o);
// The idempotency key of a queue row, in UUID form (APNs' apns-id).
std::string idempotency_key(std::int64_t row_id);

class push_worker {
 public:
  push_worker(boost::asio::any_io_executor ex, storage::push_store& store, push_transport transport, push_worker_options o);
  push_worker(const push_worker&) = delete;
  push_worker& operator=(const push_worker&) = delete;

  void start();
  boost::asio::awaitable<void> stop();

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds d);
  boost::asio::awaitable<void> flush();
  boost::asio::awaitable<std::chrono::milliseconds> idle_wait();  // how long to sleep with nothing to claim
  boost::asio::awaitable<void> housekeeping();
  // A claimed push ready to go, and the sends to one provider.
  struct ready {
    storage::push_job job;
    push::push_target to;
    push::notification n;
  };
  struct lane {
    int sending = 0;
    std::deque<ready> waiting;
  };
  void dispatch(const storage::push_job& j);  // on strand_
  void send(lane& l, ready r);                // on strand_
  void finished(const storage::push_job& j, const std::string& provider, const std::string& target, push_delivery d);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  storage::push_store& store_;
  push_transport transport_;
  push_worker_options opts_;
  boost::asio::steady_timer timer_;                 // on strand_
  bool stopping_ = false;                           // on strand_
  int in_flight_ = 0;                               // on strand_: sending or waiting in a lane
  std::map<std::string, lane> lanes_;               // on strand_: by provider
  std::vector<storage::push_outcome> outcomes_;     // on strand_: waiting for finish()
  std::chrono::steady_clock::time_point next_housekeeping_{};  // on strand_
  gate running_;
};

}  // namespace confab::server
