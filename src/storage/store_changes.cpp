// The store's changes to messages: reactions, edits (with their history) and deletes for
// everyone, and the per-viewer reaction counts that history and the stream carry.
//
// Each change is appended like a membership change (store_conversations.cpp): open_event (the
// conversation's row lock), then the target message and the rules (chat/rules.hpp) read under
// that lock, then the derived state (reactions, edit_history, the message row) and append_event,
// all in one transaction, so writers on several nodes cannot break a rule between check and
// write (two nodes adding the 20th and 21st emoji, an edit racing a delete).
#include "storage/store_detail.hpp"

#include "core/time.hpp"
#include "protocol/codec.hpp"

#include <algorithm>
#include <map>

namespace confab::storage {
using namespace detail;

namespace {

// The target event, read under the lock; nullopt if the conversation has no such seq.
struct target_row {
  chat::message_view view;
  std::string body;
  std::optional<std::int64_t> edited_ms;
};

result<std::optional<target_row>> load_target(connection& c, id_t conv, std::int64_t seq) {
  CONFAB_TRY(r, query(c, "SELECT kind, sender_id, ts_ms, deleted, body, edited_ms FROM events WHERE conv_id = $1 AND seq = $2",
                      {conv, seq}));
  if (r->empty()) return std::optional<target_row>{};
  const auto& x = (*r)[0];
  auto kind = parse_event_kind(x.str(0));
  if (!kind) return make_error(errc::internal, "stored event has an unknown kind: " + x.str(0));
  return std::optional<target_row>{target_row{{*kind, x.i64(1), x.i64(2), x.i64(3) != 0}, x.str(4), x.opt_i64(5)}};
}

const chat::message_view* view_of(const std::optional<target_row>& t) { return t ? &t->view : nullptr; }

result<nothing> exec_sql(connection& c, std::string_view sql) {
  if (auto r = c.exec(sql); !r) return to_error(r.error());
  return nothing{};
}

}  // namespace

task<change_ack> store::react(id_t actor, id_t device, id_t conv, std::int64_t target, const std::string& emoji_in, bool add,
                              std::int64_t max_emoji) {
  auto* sink = sink_;
  return ex_->write<change_ack>([=, emoji = emoji_in](write_context& ctx) -> result<change_ack> {
    auto& c = ctx.db;
    // A reaction already there (or already gone) appends nothing; that is known only under the
    // lock, after open_event took a seq, so the change runs in a savepoint of its own that such a
    // no-op rolls back (a gap in seq is never committed).
    CONFAB_TRY(sp, exec_sql(c, "SAVEPOINT confab_react"));
    auto ev = membership_event(conv, event_kind::reaction, actor, device, {});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));  // role and mute
    CONFAB_TRY(t, load_target(c, conv, target));
    CONFAB_TRY(allowed, chat::may_react(m->view, view_of(*t), ev.ts_ms));
    CONFAB_TRY(st, query(c,
                         "SELECT COUNT(DISTINCT emoji), COALESCE(SUM(CASE WHEN emoji = $3 THEN 1 ELSE 0 END), 0), "
                         "COALESCE(SUM(CASE WHEN emoji = $3 AND user_id = $4 THEN 1 ELSE 0 END), 0) "
                         "FROM reactions WHERE conv_id = $1 AND seq = $2",
                         {conv, target, std::string_view(emoji), actor}));
    const bool mine = (*st)[0].i64(2) > 0;
    const std::int64_t count = (*st)[0].i64(1);  // users with this emoji before the change
    if (mine == add) {
      CONFAB_TRY(rb, exec_sql(c, "ROLLBACK TO SAVEPOINT confab_react; RELEASE SAVEPOINT confab_react"));
      return change_ack{conv, 0, ev.ts_ms, false};
    }
    if (add) {
      CONFAB_TRY(lim, chat::may_add_reaction((*st)[0].i64(0), (*st)[0].i64(1) > 0, max_emoji));
      // event_seq: the event that made this emoji appear on the message (its rows inherit it while
      // any remain), so history orders emoji as a client applying the events does.
      CONFAB_TRY(ins, query(c,
                            "INSERT INTO reactions (conv_id, seq, emoji, user_id, event_seq) VALUES ($1, $2, $3, $4, "
                            "COALESCE((SELECT MIN(event_seq) FROM reactions WHERE conv_id = $1 AND seq = $2 AND emoji = $3), $5))",
                            {conv, target, std::string_view(emoji), actor, o->seq}));
    } else {
      CONFAB_TRY(del, query(c, "DELETE FROM reactions WHERE conv_id = $1 AND seq = $2 AND emoji = $3 AND user_id = $4",
                            {conv, target, std::string_view(emoji), actor}));
    }
    ev.seq = o->seq;
    ev.payload = reaction_payload{target, emoji, add, add ? count + 1 : count - 1};
    const auto ts = ev.ts_ms;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    CONFAB_TRY(rel, exec_sql(c, "RELEASE SAVEPOINT confab_react"));
    return change_ack{conv, o->seq, ts, true};
  });
}

