// SQLite's way of writing (store_strategy): separate statements, stream positions from MAX(pos),
// sends one by one. SQLite has one writer: the batch transaction holds the database's write lock
// from BEGIN IMMEDIATE, so nothing another writer does can fall between a check and a write.
#include "storage/sqlite/sqlite_search.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include "core/time.hpp"
#include "protocol/codec.hpp"
#include "storage/store_detail.hpp"

namespace confab::storage::sqlite {
using namespace detail;
namespace {

// SQLite: separate statements (no DML in CTEs, and no round trips to save). Each active member's
// next stream position is one past the last in their stream (an index probe, no head row to
// write): the batch transaction holds the database's only write lock from BEGIN IMMEDIATE, so
// no other writer can take the same position meanwhile.
result<nothing> append_sqlite(connection& c, const event& ev, std::vector<recipient>& to, std::optional<id_t> reader) {
  param client = ev.client_id.empty() ? param{} : param{std::string_view(ev.client_id)};
  param reply = ev.reply_to ? param{*ev.reply_to} : param{};
  const std::string data = protocol::payload_text(ev.payload);
  // issue 11, threads and mentions: thread_root, thread_flags, mentions
  param root = ev.thread_root ? param{*ev.thread_root} : param{};
  const std::string mentioned = mentions_text(ev.mentions);
  const param ps[] = {ev.conv,  ev.seq,   to_string(ev.kind), ev.sender, ev.device, client,
                      ev.ts_ms, std::string_view(ev.text), std::string_view(ev.content_type), reply,
                      std::string_view(data), ev.edited_ms ? param{*ev.edited_ms} : param{}, std::int64_t{ev.deleted ? 1 : 0},
                      root, thread_flags(ev), std::string_view(mentioned)};
  if (auto r = c.query("INSERT INTO events (" + std::string(event_cols) +
                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                       ps);
      !r)
    return to_error(r.error());
  if (auto only = stream_filter(ev)) {  // issue 12: a channel's messages write no stream row
    CONFAB_TRY(up, query(c,
                         "INSERT INTO stream (user_id, pos, conv_id, seq) SELECT m.user_id, "
                         "COALESCE((SELECT MAX(s.pos) FROM stream s WHERE s.user_id = m.user_id), 0) + 1, "
                         "CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM members m "
                         "WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL" + *only + " RETURNING user_id, pos",
                         {ev.conv, ev.seq}));
    to.reserve(up->size());
    for (auto& r : *up) to.push_back({r.i64(0), r.i64(1)});
  }
  if (reader) {
    CONFAB_TRY(rd, query(c, "UPDATE members SET read_seq = $3, delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2 AND read_seq < $3",
                         {ev.conv, *reader, ev.seq}));
  }
  return nothing{};
}

// One send, statement by statement (SQLite). The checks run before the conversation's row is
// written, which is safe there: the batch transaction holds the database's only write lock from
// BEGIN IMMEDIATE, so nothing can change between the checks and the append. (A repeat must be
// found before the seq moves: its ack is a success, so no rollback would undo the move.)
result<send_ack> send_one(write_context& ctx, send_request& req, event_sink* sink) {
  auto& c = ctx.db;
  CONFAB_TRY(chk, query(c,
                        "SELECT d.conv_id, d.seq, d.ts_ms, cv.kind, cv.last_seq, m.role, m.left_seq, cv.moderated "
                        "FROM (SELECT 1 AS one) x "
                        "LEFT JOIN events d ON d.device_id = $1 AND d.client_id = $2 "
                        "LEFT JOIN conversations cv ON cv.id = $3 "
                        "LEFT JOIN members m ON m.conv_id = cv.id AND m.user_id = $4",
                        {req.device, std::string_view(req.client_id), req.conv, req.user}));
  if (auto done = check_send(req, (*chk)[0], 0)) return std::move(*done);
  if (has_thread_work(req)) {
    CONFAB_TRY(th, check_thread_send(c, req));
  }  // issue 11, threads and mentions
  if ((*chk)[0].i64(7) != 0) {  // moderation: post policy, mute, slow mode
    CONFAB_TRY(moderated, check_post_moderation(c, req, now_ms()));
  }
  auto ev = message_event(req, now_ms());
  CONFAB_TRY(o, open_event(c, req.conv, ev.ts_ms));
  ev.seq = o->seq;
  const auto ts = ev.ts_ms;
  // The sender has read everything up to their own message.
  CONFAB_TRY(a, append_event(ctx, std::move(ev), sink, req.user));
  if (has_thread_work(req)) {
    CONFAB_TRY(th, apply_thread_send(c, req, o->seq, ts));
  }  // issue 11, threads and mentions
  return send_ack{req.conv, o->seq, ts, false};
}

class sqlite_strategy final : public store_strategy {
 public:
  result<nothing> append_event(connection& c, const event& ev, std::vector<recipient>& to,
                               std::optional<id_t> reader) const override {
    return append_sqlite(c, ev, to, reader);
  }
  bool run_sends(connection& c, std::span<send_item* const> items) const override;
  // SQLite's default collation (BINARY) is byte order.
  std::string bytewise(std::string_view expr) const override { return std::string(expr); }
  result<nothing> search_put(connection& c, std::span<const search_doc> ds) const override { return sqlite::search_put(c, ds); }
  result<nothing> search_remove(connection& c, std::span<const message_key> ks) const override { return sqlite::search_remove(c, ks); }
  search_match match(const search::query& q, int param) const override { return sqlite::match(q, param); }
  // One writer: nothing to take (the placeholder is used, as every bound one must be).
  std::string lease_guard(int param) const override { return "$" + std::to_string(param) + " IS NOT NULL"; }
};

// One send at a time, each in its own (nested) savepoint. A lone send needs none: the executor's
// savepoint around the group is its own, and returning false rolls it back (two statements less
// for the common case of a batch with one send).
bool sqlite_strategy::run_sends(connection& c, std::span<send_item* const> items) const {
  if (items.size() == 1) {
    auto* it = items[0];
    write_context ctx{c, {}};
    it->res.emplace(send_one(ctx, it->req.req, it->req.sink));
    if (c.retry_requested || c.broken) {
      if (*it->res) it->res.emplace(make_error(errc::unavailable, "storage write interrupted"));
      return false;
    }
    if (!*it->res) return false;
    it->after_commit = std::move(ctx.after_commit);
    return true;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto* it = items[i];
    if (auto r = c.exec("SAVEPOINT confab_send"); !r) {
      for (std::size_t k = i; k < items.size(); ++k) items[k]->res.emplace(to_error(r.error()));
      return false;
    }
    write_context ctx{c, {}};
    it->res.emplace(send_one(ctx, it->req.req, it->req.sink));
    if (c.retry_requested || c.broken) {
      for (std::size_t k = 0; k < items.size(); ++k)
        if (k >= i || *items[k]->res) items[k]->res.emplace(make_error(errc::unavailable, "storage write interrupted"));
      return false;
    }
    auto r = c.exec(*it->res ? "RELEASE SAVEPOINT confab_send"
                             : "ROLLBACK TO SAVEPOINT confab_send; RELEASE SAVEPOINT confab_send");
    if (!r) {
      for (std::size_t k = 0; k < items.size(); ++k)
        if (k > i || *items[k]->res) items[k]->res.emplace(to_error(r.error()));
      return false;
    }
    if (*it->res) it->after_commit = std::move(ctx.after_commit);
  }
  return true;
}

}  // namespace

const store_strategy& strategy() {
  static const sqlite_strategy s;
  return s;
}

}  // namespace confab::storage::sqlite
