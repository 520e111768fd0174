#include "storage/store.hpp"

#include "core/time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>
#include <map>

namespace confab::storage {
namespace {

error to_error(const db_error& e) { return make_error(e.code, e.message); }
const error& to_error(const error& e) { return e; }

#define CONFAB_TRY(var, expr) \
  auto var = (expr);          \
  if (!var) return to_error(var.error())

constexpr std::string_view event_cols =
    "conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, content_type, reply_to, data";

event to_event(const row& r, std::size_t o = 0) {
  event e;
  e.conv = r.i64(o + 0);
  e.seq = r.i64(o + 1);
  e.kind = r.str(o + 2);
  e.sender = r.i64(o + 3);
  e.device = r.i64(o + 4);
  e.client_id = r.str(o + 5);
  e.ts_ms = r.i64(o + 6);
  e.text = r.str(o + 7);
  e.content_type = r.str(o + 8);
  e.reply_to = r.opt_i64(o + 9);
  e.data = r.str(o + 10);
  return e;
}

int role_rank(std::string_view role) {
  if (role == "owner") return 3;
  if (role == "admin") return 2;
  if (role == "member") return 1;
  return 0;
}

struct membership {
  std::string kind;  // the conversation's kind
  std::string role;  // empty if never a member
  std::optional<std::int64_t> left_seq;
  std::int64_t last_seq = 0;
  bool active() const { return !role.empty() && !left_seq; }
};

// The conversation's kind and the user's membership in it; not_found if the conversation is missing.
result<membership> load_membership(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(r, query(c,
                      "SELECT c.kind, c.last_seq, m.role, m.left_seq FROM conversations c "
                      "LEFT JOIN members m ON m.conv_id = c.id AND m.user_id = $2 WHERE c.id = $1",
                      {conv, user}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  membership m;
  m.kind = (*r)[0].str(0);
  m.last_seq = (*r)[0].i64(1);
  m.role = (*r)[0].str(2);
  m.left_seq = (*r)[0].opt_i64(3);
  return m;
}

result<membership> require_active(connection& c, id_t conv, id_t user) {
  auto m = load_membership(c, conv, user);
  if (!m) return m;
  if (!m->active()) return make_error(errc::forbidden, "not a member of this conversation");
  return m;
}

// "($first, $first+1, ...)": a placeholder list for n values. Membership changes touch up to
// --max-group-members users; one statement each instead of one per user keeps the single writer
// free for everyone else.
std::string placeholders(int first, std::size_t n) {
  std::string s = "(";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += "$" + std::to_string(first + static_cast<int>(i));
  }
  return s + ")";
}

// not_found naming the first of users (sorted, unique, non-empty) that does not exist.
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

// Inserts (or re-activates) users as members joining at joined_seq, in one statement.
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

// PostgreSQL: the append in two statements (two round trips on the writer's hot path instead of
// four). The first takes the conversation's row lock, waiting for any other writer's append to
// the same conversation to commit; the second must be a separate statement, because under READ
// COMMITTED each statement reads a fresh snapshot, so it sees that commit: in one statement the
// MAX(pos) below would come from the snapshot taken before the wait and collide with the rows
// just committed (regression: cluster_test, three writers into one group). Data-modifying CTEs
// in the second statement all see the same snapshot, so MAX(pos) is each member's position
// before this event and each member gets exactly one row. Fills ev.seq and to.
result<nothing> commit_event_pg(connection& c, event& ev, std::vector<recipient>& to, std::optional<id_t> reader) {
  CONFAB_TRY(cv, query(c, "UPDATE conversations SET last_seq = last_seq + 1, last_ms = $2 WHERE id = $1 RETURNING last_seq",
                       {ev.conv, ev.ts_ms}));
  if (cv->empty()) return make_error(errc::not_found, "no such conversation");
  ev.seq = (*cv)[0].i64(0);
  param client = ev.client_id.empty() ? param{} : param{std::string_view(ev.client_id)};
  param reply = ev.reply_to ? param{*ev.reply_to} : param{};
  param rd = reader ? param{*reader} : param{};
  const param ps[] = {ev.conv, ev.seq, std::string_view(ev.kind), ev.sender, ev.device, client, ev.ts_ms,
                      std::string_view(ev.text), std::string_view(ev.content_type), reply, std::string_view(ev.data), rd};
  auto r = c.query(
      "WITH e AS (INSERT INTO events (conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, content_type, reply_to, data) "
      "VALUES (CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS TEXT), "
      "CAST($7 AS BIGINT), CAST($8 AS TEXT), CAST($9 AS TEXT), CAST($10 AS BIGINT), CAST($11 AS TEXT)) RETURNING seq), "
      "s AS (INSERT INTO stream (user_id, pos, conv_id, seq) SELECT m.user_id, "
      "COALESCE((SELECT MAX(x.pos) FROM stream x WHERE x.user_id = m.user_id), 0) + 1, CAST($1 AS BIGINT), CAST($2 AS BIGINT) "
      "FROM members m WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL RETURNING user_id, pos), "
      "r AS (UPDATE members SET read_seq = CAST($2 AS BIGINT), delivered_seq = CAST($2 AS BIGINT) "
      "WHERE conv_id = CAST($1 AS BIGINT) AND user_id = CAST($12 AS BIGINT) AND read_seq < CAST($2 AS BIGINT) RETURNING 1) "
      "SELECT s.user_id, s.pos FROM s, e",
      ps);
  if (!r) {
    // A unique key here is either (device, client_id) — another node committed the same send
    // meanwhile — or a stream position another writer took (a user in two conversations written
    // by two nodes): re-running the batch resolves both (it finds the original ack, or reads the
    // new MAX(pos)).
    if (r.error().code == errc::conflict) c.retry_requested = true;
    return to_error(r.error());
  }
  for (auto& row : *r) to.push_back({row.i64(0), row.i64(1)});
  return nothing{};
}

// SQLite (no DML in CTEs, and no round trips to save): the append as separate statements.
result<std::int64_t> commit_event_portable(connection& c, event& ev, std::vector<recipient>& to) {
  param client = ev.client_id.empty() ? param{} : param{std::string_view(ev.client_id)};
  param reply = ev.reply_to ? param{*ev.reply_to} : param{};
  CONFAB_TRY(s, query(c, "UPDATE conversations SET last_seq = last_seq + 1, last_ms = $2 WHERE id = $1 RETURNING last_seq",
                      {ev.conv, ev.ts_ms}));
  if (s->empty()) return make_error(errc::not_found, "no such conversation");
  ev.seq = (*s)[0].i64(0);
  const param ps[] = {ev.conv,  ev.seq,   std::string_view(ev.kind), ev.sender, ev.device, client,
                      ev.ts_ms, std::string_view(ev.text), std::string_view(ev.content_type), reply,
                      std::string_view(ev.data)};
  if (auto r = c.query("INSERT INTO events (conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, "
                       "content_type, reply_to, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                       ps);
      !r) {
    if (r.error().code == errc::conflict) c.retry_requested = true;  // as above
    return to_error(r.error());
  }
  // Each active member's next stream position is one past the last in their stream (an index
  // probe, no counter row to update). Two writers racing for the same user collide on the stream
  // primary key; the loser's whole transaction is re-run.
  auto up = query(c,
                  "INSERT INTO stream (user_id, pos, conv_id, seq) SELECT m.user_id, "
                  "COALESCE((SELECT MAX(s.pos) FROM stream s WHERE s.user_id = m.user_id), 0) + 1, "
                  "CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM members m "
                  "WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL RETURNING user_id, pos",
                  {ev.conv, ev.seq});
  if (!up) {
    if (up.error().code == errc::conflict) c.retry_requested = true;
    return to_error(up.error());
  }
  to.reserve(up->size());
  for (auto& r : *up) to.push_back({r.i64(0), r.i64(1)});
  return ev.seq;
}

// Appends ev to its conversation (assigning seq and updating activity) and to the stream of every
// active member; arranges for the sink to see it after commit. If reader is set, that member's read
// pointer moves up to the new seq (a sender has read their own message). Returns the seq.
result<std::int64_t> commit_event(write_context& ctx, event ev, event_sink* sink, std::optional<id_t> reader = std::nullopt) {
  auto& c = ctx.db;
  std::vector<recipient> to;
  if (c.dialect() == "postgres") {
    CONFAB_TRY(ok, commit_event_pg(c, ev, to, reader));
  } else {
    CONFAB_TRY(seq, commit_event_portable(c, ev, to));
    if (reader) {
      CONFAB_TRY(rd, query(c, "UPDATE members SET read_seq = $3, delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2 AND read_seq < $3",
                           {ev.conv, *reader, *seq}));
    }
  }
  std::sort(to.begin(), to.end(), [](auto& a, auto& b) { return a.user_id < b.user_id; });
  const auto seq = ev.seq;
  if (sink) {
    auto prev = std::move(ctx.after_commit);
    ctx.after_commit = [sink, prev = std::move(prev), ev = std::move(ev), to = std::move(to)] {
      if (prev) prev();
      sink->on_committed(ev, to);
    };
  }
  return seq;
}

event membership_event(id_t conv, std::string kind, id_t actor, id_t device, boost::json::object data) {
  event e;
  e.conv = conv;
  e.kind = std::move(kind);
  e.sender = actor;
  e.device = device;
  e.ts_ms = now_ms();
  e.data = boost::json::serialize(data);
  return e;
}

}  // namespace

// ---------------------------------------------------------------- sends, run together

struct pending_send {
  send_request req;
  event_sink* sink = nullptr;
};

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
  if (row.is_null(o + 5) || !row.is_null(o + 6))
    return result<send_ack>(make_error(errc::forbidden, "not a member of this conversation"));
  const std::int64_t last_seq = row.i64(o + 4);
  if (req.reply_to && (*req.reply_to < 1 || *req.reply_to > last_seq))
    return result<send_ack>(make_error(errc::invalid_field, "reply_to is not an event of this conversation"));
  return std::nullopt;
}

event message_event(const send_request& req, std::int64_t ts) {
  event ev;
  ev.conv = req.conv;
  ev.kind = "message";
  ev.sender = req.user;
  ev.device = req.device;
  ev.client_id = req.client_id;
  ev.ts_ms = ts;
  ev.text = req.text;
  ev.content_type = req.content_type;
  ev.reply_to = req.reply_to;
  return ev;
}

// One send, statement by statement (SQLite, where a statement costs no round trip).
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
  const auto ts = now_ms();
  // The sender has read everything up to their own message.
  CONFAB_TRY(seq, commit_event(ctx, message_event(req, ts), sink, req.user));
  return send_ack{req.conv, *seq, ts, false};
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

// PostgreSQL: every send of the group in four round trips whatever their number (savepoint,
// checks, conversation rows, append), instead of four per send. Statements:
//  1. the duplicate and membership checks of every send, one row each (unnest WITH ORDINALITY);
//  2. each conversation's last_seq moves up by its number of sends, taking its row lock (and
//     waiting for another writer's append to it to commit); seqs are then handed out in queue
//     order;
//  3. in a new statement (a fresh snapshot, which sees that other writer's commit — see
//     commit_event_pg), the events, every member's stream rows and the senders' read pointers,
//     as data-modifying CTEs over the arrays. A member gets consecutive positions after their
//     current MAX(pos), in queue order (row_number per member), which is seq order within each
//     conversation. Every MAX(pos) is computed in a subquery below the window's sort, so all of
//     them are read before the first stream row is inserted: computed while inserting, each
//     backward index scan had to step over the index entries this statement had just added for
//     that member (invisible to its snapshot) — quadratic in a member's events per batch (200
//     sends into one conversation: 14–24 ms -> 6–13 ms).
// A send repeated inside the group (same device and client_id) gets the first one's ack, as it
// would have from the checks had it run after it. The three statements are planned at every call
// (query_planned): their plans depend on the batch size and on how big events, stream and members
// are now, and a generic plan cached while the tables were nearly empty scanned them whole (a fresh
// database ran at ~1 600 sends/s until autovacuum's ANALYZE, then ~13 000).
class send_group final : public write_group<pending_send, send_ack> {
 public:
  bool run(connection& c, std::span<item* const> items) override {
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

 private:
  // One send at a time, each in its own (nested) savepoint.
  static bool run_each(connection& c, std::span<item* const> items) {
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

  static bool run_pg(connection& c, std::span<item* const> items) {
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

    // 1. checks
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
      // 2. seqs. The conversations go in ascending id, the order in which the UPDATE (a nested
      // loop over the array, or a scan of the table) takes their row locks: every writer locks in
      // the same order, so writers on several nodes appending to the same conversations wait for
      // each other instead of deadlocking (regression: scale-out with 3 nodes on 2 groups
      // collapsed to 160 msgs/s, each deadlock costing deadlock_timeout and a batch re-run).
      std::map<id_t, std::int64_t> per_conv;  // conv -> sends, ascending id
      for (auto i : valid) ++per_conv[items[i]->req.req.conv];
      std::vector<std::pair<id_t, std::int64_t>> convs(per_conv.begin(), per_conv.end());
      std::map<id_t, std::size_t> conv_index;
      for (std::size_t k = 0; k < convs.size(); ++k) conv_index.emplace(convs[k].first, k);
      const auto ts = now_ms();
      pg_array ids, counts;
      for (auto& [id, k] : convs) {
        ids.add(id);
        counts.add(k);
      }
      const param ups[] = {std::string_view(ids.str()), std::string_view(counts.str()), ts};
      auto up = c.query_planned(
          "UPDATE conversations c SET last_seq = c.last_seq + x.n, last_ms = CAST($3 AS BIGINT) "
          "FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[])) AS x(id, n) WHERE c.id = x.id "
          "RETURNING c.id, c.last_seq",
          ups);
      if (!up) return fail_all(to_error(up.error()));
      std::vector<std::int64_t> next(convs.size(), 0);  // the next seq to hand out, per conversation
      for (auto& r : *up) {
        auto ci = conv_index.find(r.i64(0));
        if (ci != conv_index.end()) next[ci->second] = r.i64(1) - convs[ci->second].second + 1;
      }
      for (std::size_t k = 0; k < convs.size(); ++k)
        if (next[k] == 0) return fail_all(make_error(errc::not_found, "no such conversation"));

      // 3. the append
      pg_array a_conv, a_seq, a_sender, a_dev, a_cli, a_body, a_ctype, a_reply;
      std::vector<std::int64_t> seqs(n, 0);
      std::map<std::pair<id_t, std::int64_t>, std::size_t> by_event;  // (conv, seq) -> item
      for (auto i : valid) {
        const auto& rq = items[i]->req.req;
        seqs[i] = next[conv_index[rq.conv]]++;
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
          "e AS (INSERT INTO events (conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, content_type, reply_to, data) "
          "SELECT conv_id, seq, 'message', sender_id, device_id, client_id, CAST($6 AS BIGINT), body, content_type, reply_to, '' "
          "FROM x), "
          "s AS (INSERT INTO stream (user_id, pos, conv_id, seq) "
          "SELECT r.user_id, r.base + row_number() OVER (PARTITION BY r.user_id ORDER BY r.i), r.conv_id, r.seq "
          "FROM (SELECT m.user_id, x.i, x.conv_id, x.seq, "
          "COALESCE((SELECT MAX(y.pos) FROM stream y WHERE y.user_id = m.user_id), 0) AS base "
          "FROM x JOIN members m ON m.conv_id = x.conv_id AND m.left_seq IS NULL OFFSET 0) r "
          "RETURNING user_id, pos, conv_id, seq), "
          "r AS (UPDATE members m SET read_seq = y.seq, delivered_seq = y.seq "
          "FROM (SELECT conv_id, sender_id, MAX(seq) AS seq FROM x GROUP BY conv_id, sender_id) y "
          "WHERE m.conv_id = y.conv_id AND m.user_id = y.sender_id AND m.read_seq < y.seq) "
          "SELECT user_id, pos, conv_id, seq FROM s",
          aps);
      if (!ap) {
        // As in commit_event_pg: a unique key taken meanwhile by another node (the same send, or
        // a stream position) is resolved by re-running the batch.
        if (ap.error().code == errc::conflict) c.retry_requested = true;
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
};

store::store(std::unique_ptr<executor> ex) : ex_(std::move(ex)), sends_(std::make_unique<send_group>()) {
  ex_->set_on_uncertain_commit([this] {
    if (sink_) sink_->on_uncertain();
  });
}
store::~store() { stop(); }
void store::stop() { ex_->stop(); }

// ---------------------------------------------------------------- accounts and devices

task<id_t> store::create_user(const std::string& username, const std::string& password_hash) {
  return ex_->write<id_t>([username, hash = password_hash](write_context& ctx) -> result<id_t> {
    auto r = query(ctx.db, "INSERT INTO users (username, password_hash, created_ms) VALUES ($1, $2, $3) RETURNING id",
                   {std::string_view(username), std::string_view(hash), now_ms()});
    if (!r) {
      if (r.error().code == errc::conflict) return make_error(errc::conflict, "username is taken");
      return to_error(r.error());
    }
    return (*r)[0].i64(0);
  });
}

task<user_record> store::find_user(const std::string& username) {
  return ex_->read<user_record>([username](connection& c) -> result<user_record> {
    CONFAB_TRY(r, query(c, "SELECT id, username, password_hash FROM users WHERE username = $1", {std::string_view(username)}));
    if (r->empty()) return make_error(errc::not_found, "no such user");
    return user_record{(*r)[0].i64(0), (*r)[0].str(1), (*r)[0].str(2)};
  });
}

task<id_t> store::find_user_id(const std::string& username) {
  return ex_->read<id_t>([username](connection& c) -> result<id_t> {
    CONFAB_TRY(r, query(c, "SELECT id FROM users WHERE username = $1", {std::string_view(username)}));
    if (r->empty()) return make_error(errc::not_found, "no such user");
    return (*r)[0].i64(0);
  });
}

task<device_record> store::create_device(id_t user, const std::string& name, const std::string& token_hash) {
  return ex_->write<device_record>(
      [user, name, hash = token_hash](write_context& ctx) -> result<device_record> {
        const auto t = now_ms();
        CONFAB_TRY(r, query(ctx.db,
                            "INSERT INTO devices (user_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
                            {user, std::string_view(name), std::string_view(hash), t}));
        return device_record{(*r)[0].i64(0), user, name, t, std::nullopt};
      });
}

task<device_record> store::create_account(const std::string& username, const std::string& password_hash,
                                          const std::string& device_name, const std::string& token_hash) {
  return ex_->write<device_record>([username, password_hash, device_name, token_hash](write_context& ctx) -> result<device_record> {
    const auto t = now_ms();
    auto u = query(ctx.db, "INSERT INTO users (username, password_hash, created_ms) VALUES ($1, $2, $3) RETURNING id",
                   {std::string_view(username), std::string_view(password_hash), t});
    if (!u) {
      if (u.error().code == errc::conflict) return make_error(errc::conflict, "username is taken");
      return to_error(u.error());
    }
    const id_t user = (*u)[0].i64(0);
    CONFAB_TRY(d, query(ctx.db, "INSERT INTO devices (user_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
                        {user, std::string_view(device_name), std::string_view(token_hash), t}));
    return device_record{(*d)[0].i64(0), user, device_name, t, std::nullopt};
  });
}

task<principal> store::authenticate(const std::string& token_hash) {
  return ex_->read<principal>([hash = token_hash](connection& c) -> result<principal> {
    CONFAB_TRY(r, query(c,
                        "SELECT d.user_id, d.id, u.username FROM devices d JOIN users u ON u.id = d.user_id "
                        "WHERE d.token_hash = $1 AND d.revoked_ms IS NULL",
                        {std::string_view(hash)}));
    if (r->empty()) return make_error(errc::unauthenticated, "unknown or revoked token");
    return principal{(*r)[0].i64(0), (*r)[0].i64(1), (*r)[0].str(2)};
  });
}

task<bool> store::device_active(id_t device) {
  return ex_->read<bool>([device](connection& c) -> result<bool> {
    CONFAB_TRY(r, query(c, "SELECT 1 FROM devices WHERE id = $1 AND revoked_ms IS NULL", {device}));
    return !r->empty();
  });
}

task<std::vector<device_record>> store::list_devices(id_t user) {
  return ex_->read<std::vector<device_record>>([user](connection& c) -> result<std::vector<device_record>> {
    CONFAB_TRY(r, query(c, "SELECT id, name, created_ms, revoked_ms FROM devices WHERE user_id = $1 ORDER BY id", {user}));
    std::vector<device_record> out;
    for (auto& x : *r) out.push_back({x.i64(0), user, x.str(1), x.i64(2), x.opt_i64(3)});
    return out;
  });
}

task<nothing> store::revoke_device(id_t user, id_t device) {
  return ex_->write<nothing>([user, device](write_context& ctx) -> result<nothing> {
    CONFAB_TRY(r, query(ctx.db, "SELECT revoked_ms FROM devices WHERE id = $1 AND user_id = $2", {device, user}));
    if (r->empty()) return make_error(errc::not_found, "no such device");
    if (!(*r)[0].is_null(0)) return nothing{};  // already revoked: idempotent
    CONFAB_TRY(u, query(ctx.db, "UPDATE devices SET revoked_ms = $3 WHERE id = $1 AND user_id = $2", {device, user, now_ms()}));
    return nothing{};
  });
}

// ---------------------------------------------------------------- conversations

task<store::created> store::create_direct(id_t actor, id_t device, id_t other) {
  auto* sink = sink_;
  return ex_->write<created>([=](write_context& ctx) -> result<created> {
    auto& c = ctx.db;
    if (actor == other) return make_error(errc::invalid_field, "a direct conversation needs another user");
    const id_t lo = std::min(actor, other), hi = std::max(actor, other);
    CONFAB_TRY(found, query(c, "SELECT conv_id FROM direct_pairs WHERE user_lo = $1 AND user_hi = $2", {lo, hi}));
    if (!found->empty()) return created{(*found)[0].i64(0), false};
    CONFAB_TRY(exists, require_users(c, {other}));
    const auto t = now_ms();
    CONFAB_TRY(conv, query(c, "INSERT INTO conversations (kind, title, created_ms, last_ms) VALUES ('direct', '', $1, $1) RETURNING id",
                           {t}));
    const id_t id = (*conv)[0].i64(0);
    CONFAB_TRY(pair, query(c, "INSERT INTO direct_pairs (user_lo, user_hi, conv_id) VALUES ($1, $2, $3)", {lo, hi, id}));
    for (id_t u : {actor, other})
      if (auto r = query(c, "INSERT INTO members (conv_id, user_id, role, joined_seq) VALUES ($1, $2, 'member', 1)", {id, u}); !r)
        return to_error(r.error());
    boost::json::array ms{actor, other};
    auto ev = membership_event(id, "created", actor, device, {{"kind", "direct"}, {"members", ms}});
    ev.ts_ms = t;
    CONFAB_TRY(seq, commit_event(ctx, std::move(ev), sink));
    return created{id, true};
  });
}

task<id_t> store::create_group(id_t actor, id_t device, const std::string& title, const std::vector<id_t>& members_in) {
  auto* sink = sink_;
  return ex_->write<id_t>([=, title = title, members = members_in](write_context& ctx) mutable -> result<id_t> {
    auto& c = ctx.db;
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    std::erase(members, actor);
    if (!members.empty()) {
      CONFAB_TRY(ok, require_users(c, members));
    }
    const auto t = now_ms();
    CONFAB_TRY(conv, query(c, "INSERT INTO conversations (kind, title, created_ms, last_ms) VALUES ('group', $1, $2, $2) RETURNING id",
                           {std::string_view(title), t}));
    const id_t id = (*conv)[0].i64(0);
    if (auto r = query(c, "INSERT INTO members (conv_id, user_id, role, joined_seq) VALUES ($1, $2, 'owner', 1)", {id, actor}); !r)
      return to_error(r.error());
    boost::json::array ms;
    ms.push_back(actor);
    if (!members.empty()) {
      CONFAB_TRY(ins, upsert_members(c, id, members, 1));
    }
    for (id_t u : members) ms.push_back(u);
    auto ev = membership_event(id, "created", actor, device, {{"kind", "group"}, {"title", title}, {"members", ms}, {"owner", actor}});
    ev.ts_ms = t;
    CONFAB_TRY(seq, commit_event(ctx, std::move(ev), sink));
    return id;
  });
}

task<std::int64_t> store::add_members(id_t actor, id_t device, id_t conv, const std::vector<id_t>& users_in) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=, users = users_in](write_context& ctx) mutable -> result<std::int64_t> {
    auto& c = ctx.db;
    CONFAB_TRY(m, require_active(c, conv, actor));
    if (m->kind != "group") return make_error(errc::forbidden, "members of a direct conversation cannot change");
    if (role_rank(m->role) < role_rank("admin")) return make_error(errc::forbidden, "only owners and admins add members");
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    if (users.empty()) return make_error(errc::invalid_field, "no users to add");
    CONFAB_TRY(exist, require_users(c, users));
    std::vector<param> ps{conv};
    ps.insert(ps.end(), users.begin(), users.end());
    auto active = c.query("SELECT user_id FROM members WHERE conv_id = $1 AND left_seq IS NULL AND user_id IN " +
                              placeholders(2, users.size()),
                          ps);
    if (!active) return to_error(active.error());
    std::vector<id_t> fresh = users;
    for (auto& row : *active) std::erase(fresh, row.i64(0));
    if (fresh.empty()) return make_error(errc::conflict, "already members");
    boost::json::array added(fresh.begin(), fresh.end());
    // The seq the event will get: members join at it, so they see their own join.
    const std::int64_t seq = m->last_seq + 1;
    CONFAB_TRY(ins, upsert_members(c, conv, fresh, seq));
    return commit_event(ctx, membership_event(conv, "members_added", actor, device, {{"users", added}, {"by", actor}}), sink);
  });
}

task<std::int64_t> store::remove_member(id_t actor, id_t device, id_t conv, id_t user) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    CONFAB_TRY(m, require_active(c, conv, actor));
    if (m->kind != "group") return make_error(errc::forbidden, "members of a direct conversation cannot change");
    std::string kind = "member_left";
    if (actor == user) {
      if (m->role == "owner") {
        CONFAB_TRY(others, query(c, "SELECT COUNT(*) FROM members WHERE conv_id = $1 AND left_seq IS NULL", {conv}));
        if ((*others)[0].i64(0) > 1) return make_error(errc::forbidden, "the owner must transfer ownership before leaving");
      }
    } else {
      CONFAB_TRY(t, load_membership(c, conv, user));
      if (!t->active()) return make_error(errc::not_found, "not a member");
      if (role_rank(m->role) < role_rank("admin") || role_rank(t->role) >= role_rank(m->role))
        return make_error(errc::forbidden, "not allowed to remove this member");
      kind = "member_removed";
    }
    // The removed user still receives the event that removes them, then nothing more.
    CONFAB_TRY(seq, commit_event(ctx, membership_event(conv, kind, actor, device, {{"user", user}, {"by", actor}}), sink));
    CONFAB_TRY(u, query(c, "UPDATE members SET left_seq = $3 WHERE conv_id = $1 AND user_id = $2", {conv, user, *seq}));
    return *seq;
  });
}

