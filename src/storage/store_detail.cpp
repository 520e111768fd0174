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
  // issue 11: a message's state (edits, deletes), then its thread and mention fields
  e.edited_ms = r.opt_i64(o + 11);
  e.deleted = r.i64(o + 12) != 0;
  e.thread_root = r.opt_i64(o + 13);
  CONFAB_TRY(th, read_thread_cells(e, r.i64(o + 14), r.str(o + 15)));
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
std::string pair_values(std::vector<param>& ps, std::span<const std::pair<id_t, std::int64_t>> pairs) {
  std::string s;
  for (auto& [a, b] : pairs) {
    if (!s.empty()) s += ", ";
    const auto n = ps.size();
    s += "(CAST($" + std::to_string(n + 1) + " AS BIGINT), CAST($" + std::to_string(n + 2) + " AS BIGINT))";
    ps.emplace_back(a);
    ps.emplace_back(b);
  }
  return s;
}

std::string pair_table(std::vector<param>& ps, std::span<const std::pair<id_t, std::int64_t>> pairs) {
  return "(SELECT DISTINCT column1, column2 FROM (VALUES " + pair_values(ps, pairs) + ") AS pairs)";
}

std::string event_cols_of(std::string_view alias) {
  std::string out;
  std::string_view cols = event_cols;
  while (!cols.empty()) {
    const auto comma = cols.find(',');
    auto col = cols.substr(0, comma);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out.append(alias).append(".").append(col);
    cols = comma == std::string_view::npos ? std::string_view{} : cols.substr(comma + 1);
  }
  return out;
}

result<nothing> decorate(connection& c, id_t viewer, const std::vector<event*>& evs) {
  CONFAB_TRY(ch, decorate_changes(c, viewer, evs));
  return decorate_threads(c, viewer, evs);
}

result<nothing> decorate(connection& c, id_t viewer, std::vector<event>& evs) {
  std::vector<event*> ps;
  ps.reserve(evs.size());
  for (auto& e : evs) ps.push_back(&e);
  return decorate(c, viewer, ps);
}

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

namespace {
// issue 12: the kind of the conversation this storage thread last opened. Every append_event runs
// in the same job right after the open_event of its conversation, and a conversation's kind never
// changes, so append_event learns whether it appends to a channel without another statement.
struct last_opened {
  id_t conv = 0;
  conv_kind kind = conv_kind::group;
};
thread_local last_opened opened_here;
}  // namespace

result<opened> open_event(connection& c, id_t conv, std::int64_t ts_ms) {
  CONFAB_TRY(r, query(c, "UPDATE conversations SET last_seq = last_seq + 1, last_ms = $2 WHERE id = $1 RETURNING kind, last_seq",
                      {conv, ts_ms}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  CONFAB_TRY(kind, kind_cell((*r)[0], 0));
  opened_here = {conv, *kind};
  return opened{*kind, (*r)[0].i64(1)};
}

result<bool> is_channel(connection& c, id_t conv) {
  if (opened_here.conv == conv) return opened_here.kind == conv_kind::channel;
  CONFAB_TRY(r, query(c, "SELECT kind FROM conversations WHERE id = $1", {conv}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  return (*r)[0].str(0) == to_string(conv_kind::channel);
}

std::optional<std::string> stream_filter(const event& ev) {
  if (!ev.channel) return std::string{};
  auto d = membership_change(ev);
  std::vector<id_t> who = std::move(d.added);
  who.insert(who.end(), d.removed.begin(), d.removed.end());
  if (who.empty()) return std::nullopt;
  std::string s = " AND m.user_id IN (";
  for (std::size_t i = 0; i < who.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(who[i]);  // ids are integers: nothing to quote
  }
  return s + ")";
}

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
  const auto* s = ctx.db.strategy();
  if (!s) return make_error(errc::internal, "storage connection without a store strategy");
  CONFAB_TRY(channel, is_channel(ctx.db, ev.conv));  // issue 12: no stream rows but the joiners' and leavers'
  ev.channel = *channel;
  auto r = s->append_event(ctx.db, ev, to, reader);
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
  // issue 11, threads and mentions
  ev.thread_root = req.thread_root;
  ev.also_in_conversation = req.thread_root && req.also_in_conversation;
  ev.mentions = req.mentions;
  ev.mention_all = req.mention_all;
  ev.mention_here = req.mention_here;
  return ev;
}

}  // namespace confab::storage::detail
