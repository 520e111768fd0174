// Channels (issue 12): conversations of kind channel, for many members. Their events are written
// once, to the conversation's log: the append (store_detail.cpp, stream_filter; the PostgreSQL
// send group's NOT EXISTS on channels) writes stream rows only for the users an event adds or
// removes, so a message costs the same rows whatever the number of members. Devices read the log
// with a cursor per channel (docs/protocol.md section 10, Channels); channel_heads is what they
// resume from.
//
// Membership changes follow store_conversations.cpp: open_event (the conversation's row lock)
// first, the rules after it, in one transaction. The channels row (visibility, topic, the member
// count kept by triggers on members) is written only under that lock.
#include "storage/store_detail.hpp"

#include "core/time.hpp"

#include <algorithm>

namespace confab::storage {
using namespace detail;

namespace {

constexpr std::string_view channel_select =
    "SELECT c.id, c.title, ch.topic, ch.visibility, ch.member_count, c.last_seq, c.last_ms, "
    "CASE WHEN m.user_id IS NOT NULL AND m.left_seq IS NULL THEN 1 ELSE 0 END "
    "FROM channels ch JOIN conversations c ON c.id = ch.conv_id "
    "LEFT JOIN members m ON m.conv_id = ch.conv_id AND m.user_id = $1 ";

channel_record to_channel(const row& r) {
  return {r.i64(0), r.str(1), r.str(2), r.str(3) == "public", r.i64(4), r.i64(5), r.i64(6), r.i64(7) != 0};
}

// A LIKE pattern that finds q anywhere, ASCII letters lower-cased (the column side is LOWER()ed);
// the pattern's own special characters match themselves (ESCAPE '\').
std::string contains_pattern(const std::string& q) {
  std::string p = "%";
  for (char ch : q) {
    if (ch == '%' || ch == '_' || ch == '\\') p += '\\';
    p += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  return p + "%";
}

// The counts are capped: a channel may have more unread messages than anyone reads, and counting
// them all would cost O(unread) per summary.
constexpr std::int64_t count_cap = 1000;

}  // namespace

namespace detail {

// A channel's summary fields: unread and unread mentions (each capped at count_cap, exact below)
// and its directory fields. Wildcard mentions (@all, @here) are stored once with the message
// (events.thread_flags >= 2, the partial index events_wildcard), not as a row per member, and
// count for every member who did not send them; a message that also names the user counts once.
result<nothing> fill_channel_summary(connection& c, id_t user, conversation_summary& s) {
  const std::int64_t cap = count_cap;
  CONFAB_TRY(unread, query(c,
                           "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE conv_id = $1 AND seq > $2 AND seq <= $5 AND kind = 'message' "
                           "AND sender_id <> $3" + std::string(shown_in_conversation) + " LIMIT $4) t",
                           {s.id, s.read_seq, user, cap, s.last_seq}));
  s.unread = (*unread)[0].i64(0);
  CONFAB_TRY(named, query(c,
                          "SELECT COUNT(*) FROM (SELECT 1 FROM mentions WHERE user_id = $1 AND conv_id = $2 AND seq > $3 "
                          "AND seq <= $5 LIMIT $4) t",
                          {user, s.id, s.read_seq, cap, s.last_seq}));
  CONFAB_TRY(wild, query(c,
                         "SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.conv_id = $1 AND e.seq > $2 AND e.seq <= $5 AND e.thread_flags >= 2 "
                         "AND e.sender_id <> $3 AND NOT EXISTS (SELECT 1 FROM mentions mn WHERE mn.user_id = $3 "
                         "AND mn.conv_id = e.conv_id AND mn.seq = e.seq) LIMIT $4) t",
                         {s.id, s.read_seq, user, cap, s.last_seq}));
  s.unread_mentions = std::min(cap, (*named)[0].i64(0) + (*wild)[0].i64(0));
  CONFAB_TRY(ch, query(c, "SELECT topic, visibility, member_count FROM channels WHERE conv_id = $1", {s.id}));
  if (ch->empty()) return make_error(errc::internal, "a channel without its channels row");
  s.channel = conversation_summary::channel_view{(*ch)[0].str(0), (*ch)[0].str(1) == "public", (*ch)[0].i64(2)};
  return nothing{};
}

}  // namespace detail

task<id_t> store::create_channel(id_t actor, id_t device, const std::string& title, const std::string& topic, bool is_public) {
  auto* sink = sink_;
  return ex_->write<id_t>([=, title = title, topic = topic](write_context& ctx) -> result<id_t> {
    auto& c = ctx.db;
    const auto t = now_ms();
    CONFAB_TRY(conv, query(c, "INSERT INTO conversations (kind, title, created_ms, last_ms) VALUES ($1, $2, $3, $3) RETURNING id",
                           {to_string(conv_kind::channel), std::string_view(title), t}));
    const id_t id = (*conv)[0].i64(0);
    // Before the owner's members row: the trigger counts the owner in.
    CONFAB_TRY(chrow, query(c, "INSERT INTO channels (conv_id, visibility, topic) VALUES ($1, $2, $3)",
                            {id, std::string_view(is_public ? "public" : "private"), std::string_view(topic)}));
    CONFAB_TRY(owner, query(c, "INSERT INTO members (conv_id, user_id, role, joined_seq) VALUES ($1, $2, 'owner', 1)", {id, actor}));
    auto ev = membership_event(id, event_kind::created, actor, device, created_payload{conv_kind::channel, title, {actor}, actor});
    ev.ts_ms = t;
    CONFAB_TRY(seq, commit_event(ctx, std::move(ev), sink));
    return id;
  });
}

task<std::vector<channel_record>> store::channel_directory(id_t user, const std::string& q, const directory_cursor& after, int limit) {
  return ex_->read<std::vector<channel_record>>(
      [=, q = q, after = after](connection& c) -> result<std::vector<channel_record>> {
        const auto* st = c.strategy();
        if (!st) return make_error(errc::internal, "storage connection without a store strategy");
        const std::string title = st->bytewise("c.title");
        std::vector<param> ps{user, std::string_view(after.title), after.conv, std::int64_t{limit}};
        std::string sql = std::string(channel_select) + "WHERE ch.visibility = 'public' AND (" + title + " > $2 OR (c.title = $2 AND c.id > $3))";
        const std::string pattern = contains_pattern(q);
        if (!q.empty()) {
          sql += " AND (LOWER(c.title) LIKE $5 ESCAPE '\\' OR LOWER(ch.topic) LIKE $5 ESCAPE '\\')";
          ps.emplace_back(std::string_view(pattern));
        }
        sql += " ORDER BY " + title + ", c.id LIMIT $4";
        auto r = c.query(sql, ps);
        if (!r) return to_error(r.error());
        std::vector<channel_record> out;
        for (auto& x : *r) out.push_back(to_channel(x));
        return out;
      });
}

task<channel_record> store::channel(id_t user, id_t conv) {
  return ex_->read<channel_record>([=](connection& c) -> result<channel_record> {
    CONFAB_TRY(r, query(c, std::string(channel_select) + "WHERE ch.conv_id = $2", {user, conv}));
    if (r->empty()) return make_error(errc::not_found, "no such channel");
    auto ch = to_channel((*r)[0]);
    if (!ch.is_public && !ch.joined) return make_error(errc::not_found, "no such channel");  // private: not revealed
    return ch;
  });
}

task<std::int64_t> store::join_channel(id_t actor, id_t device, id_t conv) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, event_kind::members_added, actor, device, members_added_payload{{actor}, actor});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(vis, query(c, "SELECT visibility FROM channels WHERE conv_id = $1", {conv}));
    if (vis->empty() || (*vis)[0].str(0) != "public") return make_error(errc::not_found, "no such public channel");
    CONFAB_TRY(m, load_membership(c, conv, actor));
    if (m->active()) return make_error(errc::conflict, "already a member of this channel");
    CONFAB_TRY(not_banned, refuse_banned(c, conv, {actor}));
    CONFAB_TRY(ins, upsert_members(c, conv, {actor}, o->seq));
    // A joiner starts read at the join: what came before is history, not unread.
    CONFAB_TRY(rd, query(c, "UPDATE members SET read_seq = $3, delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2",
                         {conv, actor, o->seq}));
    ev.seq = o->seq;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::vector<channel_head>> store::channel_heads(id_t user, id_t after_conv, int limit) {
  return ex_->read<std::vector<channel_head>>([=](connection& c) -> result<std::vector<channel_head>> {
    CONFAB_TRY(r, query(c,
                        "SELECT m.conv_id, c.last_seq, m.read_seq, m.joined_seq FROM members m JOIN conversations c ON c.id = m.conv_id "
                        "WHERE m.user_id = $1 AND m.conv_id > $2 AND m.left_seq IS NULL AND c.kind = $3 ORDER BY m.conv_id LIMIT $4",
                        {user, after_conv, to_string(conv_kind::channel), std::int64_t{limit}}));
    std::vector<channel_head> out;
    out.reserve(r->size());
    for (auto& x : *r) out.push_back({x.i64(0), x.i64(1), x.i64(2), x.i64(3)});
    return out;
  });
}

task<member_page> store::channel_members(id_t user, id_t conv, id_t after_user, int limit) {
  return ex_->read<member_page>([=](connection& c) -> result<member_page> {
    CONFAB_TRY(ch, query(c, "SELECT member_count FROM channels WHERE conv_id = $1", {conv}));
    if (ch->empty()) return make_error(errc::not_found, "no such channel");
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(r, query(c,
                        "SELECT m.user_id, u.username, m.role, m.joined_seq FROM members m JOIN users u ON u.id = m.user_id "
                        "WHERE m.conv_id = $1 AND m.left_seq IS NULL AND m.user_id > $2 ORDER BY m.user_id LIMIT $3",
                        {conv, after_user, std::int64_t{limit}}));
    member_page out;
    out.member_count = (*ch)[0].i64(0);
    for (auto& x : *r) {
      CONFAB_TRY(role, role_cell(x, 2));
      out.members.push_back({x.i64(0), x.str(1), *role, x.i64(3)});
    }
    return out;
  });
}

}  // namespace confab::storage