task<std::int64_t> store::set_role(id_t actor, id_t device, id_t conv, id_t user, const std::string& role) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=, role = role](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    if (role_rank(role) == 0) return make_error(errc::invalid_field, "role must be owner, admin or member");
    CONFAB_TRY(m, require_active(c, conv, actor));
    if (m->kind != "group") return make_error(errc::forbidden, "a direct conversation has no roles");
    if (m->role != "owner") return make_error(errc::forbidden, "only the owner changes roles");
    if (user == actor) return make_error(errc::invalid_field, "the owner cannot change their own role");
    CONFAB_TRY(t, load_membership(c, conv, user));
    if (!t->active()) return make_error(errc::not_found, "not a member");
    CONFAB_TRY(u1, query(c, "UPDATE members SET role = $3 WHERE conv_id = $1 AND user_id = $2", {conv, user, std::string_view(role)}));
    boost::json::object data{{"user", user}, {"role", role}, {"by", actor}};
    if (role == "owner") {  // transfer: the old owner becomes an admin
      CONFAB_TRY(u2, query(c, "UPDATE members SET role = 'admin' WHERE conv_id = $1 AND user_id = $2", {conv, actor}));
      data["previous_owner_role"] = "admin";
    }
    return commit_event(ctx, membership_event(conv, "role_changed", actor, device, std::move(data)), sink);
  });
}

