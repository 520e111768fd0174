#include "storage/feed.hpp"

#include "core/log.hpp"
#include "storage/event_row.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/time.hpp"

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

task<bool> feed::claim(const std::string& consumer, const std::string& holder, std::chrono::milliseconds ttl) {
  return ex_.write<bool>([consumer, holder, ttl](write_context& ctx) -> result<bool> {
    if (consumer.empty() || holder.empty()) return make_error(errc::invalid_field, "a feed lease needs a consumer and a holder");
    if (ttl.count() < 1) return make_error(errc::invalid_field, "a feed lease lasts at least 1 ms");
    const std::int64_t now = now_ms();
    // One statement: no row (the guard's lock taken elsewhere, or another's unexpired lease)
    // means not held.
    auto r = query(ctx.db,
                   "INSERT INTO feed_leases (consumer, holder, until_ms) "
                   "SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT) WHERE " + ctx.db.strategy()->lease_guard(1) + " "
                   "ON CONFLICT (consumer) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms "
                   "WHERE feed_leases.holder = excluded.holder OR feed_leases.until_ms < CAST($4 AS BIGINT) "
                   "RETURNING holder",
                   {std::string_view(consumer), std::string_view(holder), now + ttl.count(), now});
    if (!r) return to_error(r.error());
    return !r->empty();
  });
}

task<nothing> feed::release(const std::string& consumer, const std::string& holder) {
  return ex_.write<nothing>([consumer, holder](write_context& ctx) -> result<nothing> {
    auto r = query(ctx.db,
                   "UPDATE feed_leases SET until_ms = 0 WHERE consumer = $1 AND holder = $2 AND " + ctx.db.strategy()->lease_guard(1),
                   {std::string_view(consumer), std::string_view(holder)});
    if (!r) return to_error(r.error());
    return nothing{};
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
  const std::string who = "\"consumer\":" + log::quote(consumer_) + ",\"holder\":" + log::quote(opts_.lease_holder);
  auto held = co_await feed_.claim(consumer_, opts_.lease_holder, opts_.lease);
  if (!held) {
    log::warn("feed lease claim failed", who + ",\"error\":" + log::quote(held.error().message));
    co_await pause(opts_.retry);
    co_return false;
  }
  if (*held != holding_) log::info(*held ? "feed lease taken" : "feed lease held by another node", who);
  holding_ = *held;
  if (!*held) co_await pause(opts_.poll);
  co_return *held;
}

asio::awaitable<void> feed_runner::loop() {
  const std::string who = "\"consumer\":" + log::quote(consumer_);
  id_t next_conv = 0;
  while (!stopping_) {
    if (!co_await hold_lease()) continue;
    auto batch = co_await feed_.read(consumer_, opts_.batch, next_conv);
    if (!batch) {
      log::warn("feed read failed", who + ",\"error\":" + log::quote(batch.error().message));
      co_await pause(opts_.retry);
      continue;
    }
    if (batch->events.empty()) {
      next_conv = 0;
      co_await pause(opts_.poll);
      continue;
    }
    result<nothing> handled = nothing{};
    try {
      handled = co_await handler_(*batch);
    } catch (const std::exception& e) {
      handled = make_error(errc::internal, e.what());
    }
    if (!handled) {
      log::warn("feed handler failed; the batch will be read again",
                who + ",\"error\":" + log::quote(handled.error().message));
      co_await pause(opts_.retry);
      continue;
    }
    if (opts_.after_handle) opts_.after_handle();
    auto committed = co_await feed_.commit(consumer_, batch->reached);
    if (!committed) {
      log::warn("feed cursor commit failed; the batch will be delivered again",
                who + ",\"error\":" + log::quote(committed.error().message));
      co_await pause(opts_.retry);
      continue;
    }
    next_conv = batch->next_conv;
  }
  if (holding_) {
    if (auto r = co_await feed_.release(consumer_, opts_.lease_holder); !r)
      log::warn("feed lease release failed; it expires on its own",
                who + ",\"error\":" + log::quote(r.error().message));
  }
}

}  // namespace confab::storage
