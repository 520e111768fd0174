#include "server/push_worker.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "core/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

namespace confab::server {
namespace asio = boost::asio;

namespace {

// s cut to at most n bytes, at a UTF-8 character boundary (s is valid UTF-8: stored message text).
std::string cut_utf8(const std::string& s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string_view outcome_name(push_delivery::status s) {
  switch (s) {
    case push_delivery::status::sent: return "sent";
    case push_delivery::status::dead_target: return "dead";
    case push_delivery::status::retry: return "retry";
    case push_delivery::status::rejected: return "rejected";
  }
  return "rejected";
}

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

push_decision decide(const storage::push_job& j, const push_worker_options& o) {
  if (!j.target) return {std::nullopt, "the device has no push target any more"};
  push::notification n;
  n.conversation_id = j.conv;
  n.seq = j.seq;
  n.unread = j.unread;
  if (j.kind == "clear") {
    n.kind = push::notification_kind::clear;
    return {n, ""};
  }
  if (!j.member) return {std::nullopt, "the user is no longer a member of the conversation"};
  if (j.deleted) return {std::nullopt, "the message was deleted"};
  if (j.device_delivered >= j.seq) return {std::nullopt, "the device received it within the grace period"};
  if (j.read_seq >= j.seq) return {std::nullopt, "the user read it on another device"};
  if (o.previews && j.content_type == "text/plain") {  // never an encrypted or other opaque body
    n.sender = j.sender;
    n.preview = cut_utf8(j.text, o.preview_bytes);
  }
  return {n, ""};
}

std::chrono::milliseconds retry_delay(int attempt, std::optional<std::chrono::seconds> retry_after, double jitter01,
                                      const push_worker_options& o) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const auto cap = std::min<std::int64_t>(o.backoff_max.count(), o.backoff_base.count() << std::min(shift, 20));
  auto d = std::chrono::milliseconds(static_cast<std::int64_t>(jitter01 * static_cast<double>(cap)));
  if (retry_after) d = std::max<std::chrono::milliseconds>(d, *retry_after);
  return d;
}

std::string idempotency_key(std::int64_t row_id) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(row_id) & 0xffffffffffffULL);
  return buf;
}

push_worker::push_worker(asio::any_io_executor ex, storage::push_store& store, push_transport transport, push_worker_options o)
    : strand_(asio::make_strand(ex)), store_(store), transport_(std::move(transport)), opts_(std::move(o)), timer_(strand_) {}

void push_worker::start() {
  if (!running_.enter()) return;
  asio::co_spawn(strand_, loop(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("push worker failed", "\"error\":" + log::quote(ex.what()));
      } catch (...) {
        log::error("push worker failed", "\"error\":\"unknown exception\"");
      }
    }
    running_.leave();
  });
}

asio::awaitable<void> push_worker::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
  co_await running_.close();
}