task<std::vector<member_record>> store::members(id_t actor, id_t conv) {
  return ex_->read<std::vector<member_record>>([=](connection& c) -> result<std::vector<member_record>> {
    CONFAB_TRY(m, require_active(c, conv, actor));
    CONFAB_TRY(r, query(c,
                        "SELECT m.user_id, u.username, m.role, m.joined_seq FROM members m JOIN users u ON u.id = m.user_id "
                        "WHERE m.conv_id = $1 AND m.left_seq IS NULL ORDER BY m.user_id",
                        {conv}));
    std::vector<member_record> out;
    for (auto& x : *r) out.push_back({x.i64(0), x.str(1), x.str(2), x.i64(3)});
    return out;
  });
}

// ---------------------------------------------------------------- messages

task<send_ack> store::send(const send_request& req) {
  return ex_->write_grouped<pending_send, send_ack>(*sends_, pending_send{req, sink_});
}

task<history_page> store::history(id_t user, id_t conv, std::optional<std::int64_t> before,
                                  std::optional<std::int64_t> after, int limit) {
  return ex_->read<history_page>([=](connection& c) -> result<history_page> {
    CONFAB_TRY(m, load_membership(c, conv, user));
    if (m->role.empty()) return make_error(errc::forbidden, "not a member of this conversation");
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
    for (std::size_t i = 0; i < r->size() && static_cast<int>(i) < limit; ++i) page.events.push_back(to_event((*r)[i]));
    if (descending) std::reverse(page.events.begin(), page.events.end());
    return page;
  });
}

