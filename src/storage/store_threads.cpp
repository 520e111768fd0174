// Threads and mentions in the send path and in every read of events (issue 11): the stored forms
// of a message's thread and mention fields, the checks a reply or a mention needs under the
// conversation's lock, the derived rows written in the reply's transaction (the root's summary,
// follows, the replier's thread read pointer, one mention row per mentioned member), and the
// batched decoration of thread roots for a viewer.
#include "storage/store_detail.hpp"

#include "chat/rules.hpp"

#include <algorithm>
#include <charconv>

namespace confab::storage::detail {
namespace {

constexpr std::int64_t flag_also = 1, flag_all = 2, flag_here = 4;
constexpr std::size_t max_participants = 3;

std::string ids_text(const std::vector<id_t>& ids) {
  std::string s;
  for (auto id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

// "1,2,3" -> ids; nullopt if corrupt.
std::optional<std::vector<id_t>> parse_ids(std::string_view s) {
  std::vector<id_t> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto part = s.substr(0, comma);
    id_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc{} || p != part.data() + part.size() || v < 1) return std::nullopt;
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// The active members among ids (in one statement), ascending.
result<std::vector<id_t>> active_among(connection& c, id_t conv, const std::vector<id_t>& ids) {
  std::vector<id_t> out;
  if (ids.empty()) return out;
  std::vector<param> ps{conv};
  ps.insert(ps.end(), ids.begin(), ids.end());
  auto r = c.query("SELECT user_id FROM members WHERE conv_id = $1 AND left_seq IS NULL AND user_id IN " +
                       placeholders(2, ids.size()) + " ORDER BY user_id",
                   ps);
  if (!r) return to_error(r.error());
  for (auto& x : *r) out.push_back(x.i64(0));
  return out;
}

// The root's checks: a message of this conversation that is not itself a reply.
result<nothing> check_root(connection& c, id_t conv, std::int64_t root) {
  CONFAB_TRY(r, query(c, "SELECT kind, thread_root FROM events WHERE conv_id = $1 AND seq = $2", {conv, root}));
  if (r->empty()) return make_error(errc::not_found, "thread_root is not an event of this conversation");
  if ((*r)[0].str(0) != to_string(event_kind::message))
    return make_error(errc::invalid_field, "thread_root must be a message, not a " + (*r)[0].str(0) + " event");
  if (!(*r)[0].is_null(1)) return make_error(errc::invalid_field, "thread_root is itself a thread reply (threads are one level)");
  return nothing{};
}

// The limit is the conversation's own wildcard_limit setting (set_conversation) or, when it set
// none, the server's (req.wildcard_limit); read under the conversation's lock like the count.
result<nothing> check_wildcard(connection& c, const send_request& req) {
  CONFAB_TRY(n, query(c, "SELECT COUNT(*) FROM members WHERE conv_id = $1 AND left_seq IS NULL", {req.conv}));
  CONFAB_TRY(m, load_membership(c, req.conv, req.user));
  CONFAB_TRY(settings, load_settings(c, req.conv));
  return chat::may_mention_everyone(m->view(), (*n)[0].i64(0), settings->wildcard_limit.value_or(req.wildcard_limit));
}

// Who gets a mention row: every active member for @all, else the named members and (for @here)
// the online ones; never the sender.
result<nothing> write_mention_rows(connection& c, const send_request& req, std::int64_t seq, std::int64_t ts) {
  if (req.mention_all || req.mention_here) {
    // issue 12: in a channel a wildcard is stored once, with the message (thread_flags), and
    // counted per member from there; only the members named with @username get rows.
    CONFAB_TRY(channel, is_channel(c, req.conv));
    if (*channel) {
      send_request named = req;
      named.mention_all = named.mention_here = false;
      named.online.clear();
      return write_mention_rows(c, named, seq, ts);
    }
  }
  std::vector<param> ps{req.conv, seq, ts, req.user};
  std::string sql =
      "INSERT INTO mentions (user_id, conv_id, seq, ts_ms) SELECT user_id, CAST($1 AS BIGINT), CAST($2 AS BIGINT), "
      "CAST($3 AS BIGINT) FROM members WHERE conv_id = $1 AND left_seq IS NULL AND user_id <> $4";
  if (!req.mention_all) {
    std::vector<id_t> who = req.mentions;
    if (req.mention_here) who.insert(who.end(), req.online.begin(), req.online.end());
    std::sort(who.begin(), who.end());
    who.erase(std::unique(who.begin(), who.end()), who.end());
    std::erase(who, req.user);
    if (who.empty()) return nothing{};
    sql += " AND user_id IN " + placeholders(5, who.size());
    ps.insert(ps.end(), who.begin(), who.end());
  }
  if (auto r = c.query(sql, ps); !r) return to_error(r.error());
  return nothing{};
}

// The root's summary after this reply, its first-reply follow by the root's sender, and the
// replier's and the mentioned members' follows (the replier's read pointer moves to the reply).
result<nothing> write_reply_rows(connection& c, const send_request& req, std::int64_t seq, std::int64_t ts) {
  const std::int64_t root = *req.thread_root;
  CONFAB_TRY(t, query(c, "SELECT replies, participants FROM threads WHERE conv_id = $1 AND root_seq = $2", {req.conv, root}));
  std::int64_t replies = 0;
  std::vector<id_t> parts;
  if (!t->empty()) {
    replies = (*t)[0].i64(0);
    auto p = parse_ids((*t)[0].str(1));
    if (!p) return make_error(errc::internal, "stored thread participants are corrupt");
    parts = std::move(*p);
  }
  std::erase(parts, req.user);
  parts.insert(parts.begin(), req.user);
  if (parts.size() > max_participants) parts.resize(max_participants);
  const std::string ptext = ids_text(parts);
  CONFAB_TRY(up, query(c,
                       "INSERT INTO threads (conv_id, root_seq, replies, last_seq, last_ms, participants) VALUES ($1, $2, $3, $4, $5, $6) "
                       "ON CONFLICT (conv_id, root_seq) DO UPDATE SET replies = excluded.replies, last_seq = excluded.last_seq, "
                       "last_ms = excluded.last_ms, participants = excluded.participants",
                       {req.conv, root, replies + 1, seq, ts, std::string_view(ptext)}));
  if (t->empty()) {
    // The thread starts: its root's sender follows it (unless they chose otherwise before).
    CONFAB_TRY(f, query(c,
                        "INSERT INTO thread_users (user_id, conv_id, root_seq, following, read_seq) "
                        "SELECT e.sender_id, e.conv_id, e.seq, 1, 0 FROM events e JOIN members m ON m.conv_id = e.conv_id "
                        "AND m.user_id = e.sender_id AND m.left_seq IS NULL WHERE e.conv_id = $1 AND e.seq = $2 "
                        "ON CONFLICT (user_id, conv_id, root_seq) DO NOTHING",
                        {req.conv, root}));
  }
  CONFAB_TRY(me, query(c,
                       "INSERT INTO thread_users (user_id, conv_id, root_seq, following, read_seq) VALUES ($1, $2, $3, 1, $4) "
                       "ON CONFLICT (user_id, conv_id, root_seq) DO UPDATE SET following = 1, "
                       "read_seq = CASE WHEN thread_users.read_seq < excluded.read_seq THEN excluded.read_seq ELSE thread_users.read_seq END",
                       {req.user, req.conv, root, seq}));
  for (auto u : req.mentions) {
    if (u == req.user) continue;
    CONFAB_TRY(f, query(c,
                        "INSERT INTO thread_users (user_id, conv_id, root_seq, following, read_seq) VALUES ($1, $2, $3, 1, 0) "
                        "ON CONFLICT (user_id, conv_id, root_seq) DO UPDATE SET following = 1",
                        {u, req.conv, root}));
  }
  return nothing{};
}

}  // namespace

std::int64_t thread_flags(const event& ev) {
  return (ev.also_in_conversation ? flag_also : 0) | (ev.mention_all ? flag_all : 0) | (ev.mention_here ? flag_here : 0);
}

std::string mentions_text(const std::vector<id_t>& ids) { return ids_text(ids); }

result<nothing> read_thread_cells(event& ev, std::int64_t flags, const std::string& mentions) {
  ev.also_in_conversation = (flags & flag_also) != 0;
  ev.mention_all = (flags & flag_all) != 0;
  ev.mention_here = (flags & flag_here) != 0;
  auto ids = parse_ids(mentions);
  if (!ids) return make_error(errc::internal, "stored event mentions are corrupt");
  ev.mentions = std::move(*ids);
  return nothing{};
}

bool has_thread_work(const send_request& req) {
  return req.thread_root || !req.mention_names.empty() || req.mention_all || req.mention_here;
}

result<nothing> check_thread_send(connection& c, send_request& req) {
  req.mentions.clear();  // a re-run batch resolves again
  if (req.thread_root) {
    CONFAB_TRY(r, check_root(c, req.conv, *req.thread_root));
  }
  if (req.mention_all || req.mention_here) {
    CONFAB_TRY(w, check_wildcard(c, req));
  }
  if (!req.mention_names.empty()) {
    std::vector<param> ps{req.conv};
    for (auto& n : req.mention_names) ps.emplace_back(std::string_view(n));
    auto r = c.query("SELECT u.id FROM users u JOIN members m ON m.user_id = u.id AND m.conv_id = $1 AND m.left_seq IS NULL "
                     "WHERE u.username IN " + placeholders(2, req.mention_names.size()) + " ORDER BY u.id",
                     ps);
    if (!r) return to_error(r.error());
    for (auto& x : *r) req.mentions.push_back(x.i64(0));
  }
  if (req.mention_here && !req.mention_all) {
    CONFAB_TRY(on, active_among(c, req.conv, req.online));
    req.online = std::move(*on);
  }
  return nothing{};
}

result<nothing> apply_thread_send(connection& c, const send_request& req, std::int64_t seq, std::int64_t ts) {
  if (req.mention_all || req.mention_here || !req.mentions.empty()) {
    CONFAB_TRY(m, write_mention_rows(c, req, seq, ts));
  }
  if (req.thread_root) {
    CONFAB_TRY(t, write_reply_rows(c, req, seq, ts));
  }
  return nothing{};
}

result<nothing> decorate_threads(connection& c, id_t viewer, const std::vector<event*>& evs) {
  std::vector<std::pair<id_t, std::int64_t>> roots;
  for (auto* e : evs)
    if (e->kind == event_kind::message && !e->thread_root) roots.emplace_back(e->conv, e->seq);
  if (roots.empty()) return nothing{};
  std::vector<param> ps{viewer};
  const std::string keyed = pair_table(ps, roots);
  // Unread is counted for followed threads only, over the thread's index (O(unread)). Active
  // members only: the summary counts replies a former member may not read.
  auto r = c.query(
      "SELECT t.conv_id, t.root_seq, t.replies, t.last_ms, t.participants, COALESCE(f.following, 0), "
      "CASE WHEN f.following = 1 THEN (SELECT COUNT(*) FROM events e WHERE e.conv_id = t.conv_id AND e.thread_root = t.root_seq "
      "AND e.seq > f.read_seq AND e.sender_id <> $1) ELSE 0 END, t.last_seq "
      "FROM " + keyed + " k JOIN threads t ON t.conv_id = k.column1 AND t.root_seq = k.column2 "
      "JOIN members m ON m.conv_id = t.conv_id AND m.user_id = $1 AND m.left_seq IS NULL "
      "LEFT JOIN thread_users f ON f.user_id = $1 AND f.conv_id = t.conv_id AND f.root_seq = t.root_seq",
      ps);
  if (!r) return to_error(r.error());
  for (auto& x : *r) {
    thread_summary s;
    s.replies = x.i64(2);
    s.last_ms = x.i64(3);
    auto parts = parse_ids(x.str(4));
    if (!parts) return make_error(errc::internal, "stored thread participants are corrupt");
    s.participants = std::move(*parts);
    s.following = x.i64(5) != 0;
    s.unread = x.i64(6);
    s.last_seq = x.i64(7);
    for (auto* e : evs)
      if (e->conv == x.i64(0) && e->seq == x.i64(1) && !e->thread_root) e->thread = s;
  }
  return nothing{};
}

result<nothing> fill_unread_mentions(connection& c, id_t user, conversation_summary& s) {
  CONFAB_TRY(r, query(c, "SELECT COUNT(*) FROM mentions WHERE user_id = $1 AND conv_id = $2 AND seq > $3 AND seq <= $4",
                      {user, s.id, s.read_seq, s.last_seq}));
  s.unread_mentions = (*r)[0].i64(0);
  return nothing{};
}

}  // namespace confab::storage::detail
