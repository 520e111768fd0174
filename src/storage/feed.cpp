#include "storage/feed.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "core/time.hpp"
#include "storage/event_row.hpp"
#include "storage/store_detail.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <limits>

namespace confab::storage {
namespace asio = boost::asio;
namespace {

error to_error(const db_error& e) { return make_error(e.code, e.message); }

// Conversations in (lo, hi] whose last_seq is past the consumer's cursor, ascending by id.
constexpr std::string_view changed_sql =
    "SELECT c.id, c.last_seq, COALESCE(f.seq, 0) FROM conversations c "
    "LEFT JOIN feed_cursors f ON f.consumer = $1 AND f.conv_id = c.id "
    "WHERE c.id > $2 AND c.id <= $3 AND c.last_seq > COALESCE(f.seq, 0) ORDER BY c.id LIMIT $4";

constexpr std::int64_t max_id = std::numeric_limits<std::int64_t>::max();

// Appends to b the unhandled events of the changed conversations in (lo, hi], up to limit events
// in all. Returns false on a database error (in err).
bool read_range(connection& c, std::string_view consumer, id_t lo, id_t hi, int limit, feed_batch& b, error& err) {
  auto convs = query(c, changed_sql, {consumer, lo, hi, std::int64_t{limit}});
  if (!convs) {
    err = to_error(convs.error());
    return false;
  }
  for (const auto& cv : *convs) {
    const auto room = limit - static_cast<int>(b.events.size());
    if (room <= 0) break;
    const id_t conv = cv.i64(0);
    auto evs = query(c,
                     "SELECT " + std::string(event_cols) +
                         " FROM events WHERE conv_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
                     {conv, cv.i64(2), cv.i64(1), std::int64_t{room}});
    if (!evs) {
      err = to_error(evs.error());
      return false;
    }
    if (evs->empty()) continue;
    for (const auto& r : *evs) {
      auto e = to_event(r);
      if (!e) {
        err = e.error();
        return false;
      }
      b.events.push_back(std::move(*e));
    }
    b.reached.push_back({conv, b.events.back().seq});
    b.next_conv = conv;
  }
  return true;
}

}  // namespace

task<feed_batch> feed::read(const std::string& consumer, int limit, id_t after_conv) {
  return ex_.read<feed_batch>([consumer, limit, after_conv](connection& c) -> result<feed_batch> {
    if (consumer.empty()) return make_error(errc::invalid_field, "a feed consumer needs a name");
    if (limit < 1 || limit > 10000) return make_error(errc::invalid_field, "feed batch limit must be in 1..10000");
    feed_batch b;
    error err;
    // Round robin: the conversations after the last one read, then those from the start.
    if (!read_range(c, consumer, after_conv, max_id, limit, b, err)) return err;
    if (static_cast<int>(b.events.size()) < limit && after_conv > 0 &&
        !read_range(c, consumer, 0, after_conv, limit, b, err))
      return err;
    return b;
  });
}

task<nothing> feed::commit(const std::string& consumer, const std::vector<feed_position>& positions) {
  return ex_.write<nothing>([consumer, positions](write_context& ctx) -> result<nothing> {
    if (consumer.empty()) return make_error(errc::invalid_field, "a feed consumer needs a name");
    for (const auto& p : positions) {
      // Monotonic: a late or repeated commit never moves the cursor back.
      auto r = query(ctx.db,
                     "INSERT INTO feed_cursors (consumer, conv_id, seq) VALUES ($1, $2, $3) "
                     "ON CONFLICT (consumer, conv_id) DO UPDATE SET seq = excluded.seq "
                     "WHERE feed_cursors.seq < excluded.seq",
                     {std::string_view(consumer), p.conv, p.seq});
      if (!r) return to_error(r.error());
    }
    return nothing{};
  });
}

namespace {

// The guard of feed.hpp's leases, as a statement: true if this transaction may touch the lease row
// of $1 (no other transaction is claiming it now).
result<bool> lease_guarded(connection& c, const std::string& consumer) {
  auto g = query(c, "SELECT 1 WHERE " + c.strategy()->lease_guard(1), {std::string_view(consumer)});
  if (!g) return to_error(g.error());
  return !g->empty();
}

}  // namespace

task<bool> feed::claim(const std::string& consumer, const std::string& holder, std::chrono::milliseconds ttl, bool want) {
  return ex_.write<bool>([consumer, holder, ttl, want](write_context& ctx) -> result<bool> {
    if (consumer.empty() || holder.empty()) return make_error(errc::invalid_field, "a feed lease needs a consumer and a holder");
    if (ttl.count() < 1) return make_error(errc::invalid_field, "a feed lease lasts at least 1 ms");
    connection& c = ctx.db;
    CONFAB_TRY(guarded, lease_guarded(c, consumer));
    if (!*guarded) return false;
    const std::int64_t now = now_ms(), until = now + ttl.count();
    CONFAB_TRY(row, query(c, "SELECT holder, until_ms, wanted_by FROM feed_leases WHERE consumer = $1", {std::string_view(consumer)}));
    auto set = [&](std::string_view to, std::int64_t to_until, std::string_view wanted) -> result<nothing> {
      auto w = query(c,
                     "INSERT INTO feed_leases (consumer, holder, until_ms, wanted_by) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (consumer) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms, "
                     "wanted_by = excluded.wanted_by",
                     {std::string_view(consumer), to, to_until, wanted});
      if (!w) return to_error(w.error());
      return nothing{};
    };
    if (row->empty()) {
      CONFAB_TRY(w, set(holder, until, ""));
      return true;
    }
    const std::string cur = (*row)[0].str(0), wanted = (*row)[0].str(2);
    const bool expired = (*row)[0].i64(1) < now;
    const bool other_wants = !wanted.empty() && wanted != holder;
    if (cur == holder && other_wants) {  // hand over to the one that asked (a reindex)
      CONFAB_TRY(w, set(wanted, until, ""));
      return false;
    }
    if (cur == holder || (expired && !other_wants)) {
      CONFAB_TRY(w, set(holder, until, ""));
      return true;
    }
    if (want && wanted != holder) {  // ask the holder to hand it over at its next claim
      CONFAB_TRY(w, set(cur, (*row)[0].i64(1), holder));
    }
    return false;
  });
}

task<bool> feed::release(const std::string& consumer, const std::string& holder) {
  return ex_.write<bool>([consumer, holder](write_context& ctx) -> result<bool> {
    CONFAB_TRY(guarded, lease_guarded(ctx.db, consumer));
    if (!*guarded) return false;  // another node is claiming it now
    auto r = query(ctx.db, "UPDATE feed_leases SET until_ms = 0 WHERE consumer = $1 AND holder = $2",
                   {std::string_view(consumer), std::string_view(holder)});
    if (!r) return to_error(r.error());
    return true;
  });
}

asio::awaitable<result<bool>> release_lease(feed& f, const std::string& consumer, const std::string& holder) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 0; i < 50; ++i) {
    auto r = co_await f.release(consumer, holder);
    if (!r || *r) co_return r;
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return false;
}

