#include "storage/push_store.hpp"

#include "core/time.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>
#include <map>
#include <span>

namespace confab::storage {
using namespace detail;

namespace {

// A member's notification level in SQL: their own, else the conversation kind's default
// (chat::default_notify_level: "mentions" in channels, "all" elsewhere). n: notify_levels, cv:
// conversations.
constexpr std::string_view notify_level_sql = "COALESCE(n.level, CASE WHEN cv.kind = 'channel' THEN 'mentions' ELSE 'all' END)";

// A message's recipients' devices with targets that the enqueue-time rules let through; $1 conv,
// $2 seq, $3 due, $4 now, $5 sender, $6 the message's time, $7 1 if @all, $8 thread root (NULL:
// shown in the conversation), then the named mentions. rule: "mention" when mentioned, "thread"
// when a followed thread's reply, else "all".
std::string enqueue_sql(std::size_t mentions) {
  const std::string named = mentions ? "m.user_id IN " + placeholders(9, mentions) : std::string("0 = 1");
  const std::string mentioned = "($7 = 1 OR " + named + ")";
  const std::string level(notify_level_sql);
  const std::string follows =
      "EXISTS (SELECT 1 FROM thread_users tu WHERE tu.user_id = m.user_id AND tu.conv_id = $1 "
      "AND tu.root_seq = CAST($8 AS BIGINT) AND tu.following = 1)";
  return "INSERT INTO push_queue (device_id, user_id, conv_id, seq, kind, state, due_ms, rule, created_ms, updated_ms) "
         "SELECT t.device_id, t.user_id, CAST($1 AS BIGINT), CAST($2 AS BIGINT), 'message', 'queued', CAST($3 AS BIGINT), "
         "CASE WHEN " + mentioned + " THEN 'mention' WHEN CAST($8 AS BIGINT) IS NOT NULL THEN 'thread' ELSE 'all' END, "
         "CAST($4 AS BIGINT), CAST($4 AS BIGINT) "
         "FROM members m JOIN conversations cv ON cv.id = m.conv_id JOIN push_targets t ON t.user_id = m.user_id "
         "LEFT JOIN notify_levels n ON n.user_id = m.user_id AND n.conv_id = m.conv_id "
         "WHERE m.conv_id = $1 AND m.user_id <> $5 AND m.joined_seq <= $2 AND (m.left_seq IS NULL OR m.left_seq > $2) "
         "AND (n.muted_until_ms IS NULL OR n.muted_until_ms <= $6) "
         "AND (" + mentioned + " AND " + level + " <> 'none' "
         "OR " + level + " = 'all' AND (CAST($8 AS BIGINT) IS NULL OR " + follows + ")) "
         "ON CONFLICT (device_id, conv_id, seq, kind) DO NOTHING RETURNING id";
}

}  // namespace

// The badges of users (push_store.hpp). Members who read a conversation up to the same seq share
// one scan of it: the messages in the window after that seq are counted once per sender, and each
// member's count is the window's total less their own. Only where the window does not settle it (it
// holds fewer than cap messages by others but the conversation goes on past it) does a member get
// a scan of their own, of up to cap messages. One statement for the batch.
result<std::map<id_t, std::int64_t>> detail::push_badges(connection& c, const std::vector<id_t>& users, std::int64_t window,
                                                 std::int64_t cap) {
  std::map<id_t, std::int64_t> out;
  if (users.empty()) return out;
  std::vector<param> ps{now_ms(), window, cap};
  ps.insert(ps.end(), users.begin(), users.end());
  const std::string shown(shown_in_conversation), level(notify_level_sql);
  CONFAB_TRY(r, c.query_planned(
      "WITH mem AS (SELECT m.user_id, m.conv_id, m.read_seq, cv.last_seq, " + level + " AS level "
      "FROM members m JOIN conversations cv ON cv.id = m.conv_id "
      "LEFT JOIN notify_levels n ON n.user_id = m.user_id AND n.conv_id = m.conv_id "
      "WHERE m.user_id IN " + placeholders(4, users.size()) + " AND m.left_seq IS NULL AND cv.last_seq > m.read_seq "
      "AND " + level + " <> 'none' AND (n.muted_until_ms IS NULL OR n.muted_until_ms <= $1)), "
      "pairs AS (SELECT DISTINCT conv_id, read_seq FROM mem WHERE level = 'all'), "
      "senders AS (SELECT p.conv_id, p.read_seq, e.sender_id, COUNT(*) AS k FROM pairs p JOIN events e "
      "ON e.conv_id = p.conv_id AND e.seq > p.read_seq AND e.seq <= p.read_seq + CAST($2 AS BIGINT) "
      "WHERE e.kind = 'message'" + shown + " GROUP BY p.conv_id, p.read_seq, e.sender_id), "
      "totals AS (SELECT conv_id, read_seq, SUM(k) AS k FROM senders GROUP BY conv_id, read_seq), "
      "counts AS (SELECT mem.user_id, mem.conv_id, mem.read_seq, mem.last_seq, mem.level, "
      "COALESCE(t.k, 0) - COALESCE(s.k, 0) AS others FROM mem "
      "LEFT JOIN totals t ON t.conv_id = mem.conv_id AND t.read_seq = mem.read_seq "
      "LEFT JOIN senders s ON s.conv_id = mem.conv_id AND s.read_seq = mem.read_seq AND s.sender_id = mem.user_id) "
      "SELECT x.user_id, SUM(CASE WHEN x.level = 'all' THEN "
      "CASE WHEN x.others >= CAST($3 AS BIGINT) THEN CAST($3 AS BIGINT) WHEN x.last_seq <= x.read_seq + CAST($2 AS BIGINT) THEN x.others "
      "ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE conv_id = x.conv_id AND seq > x.read_seq "
      "AND kind = 'message' AND sender_id <> x.user_id" + shown + " LIMIT CAST($3 AS BIGINT)) y) END "
      "ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM mentions WHERE user_id = x.user_id AND conv_id = x.conv_id "
      "AND seq > x.read_seq LIMIT CAST($3 AS BIGINT)) z) END) "
      "FROM counts x GROUP BY x.user_id",
      ps));
  for (const auto& x : *r) out[x.i64(0)] = x.i64(1);
  return out;
}

namespace {

// Fills claimed jobs' facts: each one's target, the device's and the member's pointers, the
// message, and its user's badge. Two statements for the batch, on a reader after the claim.
result<nothing> fill_jobs(connection& c, std::vector<push_job>& jobs) {
  if (jobs.empty()) return nothing{};
  std::vector<param> ps;
  std::vector<id_t> users;
  for (const auto& j : jobs) {
    ps.emplace_back(j.id);
    users.push_back(j.user);
  }
  CONFAB_TRY(r, c.query_planned(
      "SELECT q.id, t.kind, t.target, r.delivered_seq, m.user_id, m.read_seq, e.seq, u.username, e.body, e.deleted, "
      "e.content_type FROM push_queue q "
      "LEFT JOIN push_targets t ON t.device_id = q.device_id "
      "LEFT JOIN device_receipts r ON r.device_id = q.device_id AND r.conv_id = q.conv_id "
      "LEFT JOIN members m ON m.conv_id = q.conv_id AND m.user_id = q.user_id AND m.left_seq IS NULL "
      "LEFT JOIN events e ON q.kind = 'message' AND e.conv_id = q.conv_id AND e.seq = q.seq "
      "LEFT JOIN users u ON u.id = e.sender_id "
      "WHERE q.id IN " + placeholders(1, ps.size()),
      ps));
  std::map<std::int64_t, const row*> by_id;
  for (const auto& x : *r) by_id[x.i64(0)] = &x;
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  CONFAB_TRY(b, push_badges(c, users));
  for (auto& j : jobs) {
    if (auto it = b->find(j.user); it != b->end()) j.unread = it->second;
    const auto f = by_id.find(j.id);
    if (f == by_id.end()) continue;  // pruned meanwhile: cannot be, it is claimed
    const row& x = *f->second;
    if (!x.is_null(1)) j.target = push_target_record{j.device, j.user, x.str(1), x.str(2)};
    j.device_delivered = x.i64(3);
    j.member = !x.is_null(4);
    j.read_seq = x.i64(5);
    if (j.kind != "message") continue;
    j.deleted = x.is_null(6) || x.i64(9) != 0;
    if (x.is_null(6)) continue;
    j.sender = x.str(7);
    if (!j.deleted) j.text = x.str(8);
    j.content_type = x.str(10);
  }
  return nothing{};
}

// Records outcomes (at most 500) of holder's claims in one statement; returns the rows it changed:
// id, device, user, conv, seq, kind, state.
db_result<rows> record_outcomes(connection& c, const std::string& holder, std::span<const push_outcome> os, std::int64_t now) {
  std::vector<param> ps{std::string_view(holder), now};
  std::string values;
  for (const auto& o : os) {
    const auto n = ps.size();
    auto p = [&](std::size_t k, const char* type) { return "CAST($" + std::to_string(n + k) + " AS " + type + ")"; };
    values += (values.empty() ? "(" : ", (") + p(1, "BIGINT") + ", " + p(2, "TEXT") + ", " + p(3, "TEXT") + ", " +
              p(4, "BIGINT") + ", " + p(5, "BIGINT") + ")";
    ps.emplace_back(o.id);
    ps.emplace_back(std::string_view(o.state));
    ps.emplace_back(std::string_view(o.detail));
    ps.emplace_back(o.retry_at_ms ? param{*o.retry_at_ms} : param{});
    ps.emplace_back(std::int64_t{o.attempt});
  }
  return c.strategy()->query_indexed(c,
      "UPDATE push_queue SET state = o.column2, detail = o.column3, due_ms = COALESCE(o.column4, push_queue.due_ms), "
      "claimed_by = CASE WHEN o.column2 = 'queued' THEN NULL ELSE push_queue.claimed_by END, claimed_until_ms = NULL, "
      "updated_ms = $2 FROM (VALUES " + values + ") AS o "
      "WHERE push_queue.id = o.column1 AND push_queue.claimed_by = $1 AND push_queue.attempts = o.column5 "
      "AND " + still_queued("push_queue.state") + " "
      "RETURNING id, device_id, user_id, conv_id, seq, kind, state",
      ps);
}

// Message pushes just sent (ids) whose member has read past them meanwhile: each notification is
// stale at once, so its clear follows.
result<nothing> clear_if_read(connection& c, const std::vector<std::int64_t>& ids, std::int64_t now) {
  if (ids.empty()) return nothing{};
  std::vector<param> ps{now};
  ps.insert(ps.end(), ids.begin(), ids.end());
  CONFAB_TRY(r, c.strategy()->query_indexed(c,
      "INSERT INTO push_queue (device_id, user_id, conv_id, seq, kind, state, due_ms, rule, created_ms, updated_ms) "
      "SELECT DISTINCT q.device_id, q.user_id, q.conv_id, m.read_seq, 'clear', 'queued', CAST($1 AS BIGINT), 'read', "
      "CAST($1 AS BIGINT), CAST($1 AS BIGINT) FROM push_queue q "
      "JOIN members m ON m.conv_id = q.conv_id AND m.user_id = q.user_id "
      "WHERE q.id IN " + placeholders(2, ids.size()) + " AND m.read_seq >= q.seq "
      "ON CONFLICT (device_id, conv_id, seq, kind) DO NOTHING",
      ps));
  return nothing{};
}

// The ids of up to limit queue rows matching cond (its parameters from $1).
result<std::vector<std::int64_t>> ids_where(connection& c, const std::string& cond, std::vector<param> ps, int limit) {
  ps.emplace_back(std::int64_t{limit});
  CONFAB_TRY(r, c.query_planned("SELECT id FROM push_queue WHERE " + cond + " LIMIT $" + std::to_string(ps.size()), ps));
  std::vector<std::int64_t> out;
  for (const auto& x : *r) out.push_back(x.i64(0));
  return out;
}

}  // namespace

task<nothing> push_store::set_target(const push_target_record& t) {
  return ex_.write<nothing>([t](write_context& ctx) -> result<nothing> {
    // Only for a device still signed in: a registration racing the device's revocation loses.
    CONFAB_TRY(r, query(ctx.db,
                        "INSERT INTO push_targets (device_id, user_id, kind, target, created_ms) "
                        "SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), $3, $4, CAST($5 AS BIGINT) WHERE EXISTS "
                        "(SELECT 1 FROM devices WHERE id = $1 AND user_id = $2 AND revoked_ms IS NULL) "
                        "ON CONFLICT (device_id) DO UPDATE SET kind = excluded.kind, target = excluded.target, "
                        "created_ms = excluded.created_ms RETURNING device_id",
                        {t.device, t.user, std::string_view(t.kind), std::string_view(t.target), now_ms()}));
    if (r->empty()) return make_error(errc::unauthenticated, "this device is signed out");
    return nothing{};
  });
}

task<bool> push_store::remove_target(id_t device) {
  return ex_.write<bool>([device](write_context& ctx) -> result<bool> {
    CONFAB_TRY(r, query(ctx.db, "DELETE FROM push_targets WHERE device_id = $1 RETURNING device_id", {device}));
    return !r->empty();
  });
}

task<std::optional<push_target_record>> push_store::target(id_t device) {
  return ex_.read<std::optional<push_target_record>>([device](connection& c) -> result<std::optional<push_target_record>> {
    CONFAB_TRY(r, query(c, "SELECT user_id, kind, target FROM push_targets WHERE device_id = $1", {device}));
    if (r->empty()) return std::optional<push_target_record>{};
    return std::optional<push_target_record>{push_target_record{device, (*r)[0].i64(0), (*r)[0].str(1), (*r)[0].str(2)}};
  });
}

task<std::int64_t> push_store::enqueue(std::vector<event> evs, std::int64_t grace_ms) {
  return ex_.write<std::int64_t>([evs = std::move(evs), grace_ms](write_context& ctx) -> result<std::int64_t> {
    std::int64_t queued = 0;
    const std::int64_t now = now_ms();
    for (const auto& e : evs) {
      if (e.kind != event_kind::message || e.deleted) continue;
      const bool in_thread = e.thread_root && !e.also_in_conversation;
      std::vector<param> ps{e.conv, e.seq, e.ts_ms + grace_ms, now, e.sender, e.ts_ms, std::int64_t{e.mention_all ? 1 : 0},
                            in_thread ? param{*e.thread_root} : param{}};
      for (auto u : e.mentions) ps.emplace_back(u);
      CONFAB_TRY(r, ctx.db.query(enqueue_sql(e.mentions.size()), ps));
      queued += static_cast<std::int64_t>(r->size());
    }
    return queued;
  });
}

task<std::vector<push_job>> push_store::claim(std::string holder, int limit, std::int64_t lease_ms) {
  return claim(std::move(holder), limit, lease_ms, std::vector<std::string>{"fcm", "apns", "webpush"});
}

task<std::vector<push_job>> push_store::claim(std::string holder, int limit, std::int64_t lease_ms,
                                              std::vector<std::string> providers) {
  if (limit < 1 || limit > 1000) co_return make_error(errc::invalid_field, "claim limit must be 1..1000");
  if (providers.empty() || providers.size() > 8) co_return make_error(errc::invalid_field, "claim needs 1..8 providers");
  auto take = [holder = std::move(holder), limit, lease_ms, providers = std::move(providers)](write_context& ctx)
      -> result<std::vector<push_job>> {
    const std::int64_t now = now_ms();
    // Two statements, so that no plan can run the row choice once per row (a generic plan made
    // while the table was nearly empty did: quadratic). The UPDATE re-checks that each row is
    // still unclaimed: on PostgreSQL a row another node claimed meanwhile is re-checked after its
    // lock is released, and then skipped.
    std::vector<param> due_params{now, std::int64_t{limit}};
    for (const auto& p : providers) due_params.emplace_back(std::string_view(p));
    CONFAB_TRY(due, ctx.db.strategy()->query_indexed(ctx.db,
                        "SELECT id FROM push_queue q WHERE state = 'queued' AND due_ms <= $1 "
                        "AND (claimed_until_ms IS NULL OR claimed_until_ms < $1) "
                        "AND (kind = 'message' OR NOT EXISTS (SELECT 1 FROM push_queue m WHERE m.device_id = q.device_id "
                        "AND m.conv_id = q.conv_id AND m.kind = 'message' AND m.state = 'queued' AND m.claimed_until_ms >= $1)) "
                        "AND COALESCE((SELECT t.kind FROM push_targets t WHERE t.device_id = q.device_id), '') IN "
                        "('', " + placeholders(3, providers.size()).substr(1) + " ORDER BY due_ms LIMIT $2",
                        due_params));
    if (due->empty()) return std::vector<push_job>{};
    std::vector<param> ps{std::string_view(holder), now + lease_ms, now};
    for (const auto& x : *due) ps.emplace_back(x.i64(0));
    CONFAB_TRY(r, ctx.db.strategy()->query_indexed(ctx.db,
                      "UPDATE push_queue SET claimed_by = $1, claimed_until_ms = $2, attempts = attempts + 1 "
                      "WHERE id IN " + placeholders(4, due->size()) + " AND " + still_queued("state") + " "
                      "AND (claimed_until_ms IS NULL OR claimed_until_ms < $3) "
                      "RETURNING id, device_id, user_id, conv_id, seq, kind, attempts, rule, due_ms",
                      ps));
    std::vector<push_job> jobs;
    for (const auto& x : *r) {
      push_job j;
      j.id = x.i64(0);
      j.device = x.i64(1);
      j.user = x.i64(2);
      j.conv = x.i64(3);
      j.seq = x.i64(4);
      j.kind = x.str(5);
      j.attempts = static_cast<int>(x.i64(6));
      j.rule = x.str(7);
      j.due_ms = x.i64(8);
      jobs.push_back(std::move(j));
    }
    std::sort(jobs.begin(), jobs.end(), [](const push_job& a, const push_job& b) { return a.id < b.id; });
    return jobs;
  };
  auto claimed = co_await ex_.write<std::vector<push_job>>(std::move(take));
  if (!claimed || claimed->empty()) co_return claimed;
  // The facts are read after the claim's commit, on a reader, so the single writer spends one
  // statement per batch. If this read fails the rows stay claimed until their lease ends.
  auto fill = [jobs = std::move(*claimed)](connection& c) mutable -> result<std::vector<push_job>> {
    CONFAB_TRY(f, fill_jobs(c, jobs));
    return std::move(jobs);
  };
  co_return co_await ex_.read<std::vector<push_job>>(std::move(fill));
}

task<nothing> push_store::finish(std::string holder, std::vector<push_outcome> outcomes) {
  return ex_.write<nothing>([holder = std::move(holder), outcomes = std::move(outcomes)](write_context& ctx) -> result<nothing> {
    const std::int64_t now = now_ms();
    std::map<std::int64_t, const push_outcome*> by_id;
    for (const auto& o : outcomes) by_id[o.id] = &o;
    std::vector<std::int64_t> sent;
    const std::span<const push_outcome> all(outcomes);
    for (std::size_t at = 0; at < all.size(); at += 500) {
      CONFAB_TRY(u, record_outcomes(ctx.db, holder, all.subspan(at, std::min<std::size_t>(500, all.size() - at)), now));
      for (const auto& x : *u) {
        if (x.str(6) == "dead") {
          CONFAB_TRY(d, query(ctx.db, "DELETE FROM push_targets WHERE device_id = $1 AND target = $2",
                              {x.i64(1), std::string_view(by_id.at(x.i64(0))->dead_target)}));
        } else if (x.str(6) == "sent" && x.str(5) == "message") {
          sent.push_back(x.i64(0));
        }
      }
    }
    return clear_if_read(ctx.db, sent, now);
  });
}

task<std::optional<std::int64_t>> push_store::next_due() {
  return ex_.read<std::optional<std::int64_t>>([](connection& c) -> result<std::optional<std::int64_t>> {
    CONFAB_TRY(r, query(c,
                        "SELECT MIN(due_ms) FROM push_queue WHERE state = 'queued' "
                        "AND (claimed_until_ms IS NULL OR claimed_until_ms < $1)",
                        {now_ms()}));
    return (*r)[0].opt_i64(0);
  });
}

task<std::int64_t> push_store::prune(std::int64_t before_ms, int limit) {
  return ex_.write<std::int64_t>([before_ms, limit](write_context& ctx) -> result<std::int64_t> {
    const std::int64_t now = now_ms();
    // The rows are chosen first and then changed by id (as in claim): an "id IN (SELECT … LIMIT)"
    // can be planned to run its choice once per row of the table.
    CONFAB_TRY(stale, ids_where(ctx.db,
                                "state = 'queued' AND due_ms < $1 AND (claimed_until_ms IS NULL OR claimed_until_ms < $2)",
                                {before_ms, now}, limit));
    if (!stale->empty()) {
      std::vector<param> ps{now};
      ps.insert(ps.end(), stale->begin(), stale->end());
      CONFAB_TRY(e, ctx.db.strategy()->query_indexed(ctx.db,
                        "UPDATE push_queue SET state = 'failed', detail = 'not sent within the retention: no node sends "
                        "to this provider', updated_ms = $1 WHERE id IN " + placeholders(2, stale->size()) +
                        " AND " + still_queued("state") + " AND (claimed_until_ms IS NULL OR claimed_until_ms < $1)",
                        ps));
    }
    CONFAB_TRY(done, ids_where(ctx.db, "state <> 'queued' AND updated_ms < $1", {before_ms}, limit));
    if (done->empty()) return std::int64_t{0};
    std::vector<param> ps(done->begin(), done->end());
    CONFAB_TRY(r, ctx.db.strategy()->query_indexed(
                      ctx.db, "DELETE FROM push_queue WHERE id IN " + placeholders(1, done->size()) + " RETURNING id", ps));
    return static_cast<std::int64_t>(r->size());
  });
}

task<std::int64_t> push_store::queued() {
  return ex_.read<std::int64_t>([](connection& c) -> result<std::int64_t> {
    CONFAB_TRY(r, query(c, "SELECT COUNT(*) FROM push_queue WHERE state = 'queued'", {}));
    return (*r)[0].i64(0);
  });
}

namespace {
constexpr std::string_view row_cols =
    "device_id, kind, state, rule, detail, attempts, due_ms, updated_ms, user_id, created_ms, claimed_by";
push_row to_push_row(const row& x) {
  return {x.i64(0), x.str(1), x.str(2), x.str(3), x.str(4), static_cast<int>(x.i64(5)), x.i64(6), x.i64(7),
          x.i64(8), x.i64(9), x.str(10)};
}
}  // namespace

task<std::vector<push_row>> push_store::rows(id_t user, id_t conv, std::int64_t seq) {
  return ex_.read<std::vector<push_row>>([=](connection& c) -> result<std::vector<push_row>> {
    CONFAB_TRY(r, query(c,
                        "SELECT " + std::string(row_cols) + " FROM push_queue "
                        "WHERE user_id = $1 AND conv_id = $2 AND (seq = $3 OR kind = 'clear' AND seq >= $3) "
                        "ORDER BY device_id, id",
                        {user, conv, seq}));
    std::vector<push_row> out;
    for (const auto& x : *r) out.push_back(to_push_row(x));
    return out;
  });
}

task<std::vector<push_row>> push_store::message_rows(id_t conv, std::int64_t seq) {
  return ex_.read<std::vector<push_row>>([=](connection& c) -> result<std::vector<push_row>> {
    CONFAB_TRY(r, query(c,
                        "SELECT " + std::string(row_cols) + " FROM push_queue "
                        "WHERE conv_id = $1 AND seq = $2 AND kind = 'message' "
                        "AND user_id IN (SELECT user_id FROM members WHERE conv_id = $1) ORDER BY device_id",
                        {conv, seq}));
    std::vector<push_row> out;
    for (const auto& x : *r) out.push_back(to_push_row(x));
    return out;
  });
}

task<push_facts> push_store::facts(id_t user, id_t conv, std::int64_t seq) {
  return ex_.read<push_facts>([=](connection& c) -> result<push_facts> {
    push_facts f;
    CONFAB_TRY(e, query(c,
                        "SELECT " + std::string(event_cols) + " FROM events WHERE conv_id = $1 AND seq = $2 AND kind = 'message'",
                        {conv, seq}));
    if (e->empty()) return f;
    CONFAB_TRY(ev, to_event((*e)[0]));
    f.exists = true;
    f.ts_ms = ev->ts_ms;
    f.sender = ev->sender == user;
    f.mentioned = ev->mention_all || std::find(ev->mentions.begin(), ev->mentions.end(), user) != ev->mentions.end();
    f.thread_reply = ev->thread_root && !ev->also_in_conversation;
    CONFAB_TRY(m, query(c,
                        "SELECT 1 FROM members WHERE conv_id = $1 AND user_id = $2 AND joined_seq <= $3 "
                        "AND (left_seq IS NULL OR left_seq > $3)",
                        {conv, user, seq}));
    f.member_at_seq = !m->empty();
    CONFAB_TRY(n, query(c,
                        "SELECT " + std::string(notify_level_sql) + ", n.muted_until_ms FROM conversations cv "
                        "LEFT JOIN notify_levels n ON n.user_id = $1 AND n.conv_id = cv.id WHERE cv.id = $2",
                        {user, conv}));
    if (!n->empty()) {
      f.level = (*n)[0].str(0);
      f.muted_until = (*n)[0].opt_i64(1);
    }
    if (f.thread_reply) {
      CONFAB_TRY(t, query(c,
                          "SELECT 1 FROM thread_users WHERE user_id = $1 AND conv_id = $2 AND root_seq = $3 AND following = 1",
                          {user, conv, *ev->thread_root}));
      f.following = !t->empty();
    }
    CONFAB_TRY(t, query(c, "SELECT device_id, kind, target FROM push_targets WHERE user_id = $1 ORDER BY device_id", {user}));
    for (const auto& x : *t) f.targets.push_back({x.i64(0), user, x.str(1), x.str(2)});
    return f;
  });
}

namespace detail {

result<nothing> clear_on_read(connection& c, id_t user, id_t device, id_t conv, std::int64_t read_seq) {
  const std::int64_t now = now_ms();
  CONFAB_TRY(q, query(c,
                      "INSERT INTO push_queue (device_id, user_id, conv_id, seq, kind, state, due_ms, rule, created_ms, updated_ms) "
                      "SELECT DISTINCT device_id, user_id, conv_id, CAST($4 AS BIGINT), 'clear', 'queued', CAST($5 AS BIGINT), "
                      "'read', CAST($5 AS BIGINT), CAST($5 AS BIGINT) FROM push_queue "
                      "WHERE user_id = $1 AND conv_id = $2 AND kind = 'message' AND seq <= $4 AND device_id <> $3 "
                      "AND (state = 'sent' OR state = 'queued' AND claimed_by IS NOT NULL) "
                      "ON CONFLICT (device_id, conv_id, seq, kind) DO NOTHING",
                      {user, conv, device, read_seq, now}));
  CONFAB_TRY(u, query(c,
                      "UPDATE push_queue SET state = 'cleared', updated_ms = $4 "
                      "WHERE user_id = $1 AND conv_id = $2 AND kind = 'message' AND state = 'sent' AND seq <= $3",
                      {user, conv, read_seq, now}));
  return nothing{};
}

result<nothing> device_delivered(connection& c, id_t device, id_t conv, std::int64_t seq) {
  CONFAB_TRY(r, query(c,
                      "INSERT INTO device_receipts (device_id, conv_id, delivered_seq) VALUES ($1, $2, $3) "
                      "ON CONFLICT (device_id, conv_id) DO UPDATE SET delivered_seq = excluded.delivered_seq "
                      "WHERE device_receipts.delivered_seq < excluded.delivered_seq",
                      {device, conv, seq}));
  return nothing{};
}

}  // namespace detail

}  // namespace confab::storage