asio::awaitable<void> push_worker::pause(std::chrono::milliseconds d) {
  if (stopping_) co_return;
  timer_.expires_after(d);
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> push_worker::loop() {
  while (!stopping_) {
    co_await flush();
    co_await housekeeping();
    const int room = std::min(opts_.batch, opts_.max_in_flight - in_flight_);
    if (room <= 0) {
      co_await pause(opts_.poll);
      continue;
    }
    auto jobs = co_await store_.claim(opts_.node, room, opts_.lease.count(), opts_.providers);
    if (!jobs) {
      log::warn("push queue claim failed; retrying", "\"error\":" + log::quote(jobs.error().message));
      co_await pause(opts_.poll * 5);
      continue;
    }
    for (const auto& j : *jobs) {
      try {
        dispatch(j);
      } catch (const std::exception& e) {  // one bad row must not stop the worker
        outcomes_.push_back({j.id, "rejected", std::string("internal error: ") + e.what(), std::nullopt, {}, j.attempts});
        log::error("push dispatch failed", "\"id\":" + std::to_string(j.id) + ",\"error\":" + log::quote(e.what()));
      }
    }
    if (static_cast<int>(jobs->size()) < room) {
      const auto wait = co_await idle_wait();
      co_await pause(wait);
    }
  }
  // Stopping: wait for the sends in flight (the transport times each out), then record them.
  while (in_flight_ > 0) {
    timer_.expires_after(std::chrono::milliseconds(20));
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_await flush();
}

asio::awaitable<std::chrono::milliseconds> push_worker::idle_wait() {
  // Until the next row comes due (rows are queued a grace period before they are due), at most
  // poll: rows another node queues are seen by looking. A row due already but not claimable (a
  // clear behind a message push in flight) waits a whole poll.
  auto next = co_await store_.next_due();
  if (!next) {
    log::warn("push queue next due time not read", "\"error\":" + log::quote(next.error().message));
    co_return opts_.poll;
  }
  const std::int64_t now = now_ms();
  if (!*next || **next <= now) co_return opts_.poll;
  co_return std::clamp(std::chrono::milliseconds(**next - now), std::chrono::milliseconds(1), opts_.poll);
}

asio::awaitable<void> push_worker::flush() {
  if (outcomes_.empty()) co_return;
  auto batch = std::move(outcomes_);
  outcomes_.clear();
  auto done = co_await store_.finish(opts_.node, batch);
  if (!done) {
    // Kept and tried again on the next pass (while the claims last): the pushes were sent.
    log::warn("push outcomes not recorded; retrying", "\"error\":" + log::quote(done.error().message));
    outcomes_.insert(outcomes_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  }
}

asio::awaitable<void> push_worker::housekeeping() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_housekeeping_) co_return;
  next_housekeeping_ = now + std::chrono::seconds(5);
  if (auto q = co_await store_.queued(); q) metrics::node().push_queue.set(static_cast<double>(*q));
  // Up to 20 000 rows per pass, 1000 per transaction (a busy channel finishes many rows a second).
  for (int i = 0; i < 20; ++i) {
    auto pruned = co_await store_.prune(now_ms() - opts_.retention.count(), 1000);
    if (!pruned) log::warn("push queue prune failed", "\"error\":" + log::quote(pruned.error().message));
    if (!pruned || *pruned < 1000) break;
  }
}

void push_worker::dispatch(const storage::push_job& j) {
  auto decision = decide(j, opts_);
  const std::string provider = j.target ? j.target->kind : "none";
  if (!decision.send) {
    outcomes_.push_back({j.id, "skipped", decision.skip, std::nullopt, {}, j.attempts});
    metrics::node().push_outcomes.labels({provider, "skipped"}).inc();
    return;
  }
  auto to = push::parse_target_json(j.target->target, opts_.endpoints);
  if (!to) {
    outcomes_.push_back({j.id, "rejected", "the stored target is no longer accepted: " + to.error().message, std::nullopt, {}, j.attempts});
    metrics::node().push_outcomes.labels({provider, "rejected"}).inc();
    return;
  }
  ++in_flight_;  // counts the waiting too: the claims' room is what is neither sent nor waiting
  auto& l = lanes_[provider];
  if (l.sending >= opts_.max_in_flight_per_provider) {
    l.waiting.push_back({j, std::move(*to), std::move(*decision.send)});
    return;
  }
  send(l, {j, std::move(*to), std::move(*decision.send)});
}

void push_worker::send(lane& l, ready r) {
  ++l.sending;
  const auto key = idempotency_key(r.job.id);
  transport_(r.to, r.n, key, [this, j = std::move(r.job)](push_delivery d) mutable {
    asio::post(strand_, [this, j = std::move(j), d = std::move(d)]() mutable {
      const std::string provider = j.target->kind;
      finished(j, provider, j.target->target, std::move(d));
    });
  });
}

void push_worker::finished(const storage::push_job& j, const std::string& provider, const std::string& target, push_delivery d) {
  --in_flight_;
  auto& l = lanes_[provider];
  --l.sending;
  if (stopping_) {  // the waiting were not sent: their claims expire, and they are sent later
    in_flight_ -= static_cast<int>(l.waiting.size());
    l.waiting.clear();
  }
  if (!l.waiting.empty()) {
    auto next = std::move(l.waiting.front());
    l.waiting.pop_front();
    send(l, std::move(next));
  }
  metrics::node().push_outcomes.labels({provider, outcome_name(d.st)}).inc();
  metrics::node().push_delay.observe(static_cast<double>(std::max<std::int64_t>(0, now_ms() - j.due_ms)) / 1000.0);
  storage::push_outcome o{j.id, "sent", d.detail, std::nullopt, {}, j.attempts};
  // The message by conversation and seq, as admin_trace takes it (issue 17).
  std::string about = "\"device\":" + std::to_string(j.device) + ",\"provider\":" + log::quote(provider) +
                      ",\"conv\":" + std::to_string(j.conv) + ",\"seq\":" + std::to_string(j.seq);
  if (d.st != push_delivery::status::sent && opts_.trace_of)
    if (const auto t = opts_.trace_of(j.conv, j.seq)) about += ",\"trace_id\":" + std::to_string(t);
  switch (d.st) {
    case push_delivery::status::sent: break;
    case push_delivery::status::dead_target:
      o.state = "dead";
      o.dead_target = target;
      log::info("push target gone; removed", about + ",\"detail\":" + log::quote(d.detail));
      break;
    case push_delivery::status::rejected:
      o.state = "rejected";
      log::warn("push rejected", about + ",\"detail\":" + log::quote(d.detail));
      break;
    case push_delivery::status::retry:
      if (j.attempts >= opts_.max_attempts) {
        o.state = "failed";
        o.detail = "gave up after " + std::to_string(j.attempts) + " attempts: " + d.detail;
      } else {
        o.state = "queued";
        o.retry_at_ms = now_ms() + retry_delay(j.attempts, d.retry_after, jitter(), opts_).count();
      }
      log::warn("push failed", about + ",\"attempt\":" + std::to_string(j.attempts) + ",\"detail\":" + log::quote(d.detail));
      break;
  }
  outcomes_.push_back(std::move(o));
}

}  // namespace confab::server