namespace {

result<nothing> fill_summary(connection& c, id_t user, conversation_summary& s) {
  CONFAB_TRY(last, query(c,
                         "SELECT " + std::string(event_cols) +
                             " FROM events WHERE conv_id = $1 AND kind = 'message' ORDER BY seq DESC LIMIT 1",
                         {s.id}));
  if (!last->empty()) s.last_message = to_event((*last)[0]);
  CONFAB_TRY(unread, query(c,
                           "SELECT COUNT(*) FROM events WHERE conv_id = $1 AND seq > $2 AND kind = 'message' AND sender_id <> $3",
                           {s.id, s.read_seq, user}));
  s.unread = (*unread)[0].i64(0);
  if (s.kind == "direct") {
    CONFAB_TRY(ms, query(c,
                         "SELECT m.user_id, u.username, m.role, m.joined_seq FROM members m JOIN users u ON u.id = m.user_id "
                         "WHERE m.conv_id = $1 ORDER BY m.user_id",
                         {s.id}));
    for (auto& x : *ms) s.members.push_back({x.i64(0), x.str(1), x.str(2), x.i64(3)});
  }
  return nothing{};
}

constexpr std::string_view summary_select =
    "SELECT c.id, c.kind, c.title, c.last_seq, c.last_ms, m.read_seq, m.role FROM members m "
    "JOIN conversations c ON c.id = m.conv_id ";

conversation_summary to_summary(const row& x) {
  conversation_summary s;
  s.id = x.i64(0);
  s.kind = x.str(1);
  s.title = x.str(2);
  s.last_seq = x.i64(3);
  s.last_ms = x.i64(4);
  s.read_seq = x.i64(5);
  s.role = x.str(6);
  return s;
}

}  // namespace

