#include "storage/send_group.hpp"

#include "core/time.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>
#include <map>

namespace confab::storage {
using namespace detail;
namespace {

// A send's checks: its original ack if (device, client_id) was seen before, else the error that
// refuses it, else nothing (it may be appended). row: d.conv_id, d.seq, d.ts_ms, cv.kind,
// cv.last_seq, m.role, m.left_seq, from the duplicate/membership query.
std::optional<result<send_ack>> check_send(const send_request& req, const row& row, std::size_t o) {
  if (!row.is_null(o + 0)) {
    if (row.i64(o + 0) != req.conv)
      return result<send_ack>(make_error(errc::conflict, "client_id was already used by this device in another conversation"));
    return result<send_ack>(send_ack{row.i64(o + 0), row.i64(o + 1), row.i64(o + 2), true});
  }
  if (row.is_null(o + 3)) return result<send_ack>(make_error(errc::not_found, "no such conversation"));
  auto role = role_cell(row, o + 5);
  if (!role) return result<send_ack>(role.error());
  if (auto ok = chat::may_post({row.is_null(o + 6) ? *role : conv_role::none}); !ok) return result<send_ack>(ok.error());
  const std::int64_t last_seq = row.i64(o + 4);
  if (req.reply_to && (*req.reply_to < 1 || *req.reply_to > last_seq))
    return result<send_ack>(make_error(errc::invalid_field, "reply_to is not an event of this conversation"));
  return std::nullopt;
}

event message_event(const send_request& req, std::int64_t ts) {
  event ev;
  ev.conv = req.conv;
  ev.kind = event_kind::message;
  ev.sender = req.user;
  ev.device = req.device;
  ev.client_id = req.client_id;
  ev.ts_ms = ts;
  ev.text = req.text;
  ev.content_type = req.content_type;
  ev.reply_to = req.reply_to;
  return ev;
}

// One send, statement by statement (SQLite). The checks run before the conversation's row is
// written, which is safe there: the batch transaction holds the database's only write lock from
// BEGIN IMMEDIATE, so nothing can change between the checks and the append. (A repeat must be
// found before the seq moves: its ack is a success, so no rollback would undo the move.)
result<send_ack> send_one(write_context& ctx, const send_request& req, event_sink* sink) {
  auto& c = ctx.db;
  CONFAB_TRY(chk, query(c,
                        "SELECT d.conv_id, d.seq, d.ts_ms, cv.kind, cv.last_seq, m.role, m.left_seq "
                        "FROM (SELECT 1 AS one) x "
                        "LEFT JOIN events d ON d.device_id = $1 AND d.client_id = $2 "
                        "LEFT JOIN conversations cv ON cv.id = $3 "
                        "LEFT JOIN members m ON m.conv_id = cv.id AND m.user_id = $4",
                        {req.device, std::string_view(req.client_id), req.conv, req.user}));
  if (auto done = check_send(req, (*chk)[0], 0)) return std::move(*done);
  auto ev = message_event(req, now_ms());
  CONFAB_TRY(o, open_event(c, req.conv, ev.ts_ms));
  ev.seq = o->seq;
  const auto ts = ev.ts_ms;
  // The sender has read everything up to their own message.
  CONFAB_TRY(a, append_event(ctx, std::move(ev), sink, req.user));
  return send_ack{req.conv, o->seq, ts, false};
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// A PostgreSQL array literal, built element by element: {1,NULL,"a \"b\""}.
class pg_array {
 public:
  void add(std::int64_t v) { sep() += std::to_string(v); }
  void add(std::optional<std::int64_t> v) { v ? add(*v) : add_null(); }
  void add_null() { sep() += "NULL"; }
  void add_text(std::string_view v) {
    auto& s = sep();
    s += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') s += '\\';
      s += ch;
    }
    s += '"';
  }
  const std::string& str() {
    if (!closed_) {
      s_ += '}';
      closed_ = true;
    }
    return s_;
  }

 private:
  std::string& sep() {
    if (s_.size() > 1) s_ += ',';
    return s_;
  }
  std::string s_ = "{";
  bool closed_ = false;
};

}  // namespace

bool send_group::run(connection& c, std::span<item* const> items) {
  // A string PostgreSQL cannot hold would fail the whole group's statement there: refuse that
  // send alone, on both backends (the API refuses it before; this keeps others' sends safe).
  std::vector<item*> ok;
  ok.reserve(items.size());
  for (auto* it : items) {
    const auto& rq = it->req.req;
    if (has_nul(rq.text) || has_nul(rq.client_id) || has_nul(rq.content_type))
      it->res.emplace(make_error(errc::invalid_field, "a send's strings must not contain NUL characters"));
    else
      ok.push_back(it);
  }
  return c.dialect() == "postgres" ? run_pg(c, ok) : run_each(c, ok);
}

// One send at a time, each in its own (nested) savepoint.
bool send_group::run_each(connection& c, std::span<item* const> items) {
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

// PostgreSQL: every send of the group in four round trips whatever their number (savepoint,
// conversation locks, checks, append), instead of four per send. Statements:
//  1. the conversations' row locks, in ascending id (every writer, and open_event, which locks one
//     conversation, takes them in that order, so writers on several nodes wait for each other
//     instead of deadlocking), returning each one's last seq;
//  2. in a new statement, so under READ COMMITTED its snapshot includes every commit made by the
//     writers it waited for: the duplicate and membership checks of every send, one row each
//     (unnest WITH ORDINALITY). Under the locks, no other writer can change these conversations'
//     members before this transaction ends (membership changes lock the conversation first), so a
//     member removed on another node meanwhile is refused here;
//  3. the append, as data-modifying CTEs over the arrays: the conversations' last seq, the events,
//     every member's head row (user_heads: moved up by the member's number of new events, its row
//     locks taken in ascending user id, the input's order), their stream rows (consecutive
//     positions below the new head, in queue order: seq order within each conversation) and the
//     senders' read pointers. Seqs are handed out in queue order from statement 1's last seqs.
// A send repeated inside the group (same device and client_id) gets the first one's ack, as it
// would have from the checks had it run after it. The statements are planned at every call
// (query_planned): their plans depend on the batch size and on how big the tables are now, and a
// generic plan cached while the tables were nearly empty scanned them whole (a fresh database ran
// at ~1 600 sends/s until autovacuum's ANALYZE, then ~13 000).
bool send_group::run_pg(connection& c, std::span<item* const> items) {
  const std::size_t n = items.size();
  // The first send of each (device, client_id) in the group leads; repeats follow it. (Without a
  // client id a send is never a repeat.)
  std::vector<std::size_t> lead(n);
  std::vector<std::size_t> leaders;
  {
    std::map<std::pair<id_t, std::string_view>, std::size_t> seen;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& rq = items[i]->req.req;
      lead[i] = i;
      if (!rq.client_id.empty()) lead[i] = seen.try_emplace({rq.device, std::string_view(rq.client_id)}, i).first->second;
      if (lead[i] == i) leaders.push_back(i);
    }
  }
  auto fail_all = [&](const error& e) {
    for (auto* it : items)
      if (!it->res || *it->res) it->res.emplace(e);
    return false;
  };
  if (leaders.empty()) return true;

  // 1. locks
  std::map<id_t, std::int64_t> next;  // conv -> the next seq to hand out (ascending id)
  for (auto i : leaders) next.emplace(items[i]->req.req.conv, 0);
  {
    pg_array ids;
    for (auto& [id, s] : next) ids.add(id);
    const param lps[] = {std::string_view(ids.str())};
    auto lk = c.query_planned(
        "SELECT id, last_seq FROM conversations WHERE id = ANY(CAST($1 AS BIGINT[])) ORDER BY id FOR NO KEY UPDATE", lps);
    if (!lk) return fail_all(to_error(lk.error()));
    for (auto& r : *lk) next[r.i64(0)] = r.i64(1) + 1;
  }

  // 2. checks
  pg_array dev, cli, cnv, usr;
  for (auto i : leaders) {
    const auto& rq = items[i]->req.req;
    dev.add(rq.device);
    rq.client_id.empty() ? cli.add_null() : cli.add_text(rq.client_id);
    cnv.add(rq.conv);
    usr.add(rq.user);
  }
  const param cps[] = {std::string_view(dev.str()), std::string_view(cli.str()), std::string_view(cnv.str()),
                       std::string_view(usr.str())};
  auto chk = c.query_planned(
      "SELECT x.i, d.conv_id, d.seq, d.ts_ms, cv.kind, cv.last_seq, m.role, m.left_seq "
      "FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS TEXT[]), CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[])) "
      "WITH ORDINALITY AS x(device_id, client_id, conv_id, user_id, i) "
      "LEFT JOIN events d ON d.device_id = x.device_id AND d.client_id = x.client_id "
      "LEFT JOIN conversations cv ON cv.id = x.conv_id "
      "LEFT JOIN members m ON m.conv_id = cv.id AND m.user_id = x.user_id ORDER BY x.i",
      cps);
  if (!chk) return fail_all(to_error(chk.error()));
  if (chk->size() != leaders.size()) return fail_all(make_error(errc::internal, "send checks returned the wrong number of rows"));
  std::vector<std::size_t> valid;  // leaders that may be appended, in queue order
  for (std::size_t k = 0; k < leaders.size(); ++k) {
    auto* it = items[leaders[k]];
    if (auto done = check_send(it->req.req, (*chk)[k], 1))
      it->res.emplace(std::move(*done));
    else
      valid.push_back(leaders[k]);
  }

  if (!valid.empty()) {
    // 3. the append
    const auto ts = now_ms();
    pg_array a_conv, a_seq, a_sender, a_dev, a_cli, a_body, a_ctype, a_reply;
    std::vector<std::int64_t> seqs(n, 0);
    std::map<std::pair<id_t, std::int64_t>, std::size_t> by_event;  // (conv, seq) -> item
    for (auto i : valid) {
      const auto& rq = items[i]->req.req;
      auto& nx = next[rq.conv];
      if (nx == 0) return fail_all(make_error(errc::internal, "a checked send's conversation was not locked"));
      seqs[i] = nx++;
      by_event.emplace(std::pair{rq.conv, seqs[i]}, i);
      a_conv.add(rq.conv);
      a_seq.add(seqs[i]);
      a_sender.add(rq.user);
      a_dev.add(rq.device);
      rq.client_id.empty() ? a_cli.add_null() : a_cli.add_text(rq.client_id);
      a_body.add_text(rq.text);
      a_ctype.add_text(rq.content_type);
      a_reply.add(rq.reply_to);
    }
    const param aps[] = {std::string_view(a_conv.str()), std::string_view(a_seq.str()),   std::string_view(a_sender.str()),
                         std::string_view(a_dev.str()),  std::string_view(a_cli.str()),   ts,
                         std::string_view(a_body.str()), std::string_view(a_ctype.str()), std::string_view(a_reply.str())};
    auto ap = c.query_planned(
        "WITH x AS (SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[]), CAST($3 AS BIGINT[]), "
        "CAST($4 AS BIGINT[]), CAST($5 AS TEXT[]), CAST($7 AS TEXT[]), CAST($8 AS TEXT[]), CAST($9 AS BIGINT[])) "
        "WITH ORDINALITY AS t(conv_id, seq, sender_id, device_id, client_id, body, content_type, reply_to, i)), "
        "cv AS (UPDATE conversations c SET last_seq = y.seq, last_ms = CAST($6 AS BIGINT) "
        "FROM (SELECT conv_id, MAX(seq) AS seq FROM x GROUP BY conv_id) y WHERE c.id = y.conv_id), "
        "e AS (INSERT INTO events (" + std::string(event_cols) + ") "
        "SELECT conv_id, seq, 'message', sender_id, device_id, client_id, CAST($6 AS BIGINT), body, content_type, reply_to, '' "
        "FROM x), "
        "d AS (SELECT m.user_id, x.i, x.conv_id, x.seq FROM x JOIN members m ON m.conv_id = x.conv_id AND m.left_seq IS NULL), "
        "h AS (INSERT INTO user_heads AS u (user_id, head) SELECT user_id, COUNT(*) FROM d GROUP BY user_id ORDER BY user_id "
        "ON CONFLICT (user_id) DO UPDATE SET head = u.head + excluded.head RETURNING u.user_id, u.head), "
        "s AS (INSERT INTO stream (user_id, pos, conv_id, seq) "
        "SELECT d.user_id, h.head - COUNT(*) OVER (PARTITION BY d.user_id) + row_number() OVER (PARTITION BY d.user_id ORDER BY d.i), "
        "d.conv_id, d.seq FROM d JOIN h ON h.user_id = d.user_id "
        "RETURNING user_id, pos, conv_id, seq), "
        "r AS (UPDATE members m SET read_seq = y.seq, delivered_seq = y.seq "
        "FROM (SELECT conv_id, sender_id, MAX(seq) AS seq FROM x GROUP BY conv_id, sender_id) y "
        "WHERE m.conv_id = y.conv_id AND m.user_id = y.sender_id AND m.read_seq < y.seq) "
        "SELECT user_id, pos, conv_id, seq FROM s",
        aps);
    if (!ap) {
      // A unique key here is (device, client_id): another node committed the same send meanwhile
      // into another conversation. The re-run's checks answer it.
      if (ap.error().code == errc::conflict) c.request_retry(ap.error().message);
      return fail_all(to_error(ap.error()));
    }
    std::vector<std::vector<recipient>> to(n);
    for (auto& r : *ap) {
      auto e = by_event.find({r.i64(2), r.i64(3)});
      if (e != by_event.end()) to[e->second].push_back({r.i64(0), r.i64(1)});
    }
    for (auto i : valid) {
      auto* it = items[i];
      it->res.emplace(send_ack{it->req.req.conv, seqs[i], ts, false});
      if (auto* sink = it->req.sink) {
        std::sort(to[i].begin(), to[i].end(), [](auto& a, auto& b) { return a.user_id < b.user_id; });
        it->after_commit = [sink, ev = message_event(it->req.req, ts), t = std::move(to[i]), s = seqs[i]]() mutable {
          ev.seq = s;
          sink->on_committed(ev, t);
        };
      }
    }
  }

  // Repeats inside the group answer as the send they repeat.
  for (std::size_t i = 0; i < n; ++i) {
    if (lead[i] == i) continue;
    const auto& first = *items[lead[i]]->res;
    if (!first)
      items[i]->res.emplace(first.error());
    else if (first->conv != items[i]->req.req.conv)
      items[i]->res.emplace(make_error(errc::conflict, "client_id was already used by this device in another conversation"));
    else
      items[i]->res.emplace(send_ack{first->conv, first->seq, first->ts_ms, true});
  }
  return true;
}

}  // namespace confab::storage