task<nothing> feed::reset(const std::string& consumer) {
  return ex_.write<nothing>([consumer](write_context& ctx) -> result<nothing> {
    auto r = query(ctx.db, "DELETE FROM feed_cursors WHERE consumer = $1", {std::string_view(consumer)});
    if (!r) return to_error(r.error());
    return nothing{};
  });
}

task<feed_progress> feed::progress(const std::string& consumer) {
  return ex_.read<feed_progress>([consumer](connection& c) -> result<feed_progress> {
    CONFAB_TRY(t, query(c, "SELECT COALESCE(SUM(last_seq), 0) FROM conversations", {}));
    CONFAB_TRY(d, query(c, "SELECT COALESCE(SUM(seq), 0), COUNT(*) FROM feed_cursors WHERE consumer = $1", {std::string_view(consumer)}));
    return feed_progress{(*d)[0].i64(0), (*t)[0].i64(0), (*d)[0].i64(1) > 0};
  });
}

task<std::vector<feed_position>> feed::cursor(const std::string& consumer) {
  return ex_.read<std::vector<feed_position>>([consumer](connection& c) -> result<std::vector<feed_position>> {
    auto r = query(c, "SELECT conv_id, seq FROM feed_cursors WHERE consumer = $1 ORDER BY conv_id",
                   {std::string_view(consumer)});
    if (!r) return to_error(r.error());
    std::vector<feed_position> out;
    for (const auto& x : *r) out.push_back({x.i64(0), x.i64(1)});
    return out;
  });
}

// --------------------------------------------------------------------------- feed_runner

feed_runner::feed_runner(asio::any_io_executor ex, feed& f, std::string consumer, handler h, options o)
    : strand_(asio::make_strand(ex)),
      feed_(f),
      consumer_(std::move(consumer)),
      handler_(std::move(h)),
      opts_(std::move(o)),
      timer_(strand_) {}

