#include "storage/store_detail.hpp"

#include "core/time.hpp"
#include "protocol/codec.hpp"

#include <algorithm>

namespace confab::storage::detail {

result<event> to_event(const row& r, std::size_t o) {
  event e;
  e.conv = r.i64(o + 0);
  e.seq = r.i64(o + 1);
  auto kind = parse_event_kind(r.str(o + 2));
  if (!kind) return make_error(errc::internal, "stored event has an unknown kind: " + r.str(o + 2));
  e.kind = *kind;
  e.sender = r.i64(o + 3);
  e.device = r.i64(o + 4);
  e.client_id = r.str(o + 5);
  e.ts_ms = r.i64(o + 6);
  e.text = r.str(o + 7);
  e.content_type = r.str(o + 8);
  e.reply_to = r.opt_i64(o + 9);
  auto payload = protocol::parse_payload(e.kind, r.str(o + 10));
  if (!payload) return payload.error();
  e.payload = std::move(*payload);
  return e;
}

result<conv_kind> kind_cell(const row& r, std::size_t i) {
  auto k = parse_conv_kind(r.str(i));
  if (!k) return make_error(errc::internal, "stored conversation has an unknown kind: " + r.str(i));
  return *k;
}

result<conv_role> role_cell(const row& r, std::size_t i) {
  auto k = parse_role(r.str(i));
  if (!k) return make_error(errc::internal, "stored membership has an unknown role: " + r.str(i));
  return *k;
}

result<membership> load_membership(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(r, query(c,
                      "SELECT c.kind, c.last_seq, m.role, m.left_seq FROM conversations c "
                      "LEFT JOIN members m ON m.conv_id = c.id AND m.user_id = $2 WHERE c.id = $1",
                      {conv, user}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  membership m;
  CONFAB_TRY(kind, kind_cell((*r)[0], 0));
  CONFAB_TRY(role, role_cell((*r)[0], 2));
  m.kind = *kind;
  m.last_seq = (*r)[0].i64(1);
  m.role = *role;
  m.left_seq = (*r)[0].opt_i64(3);
  return m;
}

result<membership> require_active(connection& c, id_t conv, id_t user) {
  auto m = load_membership(c, conv, user);
  if (!m) return m;
  if (!m->active()) return make_error(errc::forbidden, "not a member of this conversation");
  return m;
}

// Membership changes touch up to --max-group-members users; one statement each instead of one
// per user keeps the single writer free for everyone else.
std::string placeholders(int first, std::size_t n) {
  std::string s = "(";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += "$" + std::to_string(first + static_cast<int>(i));
  }
  return s + ")";
}

result<nothing> require_users(connection& c, const std::vector<id_t>& users) {
  std::vector<param> ps(users.begin(), users.end());
  auto r = c.query("SELECT id FROM users WHERE id IN " + placeholders(1, users.size()) + " ORDER BY id", ps);
  if (!r) return to_error(r.error());
  std::size_t i = 0;
  for (auto& row : *r) {
    if (row.i64(0) != users[i]) break;
    ++i;
  }
  if (i < users.size()) return make_error(errc::not_found, "no such user: " + std::to_string(users[i]));
  return nothing{};
}

result<nothing> upsert_members(connection& c, id_t conv, const std::vector<id_t>& users, std::int64_t joined_seq) {
  std::vector<param> ps{conv, joined_seq};
  std::string sql = "INSERT INTO members (conv_id, user_id, role, joined_seq) VALUES ";
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i) sql += ", ";
    sql += "(CAST($1 AS BIGINT), $" + std::to_string(i + 3) + ", 'member', CAST($2 AS BIGINT))";
    ps.push_back(users[i]);
  }
  sql += " ON CONFLICT (conv_id, user_id) DO UPDATE SET role = 'member', joined_seq = excluded.joined_seq, left_seq = NULL";
  if (auto r = c.query(sql, ps); !r) return to_error(r.error());
  return nothing{};
}

