// The store's messages and streams: sends (run together, send_group.cpp), history pages and the
// user stream.
#include "storage/send_group.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>
#include <limits>

namespace confab::storage {
using namespace detail;

task<send_ack> store::send(const send_request& req) {
  return ex_->write_grouped<pending_send, send_ack>(*sends_, pending_send{req, sink_});
}

task<history_page> store::history(id_t user, id_t conv, std::optional<std::int64_t> before,
                                  std::optional<std::int64_t> after, int limit) {
  return ex_->read<history_page>([=](connection& c) -> result<history_page> {
    CONFAB_TRY(m, load_membership(c, conv, user));
    if (m->role == conv_role::none) return make_error(errc::forbidden, "not a member of this conversation");
    // A former member reads up to (and including) the event that removed them.
    const std::int64_t upper = m->left_seq.value_or(std::numeric_limits<std::int64_t>::max());
    const std::int64_t n = limit + 1;
    std::string sql = "SELECT " + std::string(event_cols) + " FROM events WHERE conv_id = $1 AND seq <= $2 ";
    db_result<rows> r;
    bool descending = !after;
    if (after) {
      sql += "AND seq > $3 ORDER BY seq ASC LIMIT $4";
      r = query(c, sql, {conv, upper, *after, n});
    } else if (before) {
      // One upper bound, not two: SQLite picks one bound of a prepared statement for the index
      // range and filters by the other, and picking seq <= upper scanned everything above
      // `before` (history pages got slower with conversation length; bench history, 1M).
      const std::int64_t below = std::min(*before, upper == std::numeric_limits<std::int64_t>::max() ? upper : upper + 1);
      r = query(c, "SELECT " + std::string(event_cols) + " FROM events WHERE conv_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                {conv, below, n});
    } else {
      sql += "ORDER BY seq DESC LIMIT $3";
      r = query(c, sql, {conv, upper, n});
    }
    if (!r) return to_error(r.error());
    history_page page;
    page.has_more = static_cast<int>(r->size()) > limit;
    for (std::size_t i = 0; i < r->size() && static_cast<int>(i) < limit; ++i) {
      CONFAB_TRY(ev, to_event((*r)[i]));
      page.events.push_back(std::move(*ev));
    }
    if (descending) std::reverse(page.events.begin(), page.events.end());
    CONFAB_TRY(d, decorate(c, user, page.events));
    return page;
  });
}

// ---------------------------------------------------------------- the user stream

namespace {
// A page of the user's stream: positions with their events (event_cols from column 1 on).
const std::string& stream_sql() {
  static const std::string sql = "SELECT s.pos, " + event_cols_of("e") +
                                 " FROM stream s JOIN events e ON e.conv_id = s.conv_id AND e.seq = s.seq "
                                 "WHERE s.user_id = $1 AND s.pos > $2 ORDER BY s.pos LIMIT $3";
  return sql;
}
}  // namespace

task<stream_page> store::read_stream(id_t user, std::int64_t after_pos, int limit) {
  return ex_->read<stream_page>([=](connection& c) -> result<stream_page> {
    CONFAB_TRY(head, query(c, "SELECT COALESCE((SELECT MAX(pos) FROM stream WHERE user_id = $1), 0) FROM users WHERE id = $1", {user}));
    if (head->empty()) return make_error(errc::not_found, "no such user");
    CONFAB_TRY(r, query(c,
                        stream_sql(),
                        {user, after_pos, std::int64_t{limit}}));
    stream_page page;
    page.head = (*head)[0].i64(0);
    for (auto& x : *r) {
      CONFAB_TRY(ev, to_event(x, 1));
      page.items.push_back({x.i64(0), std::move(*ev)});
    }
    std::vector<event*> evs;
    evs.reserve(page.items.size());
    for (auto& it : page.items) evs.push_back(&it.ev);
    CONFAB_TRY(d, decorate(c, user, evs));
    return page;
  });
}

task<std::int64_t> store::stream_head(id_t user) {
  return ex_->read<std::int64_t>([=](connection& c) -> result<std::int64_t> {
    CONFAB_TRY(head, query(c, "SELECT COALESCE((SELECT MAX(pos) FROM stream WHERE user_id = $1), 0) FROM users WHERE id = $1", {user}));
    if (head->empty()) return make_error(errc::not_found, "no such user");
    return (*head)[0].i64(0);
  });
}

}  // namespace confab::storage