void feed_runner::start() {
  if (!running_.enter()) return;  // already stopped
  asio::co_spawn(strand_, loop(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("feed consumer failed", "\"consumer\":" + log::quote(consumer_) + ",\"error\":" + log::quote(ex.what()));
      }
    }
    running_.leave();
  });
}

asio::awaitable<void> feed_runner::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
  co_await running_.close();
}

asio::awaitable<void> feed_runner::pause(std::chrono::milliseconds d) {
  if (stopping_) co_return;
  timer_.expires_after(d);
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<bool> feed_runner::hold_lease() {
  if (opts_.lease_holder.empty()) co_return true;
  // Held and renewed less than a quarter of a lease ago: no claim (a write) before every batch.
  const auto now = std::chrono::steady_clock::now();
  if (holding_ && now < claimed_at_ + opts_.lease / 4) co_return true;
  const std::string who = "\"consumer\":" + log::quote(consumer_) + ",\"holder\":" + log::quote(opts_.lease_holder);
  auto held = co_await feed_.claim(consumer_, opts_.lease_holder, opts_.lease);
  if (!held) {
    log::warn("feed lease claim failed", who + ",\"error\":" + log::quote(held.error().message));
    co_await pause(opts_.retry);
    co_return false;
  }
  if (*held != holding_) log::info(*held ? "feed lease taken" : "feed lease held by another node", who);
  holding_ = *held;
  claimed_at_ = now;
  if (!*held) co_await pause(opts_.poll);
  co_return *held;
}

asio::awaitable<result<feed_step>> run_feed_step(feed& f, const std::string& consumer, int limit, id_t after_conv,
                                       const feed_runner::handler& h, const std::function<void()>& after_handle) {
  auto batch = co_await f.read(consumer, limit, after_conv);
  if (!batch) co_return make_error(batch.error().code, "feed read failed: " + batch.error().message);
  if (batch->events.empty()) co_return feed_step{};
  result<nothing> handled = nothing{};
  try {
    handled = co_await h(*batch);
  } catch (const std::exception& e) {
    handled = make_error(errc::internal, e.what());
  }
  if (!handled)
    co_return make_error(handled.error().code, "feed handler failed; the batch will be read again: " + handled.error().message);
  if (after_handle) after_handle();
  auto committed = co_await f.commit(consumer, batch->reached);
  if (!committed)
    co_return make_error(committed.error().code,
                         "feed cursor commit failed; the batch will be delivered again: " + committed.error().message);
  co_return feed_step{static_cast<std::int64_t>(batch->events.size()), batch->next_conv};
}

asio::awaitable<void> feed_runner::loop() {
  const std::string who = "\"consumer\":" + log::quote(consumer_);
  auto& m = metrics::node();
  auto& handled = m.feed_events.labels({consumer_});
  auto& failed = m.feed_errors.labels({consumer_});
  auto& lag = m.feed_lag.labels({consumer_});
  // The lag is read off each batch before it is handled: how old its oldest event is.
  const handler measured = [this, &lag](const feed_batch& b) {
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (const auto& e : b.events) oldest = std::min(oldest, e.ts_ms);
    if (!b.events.empty()) lag.set(static_cast<double>(std::max<std::int64_t>(0, now_ms() - oldest)) / 1000.0);
    return handler_(b);
  };
  id_t next_conv = 0;
  while (!stopping_) {
    if (!co_await hold_lease()) continue;
    auto s = co_await run_feed_step(feed_, consumer_, opts_.batch, next_conv, measured, opts_.after_handle);
    if (!s) {
      failed.inc();
      log::warn("feed step failed", who + ",\"error\":" + log::quote(s.error().message));
      co_await pause(opts_.retry);
    } else if (s->events == 0) {
      lag.set(0);
      next_conv = 0;
      co_await pause(opts_.poll);
    } else {
      handled.inc(static_cast<std::uint64_t>(s->events));
      next_conv = s->next_conv;
    }
  }
  if (holding_) {
    auto r = co_await release_lease(feed_, consumer_, opts_.lease_holder);
    if (!r || !*r)
      log::warn("feed lease release failed; it expires on its own",
                who + ",\"error\":" + log::quote(r ? "other nodes were claiming it at every try" : r.error().message));
  }
}

}  // namespace confab::storage