result<opened> open_event(connection& c, id_t conv, std::int64_t ts_ms) {
  CONFAB_TRY(r, query(c, "UPDATE conversations SET last_seq = last_seq + 1, last_ms = $2 WHERE id = $1 RETURNING kind, last_seq",
                      {conv, ts_ms}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  CONFAB_TRY(kind, kind_cell((*r)[0], 0));
  return opened{*kind, (*r)[0].i64(1)};
}

namespace {

// PostgreSQL: the event, each active member's stream row and the reader's pointers in one
// statement (one round trip). Stream positions come from the members' head rows (user_heads),
// moved up by one each: the upsert takes their row locks in ascending user id (the order of its
// input), after the conversation's lock (open_event), so writers on several nodes appending to
// conversations that share members queue on those rows instead of colliding on the stream's key
// or deadlocking; ON CONFLICT DO UPDATE reads the latest committed head, whatever the statement's
// snapshot. The set-based send path (send_group.cpp) takes the same locks in the same order.
result<nothing> append_pg(connection& c, const event& ev, std::vector<recipient>& to, std::optional<id_t> reader) {
  param client = ev.client_id.empty() ? param{} : param{std::string_view(ev.client_id)};
  param reply = ev.reply_to ? param{*ev.reply_to} : param{};
  param rd = reader ? param{*reader} : param{};
  const std::string data = protocol::payload_text(ev.payload);
  const param ps[] = {ev.conv, ev.seq, to_string(ev.kind), ev.sender, ev.device, client, ev.ts_ms,
                      std::string_view(ev.text), std::string_view(ev.content_type), reply, std::string_view(data), rd};
  auto r = c.query(
      "WITH e AS (INSERT INTO events (" + std::string(event_cols) + ") "
      "VALUES (CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS TEXT), "
      "CAST($7 AS BIGINT), CAST($8 AS TEXT), CAST($9 AS TEXT), CAST($10 AS BIGINT), CAST($11 AS TEXT)) RETURNING seq), "
      "h AS (INSERT INTO user_heads AS u (user_id, head) SELECT m.user_id, 1 FROM members m "
      "WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL ORDER BY m.user_id "
      "ON CONFLICT (user_id) DO UPDATE SET head = u.head + 1 RETURNING u.user_id, u.head), "
      "s AS (INSERT INTO stream (user_id, pos, conv_id, seq) SELECT user_id, head, CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM h "
      "RETURNING user_id, pos), "
      "r AS (UPDATE members SET read_seq = CAST($2 AS BIGINT), delivered_seq = CAST($2 AS BIGINT) "
      "WHERE conv_id = CAST($1 AS BIGINT) AND user_id = CAST($12 AS BIGINT) AND read_seq < CAST($2 AS BIGINT) RETURNING 1) "
      "SELECT s.user_id, s.pos FROM s, e",
      ps);
  if (!r) {
    // A unique key here is (device, client_id): another node committed the same send meanwhile.
    // Re-running the batch finds the original ack.
    if (r.error().code == errc::conflict) c.request_retry(r.error().message);
    return to_error(r.error());
  }
  for (auto& row : *r) to.push_back({row.i64(0), row.i64(1)});
  return nothing{};
}

// SQLite: separate statements (no DML in CTEs, and no round trips to save). Each active member's
// next stream position is one past the last in their stream (an index probe, no head row to
// write): the batch transaction holds the database's only write lock from BEGIN IMMEDIATE, so
// no other writer can take the same position meanwhile.
result<nothing> append_sqlite(connection& c, const event& ev, std::vector<recipient>& to, std::optional<id_t> reader) {
  param client = ev.client_id.empty() ? param{} : param{std::string_view(ev.client_id)};
  param reply = ev.reply_to ? param{*ev.reply_to} : param{};
  const std::string data = protocol::payload_text(ev.payload);
  const param ps[] = {ev.conv,  ev.seq,   to_string(ev.kind), ev.sender, ev.device, client,
                      ev.ts_ms, std::string_view(ev.text), std::string_view(ev.content_type), reply,
                      std::string_view(data)};
  if (auto r = c.query("INSERT INTO events (" + std::string(event_cols) + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                       ps);
      !r)
    return to_error(r.error());
  CONFAB_TRY(up, query(c,
                       "INSERT INTO stream (user_id, pos, conv_id, seq) SELECT m.user_id, "
                       "COALESCE((SELECT MAX(s.pos) FROM stream s WHERE s.user_id = m.user_id), 0) + 1, "
                       "CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM members m "
                       "WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL RETURNING user_id, pos",
                       {ev.conv, ev.seq}));
  to.reserve(up->size());
  for (auto& r : *up) to.push_back({r.i64(0), r.i64(1)});
  if (reader) {
    CONFAB_TRY(rd, query(c, "UPDATE members SET read_seq = $3, delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2 AND read_seq < $3",
                         {ev.conv, *reader, ev.seq}));
  }
  return nothing{};
}

}  // namespace

void announce(write_context& ctx, event_sink* sink, event ev, std::vector<recipient> to) {
  if (!sink) return;
  std::sort(to.begin(), to.end(), [](auto& a, auto& b) { return a.user_id < b.user_id; });
  auto prev = std::move(ctx.after_commit);
  ctx.after_commit = [sink, prev = std::move(prev), ev = std::move(ev), to = std::move(to)] {
    if (prev) prev();
    sink->on_committed(ev, to);
  };
}

result<nothing> append_event(write_context& ctx, event ev, event_sink* sink, std::optional<id_t> reader) {
  std::vector<recipient> to;
  auto r = ctx.db.dialect() == "postgres" ? append_pg(ctx.db, ev, to, reader) : append_sqlite(ctx.db, ev, to, reader);
  if (!r) return r;
  announce(ctx, sink, std::move(ev), std::move(to));
  return nothing{};
}

result<std::int64_t> commit_event(write_context& ctx, event ev, event_sink* sink) {
  CONFAB_TRY(o, open_event(ctx.db, ev.conv, ev.ts_ms));
  ev.seq = o->seq;
  CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
  return o->seq;
}

event membership_event(id_t conv, event_kind kind, id_t actor, id_t device, event_payload payload) {
  event e;
  e.conv = conv;
  e.kind = kind;
  e.sender = actor;
  e.device = device;
  e.ts_ms = now_ms();
  e.payload = std::move(payload);
  return e;
}

}  // namespace confab::storage::detail