task<change_ack> store::edit_message(id_t actor, id_t device, id_t conv, std::int64_t target, const std::string& text_in,
                                     std::int64_t window_ms) {
  auto* sink = sink_;
  return ex_->write<change_ack>([=, text = text_in](write_context& ctx) -> result<change_ack> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, event_kind::edited, actor, device, edited_payload{target, text});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));  // role and mute
    CONFAB_TRY(t, load_target(c, conv, target));
    CONFAB_TRY(allowed, chat::may_edit(m->view, actor, view_of(*t), ev.ts_ms, window_ms));
    // The text being replaced, with the time it was written, into the history.
    const auto& old = **t;
    CONFAB_TRY(h, query(c,
                        "INSERT INTO edit_history (conv_id, seq, rev, body, ts_ms, edit_seq) SELECT CAST($1 AS BIGINT), "
                        "CAST($2 AS BIGINT), COALESCE((SELECT MAX(rev) FROM edit_history WHERE conv_id = $1 AND seq = $2), 0) + 1, "
                        "CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT)",
                        {conv, target, std::string_view(old.body), old.edited_ms.value_or(old.view.ts_ms), o->seq}));
    CONFAB_TRY(u, query(c, "UPDATE events SET body = $3, edited_ms = $4 WHERE conv_id = $1 AND seq = $2",
                        {conv, target, std::string_view(text), ev.ts_ms}));
    ev.seq = o->seq;
    const auto ts = ev.ts_ms;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return change_ack{conv, o->seq, ts, true};
  });
}

task<change_ack> store::delete_message(id_t actor, id_t device, id_t conv, std::int64_t target) {
  auto* sink = sink_;
  return ex_->write<change_ack>([=](write_context& ctx) -> result<change_ack> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, event_kind::deleted, actor, device, deleted_payload{target, actor});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_membership(c, conv, actor));
    CONFAB_TRY(t, load_target(c, conv, target));
    CONFAB_TRY(allowed, chat::may_delete(m->kind, m->view(), actor, view_of(*t)));
    // Erase every copy of the text: the edited events' payloads (found through the history), the
    // history, the reactions, then the message itself (a tombstone at the same seq).
    const std::string erased = protocol::payload_text(edited_payload{target, ""});
    CONFAB_TRY(e1, query(c,
                         "UPDATE events SET data = $3 WHERE conv_id = $1 AND seq IN "
                         "(SELECT edit_seq FROM edit_history WHERE conv_id = $1 AND seq = $2)",
                         {conv, target, std::string_view(erased)}));
    CONFAB_TRY(e2, query(c, "DELETE FROM edit_history WHERE conv_id = $1 AND seq = $2", {conv, target}));
    CONFAB_TRY(e3, query(c, "DELETE FROM reactions WHERE conv_id = $1 AND seq = $2", {conv, target}));
    // A deleted message mentions nobody any more: no unread mention, no entry in `mentions`.
    CONFAB_TRY(e5, query(c, "DELETE FROM mentions WHERE conv_id = $1 AND seq = $2", {conv, target}));
    // Nor is it pinned (the deleted event tells clients; no unpinned event follows).
    CONFAB_TRY(e6, query(c, "DELETE FROM pins WHERE conv_id = $1 AND seq = $2", {conv, target}));
    CONFAB_TRY(e4, query(c, "UPDATE events SET body = '', edited_ms = NULL, deleted = 1 WHERE conv_id = $1 AND seq = $2",
                         {conv, target}));
    ev.seq = o->seq;
    const auto ts = ev.ts_ms;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return change_ack{conv, o->seq, ts, true};
  });
}