task<std::vector<conversation_summary>> store::conversations(id_t user, std::optional<conv_cursor> after, int limit) {
  return ex_->read<std::vector<conversation_summary>>([=](connection& c) -> result<std::vector<conversation_summary>> {
    const auto max = std::numeric_limits<std::int64_t>::max();
    const conv_cursor cur = after.value_or(conv_cursor{max, max});
    CONFAB_TRY(r, query(c,
                        std::string(summary_select) +
                            "WHERE m.user_id = $1 AND m.left_seq IS NULL AND (c.last_ms < $2 OR (c.last_ms = $2 AND c.id < $3)) "
                            "ORDER BY c.last_ms DESC, c.id DESC LIMIT $4",
                        {user, cur.last_ms, cur.id, std::int64_t{limit}}));
    std::vector<conversation_summary> out;
    for (auto& x : *r) {
      out.push_back(to_summary(x));
      CONFAB_TRY(f, fill_summary(c, user, out.back()));
    }
    return out;
  });
}

task<conversation_summary> store::conversation(id_t user, id_t conv) {
  return ex_->read<conversation_summary>([=](connection& c) -> result<conversation_summary> {
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(r, query(c, std::string(summary_select) + "WHERE m.user_id = $1 AND m.conv_id = $2", {user, conv}));
    auto s = to_summary((*r)[0]);
    CONFAB_TRY(f, fill_summary(c, user, s));
    return s;
  });
}

