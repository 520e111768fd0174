// PostgreSQL's way of writing (store_strategy): the event append with per-user head rows, and
// sends run set-based over arrays.
#include "storage/postgres/pg_array.hpp"
#include "storage/postgres/pg_search.hpp"
#include "storage/postgres/pg_store.hpp"

#include "core/time.hpp"
#include "protocol/codec.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace confab::storage::postgres {
using namespace detail;
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
  // issue 11, threads and mentions: thread_root, thread_flags, mentions
  param root = ev.thread_root ? param{*ev.thread_root} : param{};
  const std::string mentioned = mentions_text(ev.mentions);
  const std::string only = stream_filter(ev).value_or(" AND FALSE");  // issue 12: channels
  const param ps[] = {ev.conv, ev.seq, to_string(ev.kind), ev.sender, ev.device, client, ev.ts_ms,
                      std::string_view(ev.text), std::string_view(ev.content_type), reply, std::string_view(data), rd,
                      ev.edited_ms ? param{*ev.edited_ms} : param{}, std::int64_t{ev.deleted ? 1 : 0},
                      root, thread_flags(ev), std::string_view(mentioned)};
  auto r = c.query(
      "WITH e AS (INSERT INTO events (" + std::string(event_cols) + ") "
      "VALUES (CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS TEXT), "
      "CAST($7 AS BIGINT), CAST($8 AS TEXT), CAST($9 AS TEXT), CAST($10 AS BIGINT), CAST($11 AS TEXT), "
      "CAST($13 AS BIGINT), CAST($14 AS SMALLINT), CAST($15 AS BIGINT), CAST($16 AS BIGINT), CAST($17 AS TEXT)) RETURNING seq), "
      "h AS (INSERT INTO user_heads AS u (user_id, head) SELECT m.user_id, 1 FROM members m "
      "WHERE m.conv_id = CAST($1 AS BIGINT) AND m.left_seq IS NULL" + only + " ORDER BY m.user_id "
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

class pg_strategy final : public store_strategy {
 public:
  result<nothing> append_event(connection& c, const event& ev, std::vector<recipient>& to,
                               std::optional<id_t> reader) const override {
    return append_pg(c, ev, to, reader);
  }
  bool run_sends(connection& c, std::span<send_item* const> items) const override;
  // PostgreSQL compares in byte order only under the "C" collation, whatever the database's default.
  std::string bytewise(std::string_view expr) const override { return std::string(expr) + " COLLATE \"C\""; }
  result<nothing> search_put(connection& c, std::span<const search_doc> ds) const override { return postgres::search_put(c, ds); }
  result<nothing> search_remove(connection& c, std::span<const message_key> ks) const override { return postgres::search_remove(c, ks); }
  std::string lease_guard(int param) const override {
    return "pg_try_advisory_xact_lock(hashtext('confab.feed_lease'), hashtext(CAST($" + std::to_string(param) + " AS TEXT)))";
  }
  search_match match(const search::query& q, int param) const override { return postgres::match(q, param); }
  db_result<rows> query_indexed(connection& c, std::string_view sql, std::span<const param> ps) const override {
    // SET LOCAL lasts to the end of the transaction, which the caller may share with other jobs
    // (group commit): switched back at once. A failed statement rolls back to the job's savepoint,
    // which undoes the SET as well.
    if (auto off = c.exec("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"); !off)
      return off.error();
    auto r = c.query_planned(sql, ps);
    if (!r) return r;
    if (auto on = c.exec("SET LOCAL enable_seqscan = on; SET LOCAL enable_bitmapscan = on; SET LOCAL enable_sort = on"); !on)
      return on.error();
    return r;
  }
};

// PostgreSQL: every send of the group in four round trips whatever their number (savepoint,
// conversation locks, checks, append; one or two more when a conversation of the group is marked
// moderated), instead of that many per send. Statements:
//  1. the conversations' row locks, in ascending id (every writer, and open_event, which locks one
//     conversation, takes them in that order, so writers on several nodes wait for each other
//     instead of deadlocking), returning each one's last seq;
//  2. in a new statement, so under READ COMMITTED its snapshot includes every commit made by the
//     writers it waited for: the duplicate and membership checks of every send, one row each
//     (unnest WITH ORDINALITY), and whether its conversation is marked moderated (it has ever had
//     settings or a mute). Under the locks, no other writer can change these conversations'
//     members or settings before this transaction ends (those changes lock the conversation
//     first), so a member removed on another node meanwhile is refused here;
//  2b. only for sends into moderated conversations: their settings, mutes and last slow-mode
//     posts read and judged (detail::check_post_moderation), recording slow-mode post times (a
//     statement more only when slow mode applies). Joining those tables into statement 2 made
//     every batch pay for planning a five-way join (docs/performance.md, issue 11's cost);
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
// One group's run: the state its statements share.
class pg_send_run {
 public:
  pg_send_run(connection& c, std::span<send_item* const> items) : c_(c), items_(items) {}

  bool run() {
    find_repeats();
    if (leaders_.empty()) return true;
    if (!lock() || !check()) return false;
    if (!valid_.empty() && !moderate()) return false;  // moderation
    if (!valid_.empty() && !append()) return false;
    answer_repeats();
    return true;
  }

 private:
  const send_request& req(std::size_t i) const { return items_[i]->req.req; }

  bool fail_all(const error& e) {
    for (auto* it : items_)
      if (!it->res || *it->res) it->res.emplace(e);
    return false;
  }

  // The first send of each (device, client_id) in the group leads; repeats follow it. (Without a
  // client id a send is never a repeat.)
  void find_repeats() {
    lead_.resize(items_.size());
    std::map<std::pair<id_t, std::string_view>, std::size_t> seen;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      lead_[i] = i;
      if (!req(i).client_id.empty()) lead_[i] = seen.try_emplace({req(i).device, std::string_view(req(i).client_id)}, i).first->second;
      if (lead_[i] == i) leaders_.push_back(i);
    }
  }

  // 1. The conversations' row locks, ascending id; each one's next seq.
  bool lock() {
    for (auto i : leaders_) next_.emplace(req(i).conv, 0);
    pg_array ids;
    for (auto& [id, s] : next_) ids.add(id);
    const param ps[] = {std::string_view(ids.str())};
    auto lk = c_.query_planned(
        "SELECT id, last_seq FROM conversations WHERE id = ANY(CAST($1 AS BIGINT[])) ORDER BY id FOR NO KEY UPDATE", ps);
    if (!lk) return fail_all(to_error(lk.error()));
    for (auto& r : *lk) next_[r.i64(0)] = r.i64(1) + 1;
    return true;
  }

  // 2. The checks, under the locks: each leader is answered (a repeat of a committed send, a
  // refusal) or becomes valid.
  bool check() {
    pg_array dev, cli, cnv, usr;
    for (auto i : leaders_) {
      dev.add(req(i).device);
      req(i).client_id.empty() ? cli.add_null() : cli.add_text(req(i).client_id);
      cnv.add(req(i).conv);
      usr.add(req(i).user);
    }
    const param ps[] = {std::string_view(dev.str()), std::string_view(cli.str()), std::string_view(cnv.str()),
                        std::string_view(usr.str())};
    auto chk = c_.query_planned(
        "SELECT x.i, d.conv_id, d.seq, d.ts_ms, cv.kind, cv.last_seq, m.role, m.left_seq, cv.moderated "
        "FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS TEXT[]), CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[])) "
        "WITH ORDINALITY AS x(device_id, client_id, conv_id, user_id, i) "
        "LEFT JOIN events d ON d.device_id = x.device_id AND d.client_id = x.client_id "
        "LEFT JOIN conversations cv ON cv.id = x.conv_id "
        "LEFT JOIN members m ON m.conv_id = cv.id AND m.user_id = x.user_id ORDER BY x.i",
        ps);
    if (!chk) return fail_all(to_error(chk.error()));
    if (chk->size() != leaders_.size()) return fail_all(make_error(errc::internal, "send checks returned the wrong number of rows"));
    for (std::size_t k = 0; k < leaders_.size(); ++k) {
      if (auto done = check_send(req(leaders_[k]), (*chk)[k], 1))
        items_[leaders_[k]]->res.emplace(std::move(*done));
      else if (!check_threads(leaders_[k]))  // issue 11, threads and mentions
        return false;
      else if (!items_[leaders_[k]]->res) {
        valid_.push_back(leaders_[k]);
        if ((*chk)[k].str(4) == to_string(conv_kind::channel)) channel_.insert(leaders_[k]);  // issue 12
        if ((*chk)[k].i64(8) != 0) moderated_.push_back(leaders_[k]);
      }
    }
    return true;
  }

  // issue 11, threads and mentions: a reply's root, the wildcard rule and the @usernames, checked
  // under the locks (per such send: plain sends cost nothing more). A refusal answers the send
  // alone; a database failure fails the group.
  bool check_threads(std::size_t i) {
    auto& rq = items_[i]->req.req;
    if (!has_thread_work(rq)) return true;
    auto r = check_thread_send(c_, rq);
    if (r) return true;
    const auto code = r.error().code;
    if (c_.retry_requested || c_.broken || (code != errc::invalid_field && code != errc::not_found && code != errc::forbidden))
      return fail_all(r.error());
    items_[i]->res.emplace(r.error());
    return true;
  }

  // issue 11, threads and mentions: each valid reply's or mention's derived rows, after the append.
  bool apply_threads(const std::vector<std::int64_t>& seqs, std::int64_t ts) {
    for (auto i : valid_) {
      if (!has_thread_work(req(i))) continue;
      if (auto r = apply_thread_send(c_, req(i), seqs[i], ts); !r) return fail_all(r.error());
    }
    return true;
  }

  // 2b. Moderation (post policy, mute, slow mode) of the valid sends into conversations marked
  // moderated, under the same locks: the refused ones are answered and leave valid_. The others
  // have the defaults (anyone posts, no mute, no slow mode) and cost no statement.
  bool moderate() {
    if (moderated_.empty()) return true;
    std::vector<const send_request*> rs;
    for (auto i : moderated_) rs.push_back(&req(i));
    auto verdicts = check_post_moderation(c_, rs, now_ms());
    if (!verdicts) return fail_all(verdicts.error());
    for (std::size_t k = 0; k < moderated_.size(); ++k)
      if (auto& refused = (*verdicts)[k]) items_[moderated_[k]]->res.emplace(std::move(*refused));
    std::erase_if(valid_, [&](std::size_t i) { return items_[i]->res.has_value(); });
    return true;
  }

  // 3. The append of the valid sends, seqs in queue order; then their acks and hooks.
  bool append() {
    const auto ts = now_ms();
    pg_array a_conv, a_seq, a_sender, a_dev, a_cli, a_body, a_ctype, a_reply;
    pg_array a_root, a_flags, a_mentions;  // issue 11, threads and mentions
    pg_array a_channel;                    // issue 12
    std::vector<std::int64_t> seqs(items_.size(), 0);
    std::vector<event> evs(items_.size());                            // the hooks' events
    std::map<std::pair<id_t, std::int64_t>, std::size_t> by_event;  // (conv, seq) -> item
    for (auto i : valid_) {
      const auto& rq = req(i);
      auto& nx = next_[rq.conv];
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
      evs[i] = message_event(rq, ts);
      evs[i].seq = seqs[i];
      evs[i].channel = channel_.contains(i);  // issue 12: delivered live as a channel event
      a_root.add(evs[i].thread_root);  // issue 11, threads and mentions
      a_flags.add(thread_flags(evs[i]));
      a_mentions.add_text(mentions_text(evs[i].mentions));
      a_channel.add_bool(evs[i].channel);
    }
    const param ps[] = {std::string_view(a_conv.str()), std::string_view(a_seq.str()),   std::string_view(a_sender.str()),
                        std::string_view(a_dev.str()),  std::string_view(a_cli.str()),   ts,
                        std::string_view(a_body.str()), std::string_view(a_ctype.str()), std::string_view(a_reply.str()),
                        std::string_view(a_root.str()), std::string_view(a_flags.str()), std::string_view(a_mentions.str()),
                        std::string_view(a_channel.str())};
    auto ap = c_.query_planned(append_sql(), ps);
    if (!ap) {
      // A unique key here is (device, client_id): another node committed the same send meanwhile
      // into another conversation. The re-run's checks answer it.
      if (ap.error().code == errc::conflict) c_.request_retry(ap.error().message);
      return fail_all(to_error(ap.error()));
    }
    if (!apply_threads(seqs, ts)) return false;  // issue 11, threads and mentions
    std::vector<std::vector<recipient>> to(items_.size());
    for (auto& r : *ap) {
      auto e = by_event.find({r.i64(2), r.i64(3)});
      if (e != by_event.end()) to[e->second].push_back({r.i64(0), r.i64(1)});
    }
    for (auto i : valid_) {
      auto* it = items_[i];
      it->res.emplace(send_ack{req(i).conv, seqs[i], ts, false});
      if (auto* sink = it->req.sink) {
        std::sort(to[i].begin(), to[i].end(), [](auto& a, auto& b) { return a.user_id < b.user_id; });
        it->after_commit = [sink, ev = std::move(evs[i]), t = std::move(to[i])]() { sink->on_committed(ev, t); };
      }
    }
    return true;
  }

  static const std::string& append_sql() {
    static const std::string sql =
        "WITH x AS (SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[]), CAST($3 AS BIGINT[]), "
        "CAST($4 AS BIGINT[]), CAST($5 AS TEXT[]), CAST($7 AS TEXT[]), CAST($8 AS TEXT[]), CAST($9 AS BIGINT[]), "
        "CAST($10 AS BIGINT[]), CAST($11 AS BIGINT[]), CAST($12 AS TEXT[]), CAST($13 AS BOOLEAN[])) "
        "WITH ORDINALITY AS t(conv_id, seq, sender_id, device_id, client_id, body, content_type, reply_to, "
        "thread_root, thread_flags, mentions, channel, i)), "
        "cv AS (UPDATE conversations c SET last_seq = y.seq, last_ms = CAST($6 AS BIGINT) "
        "FROM (SELECT conv_id, MAX(seq) AS seq FROM x GROUP BY conv_id) y WHERE c.id = y.conv_id), "
        "e AS (INSERT INTO events (" + std::string(event_cols) + ") "
        "SELECT conv_id, seq, '" + std::string(to_string(event_kind::message)) + "', sender_id, device_id, client_id, "
        "CAST($6 AS BIGINT), body, content_type, reply_to, '', NULL, 0, thread_root, thread_flags, mentions FROM x), "
        // issue 12: a channel's messages write no stream rows (x.channel: the kind read by the checks)
        "d AS (SELECT m.user_id, x.i, x.conv_id, x.seq FROM x JOIN members m ON m.conv_id = x.conv_id AND m.left_seq IS NULL "
        "WHERE NOT x.channel), "
        "h AS (INSERT INTO user_heads AS u (user_id, head) SELECT user_id, COUNT(*) FROM d GROUP BY user_id ORDER BY user_id "
        "ON CONFLICT (user_id) DO UPDATE SET head = u.head + excluded.head RETURNING u.user_id, u.head), "
        "s AS (INSERT INTO stream (user_id, pos, conv_id, seq) "
        "SELECT d.user_id, h.head - COUNT(*) OVER (PARTITION BY d.user_id) + row_number() OVER (PARTITION BY d.user_id ORDER BY d.i), "
        "d.conv_id, d.seq FROM d JOIN h ON h.user_id = d.user_id "
        "RETURNING user_id, pos, conv_id, seq), "
        "r AS (UPDATE members m SET read_seq = y.seq, delivered_seq = y.seq "
        "FROM (SELECT conv_id, sender_id, MAX(seq) AS seq FROM x GROUP BY conv_id, sender_id) y "
        "WHERE m.conv_id = y.conv_id AND m.user_id = y.sender_id AND m.read_seq < y.seq) "
        "SELECT user_id, pos, conv_id, seq FROM s";
    return sql;
  }

  // Repeats inside the group answer as the send they repeat.
  void answer_repeats() {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (lead_[i] == i) continue;
      const auto& first = *items_[lead_[i]]->res;
      if (!first)
        items_[i]->res.emplace(first.error());
      else if (first->conv != req(i).conv)
        items_[i]->res.emplace(make_error(errc::conflict, "client_id was already used by this device in another conversation"));
      else
        items_[i]->res.emplace(send_ack{first->conv, first->seq, first->ts_ms, true});
    }
  }

  connection& c_;
  std::span<send_item* const> items_;
  std::vector<std::size_t> lead_;     // per item: the item it repeats (itself if it leads)
  std::vector<std::size_t> leaders_;  // items that lead, in queue order
  std::vector<std::size_t> valid_;    // leaders that passed the checks, in queue order
  std::vector<std::size_t> moderated_;  // valid leaders whose conversation is marked moderated
  std::set<std::size_t> channel_;  // issue 12: valid sends to channels
  std::map<id_t, std::int64_t> next_; // conv -> the next seq to hand out (ascending id)
};

bool pg_strategy::run_sends(connection& c, std::span<send_item* const> items) const { return pg_send_run(c, items).run(); }

}  // namespace

const store_strategy& strategy() {
  static const pg_strategy s;
  return s;
}

}  // namespace confab::storage::postgres