task<std::vector<text_version>> store::edit_history(id_t user, id_t conv, std::int64_t target) {
  return ex_->read<std::vector<text_version>>([=](connection& c) -> result<std::vector<text_version>> {
    CONFAB_TRY(m, load_membership(c, conv, user));
    if (m->role == conv_role::none) return make_error(errc::forbidden, "not a member of this conversation");
    // A former member reads up to (and including) the event that removed them, as in history.
    if (m->left_seq && target > *m->left_seq) return make_error(errc::not_found, "no such message");
    CONFAB_TRY(t, load_target(c, conv, target));
    // The rules' target checks, for a reader: any membership row counts (former members too).
    CONFAB_TRY(ok, chat::may_react(chat::member_view{conv_role::member}, view_of(*t), 0));
    CONFAB_TRY(r, query(c, "SELECT body, ts_ms FROM edit_history WHERE conv_id = $1 AND seq = $2 ORDER BY rev", {conv, target}));
    std::vector<text_version> out;
    for (auto& x : *r) out.push_back({x.str(0), x.i64(1)});
    out.push_back({(*t)->body, (*t)->edited_ms.value_or((*t)->view.ts_ms)});
    return out;
  });
}

namespace detail {

// One query per page whatever its size: the (conv, seq) pairs are padded to a power of two by
// repeating the last one, so a connection caches a handful of statements, not one per page size.
result<nothing> decorate_changes(connection& c, id_t viewer, const std::vector<event*>& evs) {
  std::map<std::pair<id_t, std::int64_t>, event*> targets;
  for (auto* e : evs)
    if (e->kind == event_kind::message && !e->deleted) {
      e->reactions.clear();
      targets.emplace(std::pair{e->conv, e->seq}, e);
    }
  if (targets.empty()) return nothing{};
  // Padded to a power of two with the last pair repeated, so that few statement texts exist.
  std::vector<std::pair<id_t, std::int64_t>> keys;
  for (auto& [k, e] : targets) keys.push_back(k);
  std::size_t n = 1;
  while (n < keys.size()) n *= 2;
  keys.resize(n, keys.back());
  std::vector<param> ps{viewer};
  std::string sql =
      "SELECT r.conv_id, r.seq, r.emoji, COUNT(*), MAX(CASE WHEN r.user_id = $1 THEN 1 ELSE 0 END), MIN(r.event_seq) FROM " +
      pair_table(ps, keys) + " k JOIN reactions r ON r.conv_id = k.column1 AND r.seq = k.column2";
  sql += " GROUP BY r.conv_id, r.seq, r.emoji ORDER BY r.conv_id, r.seq, MIN(r.event_seq)";
  auto r = c.query(sql, ps);
  if (!r) return to_error(r.error());
  for (auto& x : *r) {
    auto t = targets.find({x.i64(0), x.i64(1)});
    if (t != targets.end()) t->second->reactions.push_back({x.str(2), x.i64(3), x.i64(4) != 0});
  }
  return nothing{};
}

}  // namespace detail

}  // namespace confab::storage