// ---------------------------------------------------------------- the user stream

task<stream_page> store::read_stream(id_t user, std::int64_t after_pos, int limit) {
  return ex_->read<stream_page>([=](connection& c) -> result<stream_page> {
    CONFAB_TRY(head, query(c, "SELECT COALESCE((SELECT MAX(pos) FROM stream WHERE user_id = $1), 0) FROM users WHERE id = $1", {user}));
    if (head->empty()) return make_error(errc::not_found, "no such user");
    CONFAB_TRY(r, query(c,
                        "SELECT s.pos, e.conv_id, e.seq, e.kind, e.sender_id, e.device_id, e.client_id, e.ts_ms, e.body, "
                        "e.content_type, e.reply_to, e.data FROM stream s JOIN events e ON e.conv_id = s.conv_id AND e.seq = s.seq "
                        "WHERE s.user_id = $1 AND s.pos > $2 ORDER BY s.pos LIMIT $3",
                        {user, after_pos, std::int64_t{limit}}));
    stream_page page;
    page.head = (*head)[0].i64(0);
    for (auto& x : *r) page.items.push_back({x.i64(0), to_event(x, 1)});
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

namespace {

result<receipt_record> load_receipt(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(r, query(c,
                      "SELECT m.user_id, u.username, m.delivered_seq, m.read_seq FROM members m "
                      "JOIN users u ON u.id = m.user_id WHERE m.conv_id = $1 AND m.user_id = $2",
                      {conv, user}));
  if (r->empty()) return make_error(errc::forbidden, "not a member of this conversation");
  return receipt_record{(*r)[0].i64(0), (*r)[0].str(1), (*r)[0].i64(2), (*r)[0].i64(3)};
}

// Moves a member's delivered pointer, or read pointer and with it the delivered one (reading implies
// delivery), up to seq clamped to the conversation's last seq; never back. Returns both after.
result<receipt_record> advance_receipt(connection& c, id_t conv, id_t user, std::int64_t seq, bool read) {
  CONFAB_TRY(m, require_active(c, conv, user));
  const std::int64_t target = std::min(seq, m->last_seq);
  CONFAB_TRY(u, query(c,
                      read ? "UPDATE members SET read_seq = CASE WHEN read_seq < $3 THEN $3 ELSE read_seq END, "
                             "delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END "
                             "WHERE conv_id = $1 AND user_id = $2 AND (read_seq < $3 OR delivered_seq < $3)"
                           : "UPDATE members SET delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2 AND delivered_seq < $3",
                      {conv, user, target}));
  return load_receipt(c, conv, user);
}

}  // namespace

task<receipt_record> store::mark_delivered(id_t user, id_t conv, std::int64_t seq) {
  return ex_->write<receipt_record>(
      [=](write_context& ctx) -> result<receipt_record> { return advance_receipt(ctx.db, conv, user, seq, false); });
}

task<receipt_record> store::mark_read(id_t user, id_t conv, std::int64_t seq) {
  return ex_->write<receipt_record>(
      [=](write_context& ctx) -> result<receipt_record> { return advance_receipt(ctx.db, conv, user, seq, true); });
}

task<std::vector<receipt_record>> store::receipts(id_t user, id_t conv) {
  return ex_->read<std::vector<receipt_record>>([=](connection& c) -> result<std::vector<receipt_record>> {
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(r, query(c,
                        "SELECT m.user_id, u.username, m.delivered_seq, m.read_seq FROM members m "
                        "JOIN users u ON u.id = m.user_id WHERE m.conv_id = $1 AND m.left_seq IS NULL ORDER BY m.user_id",
                        {conv}));
    std::vector<receipt_record> out;
    for (auto& x : *r) out.push_back({x.i64(0), x.str(1), x.i64(2), x.i64(3)});
    return out;
  });
}

task<bool> store::is_member(id_t user, id_t conv) {
  return ex_->read<bool>([=](connection& c) -> result<bool> {
    CONFAB_TRY(r, query(c, "SELECT 1 FROM members WHERE conv_id = $1 AND user_id = $2 AND left_seq IS NULL", {conv, user}));
    return !r->empty();
  });
}

task<std::vector<id_t>> store::conversation_ids(id_t user) {
  return ex_->read<std::vector<id_t>>([=](connection& c) -> result<std::vector<id_t>> {
    CONFAB_TRY(r, query(c, "SELECT conv_id FROM members WHERE user_id = $1 AND left_seq IS NULL ORDER BY conv_id", {user}));
    std::vector<id_t> out;
    for (auto& x : *r) out.push_back(x.i64(0));
    return out;
  });
}

task<std::vector<id_t>> store::shared_users(id_t user, const std::vector<id_t>& candidates) {
  return ex_->read<std::vector<id_t>>([user, cands = candidates](connection& c) -> result<std::vector<id_t>> {
    std::vector<id_t> out;
    if (cands.empty()) return out;
    std::vector<param> ps{user};
    for (auto id : cands) ps.emplace_back(id);
    auto r = c.query("SELECT DISTINCT o.user_id FROM members mine JOIN members o ON o.conv_id = mine.conv_id "
                     "WHERE mine.user_id = $1 AND mine.left_seq IS NULL AND o.left_seq IS NULL AND o.user_id IN " +
                         placeholders(2, cands.size()) + " ORDER BY o.user_id",
                     ps);
    if (!r) return to_error(r.error());
    for (auto& x : *r) out.push_back(x.i64(0));
    if (std::find(cands.begin(), cands.end(), user) != cands.end() && !std::binary_search(out.begin(), out.end(), user))
      out.insert(std::lower_bound(out.begin(), out.end(), user), user);
    return out;
  });
}

task<nothing> store::set_last_seen(id_t user, std::int64_t ms) {
  return ex_->write<nothing>([=](write_context& ctx) -> result<nothing> {
    CONFAB_TRY(r, query(ctx.db, "UPDATE users SET last_seen_ms = $2 WHERE id = $1 AND (last_seen_ms IS NULL OR last_seen_ms < $2)",
                        {user, ms}));
    return nothing{};
  });
}

task<std::vector<std::optional<std::int64_t>>> store::last_seen(const std::vector<id_t>& users) {
  using out_t = std::vector<std::optional<std::int64_t>>;
  return ex_->read<out_t>([ids = users](connection& c) -> result<out_t> {
    out_t out(ids.size());
    if (ids.empty()) return out;
    std::vector<param> ps(ids.begin(), ids.end());
    auto r = c.query("SELECT id, last_seen_ms FROM users WHERE id IN " + placeholders(1, ids.size()), ps);
    if (!r) return to_error(r.error());
    for (auto& x : *r) {
      const auto id = x.i64(0);
      for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == id) out[i] = x.opt_i64(1);
    }
    return out;
  });
}

}  // namespace confab::storage
