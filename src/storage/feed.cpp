#include "storage/feed.hpp"

#include "core/log.hpp"
#include "storage/event_row.hpp"

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

asio::awaitable<void> feed_runner::loop() {
  const std::string who = "\"consumer\":" + log::quote(consumer_);
  id_t next_conv = 0;
  while (!stopping_) {
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
}

}  // namespace confab::storage
