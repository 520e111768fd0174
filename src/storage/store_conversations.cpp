// The store's conversations and membership: creating conversations, adding and removing members,
// roles, member lists and the conversation list.
//
// Every change to an existing conversation opens its event first (open_event: the conversation's
// row lock) and checks its rules after, under that lock, in the same transaction: with several
// nodes on one PostgreSQL, a rule checked before the lock could be undone by another node's
// commit while this write waited for the row (a member removed meanwhile, an ownership already
// transferred). A refused write returns its error and the executor rolls it back.
#include "storage/store_detail.hpp"

#include "core/time.hpp"


#include <algorithm>
#include <limits>

namespace confab::storage {
using namespace detail;

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
    if (auto pair = query(c, "INSERT INTO direct_pairs (user_lo, user_hi, conv_id) VALUES ($1, $2, $3)", {lo, hi, id}); !pair) {
      // Another node created this pair meanwhile: the re-run finds its conversation.
      if (pair.error().code == errc::conflict) c.request_retry(pair.error().message);
      return to_error(pair.error());
    }
    for (id_t u : {actor, other})
      if (auto r = query(c, "INSERT INTO members (conv_id, user_id, role, joined_seq) VALUES ($1, $2, 'member', 1)", {id, u}); !r)
        return to_error(r.error());
    auto ev = membership_event(id, event_kind::created, actor, device, created_payload{conv_kind::direct, {}, {actor, other}, {}});
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
    std::vector<id_t> ms{actor};
    if (!members.empty()) {
      CONFAB_TRY(ins, upsert_members(c, id, members, 1));
    }
    ms.insert(ms.end(), members.begin(), members.end());
    auto ev = membership_event(id, event_kind::created, actor, device, created_payload{conv_kind::group, title, std::move(ms), actor});
    ev.ts_ms = t;
    CONFAB_TRY(seq, commit_event(ctx, std::move(ev), sink));
    return id;
  });
}

task<std::int64_t> store::add_members(id_t actor, id_t device, id_t conv, const std::vector<id_t>& users_in) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=, users = users_in](write_context& ctx) mutable -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, event_kind::members_added, actor, device, {});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_membership(c, conv, actor));
    CONFAB_TRY(allowed, chat::may_add_members(m->kind, m->view()));
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
    CONFAB_TRY(not_banned, refuse_banned(c, conv, fresh));  // moderation: banned users are not added back
    // New members join at the event's seq, so they see their own join.
    CONFAB_TRY(ins, upsert_members(c, conv, fresh, o->seq));
    ev.seq = o->seq;
    ev.payload = members_added_payload{std::move(fresh), actor};
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::int64_t> store::remove_member(id_t actor, id_t device, id_t conv, id_t user) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, event_kind::member_left, actor, device, member_gone_payload{user, actor});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_membership(c, conv, actor));
    if (actor == user) {
      std::int64_t active = 1;
      if (m->active() && m->role == conv_role::owner) {
        CONFAB_TRY(others, query(c, "SELECT COUNT(*) FROM members WHERE conv_id = $1 AND left_seq IS NULL", {conv}));
        active = (*others)[0].i64(0);
      }
      CONFAB_TRY(allowed, chat::may_leave(m->kind, m->view(), active));
    } else {
      CONFAB_TRY(t, load_membership(c, conv, user));
      CONFAB_TRY(allowed, chat::may_remove(m->kind, m->view(), t->view()));
      ev.kind = event_kind::member_removed;
    }
    // The removed user still receives the event that removes them, then nothing more.
    ev.seq = o->seq;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    CONFAB_TRY(u, query(c, "UPDATE members SET left_seq = $3 WHERE conv_id = $1 AND user_id = $2", {conv, user, o->seq}));
    return o->seq;
  });
}

task<std::int64_t> store::set_role(id_t actor, id_t device, id_t conv, id_t user, conv_role role) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    if (role == conv_role::none) return make_error(errc::invalid_field, "role must be owner, admin or member");
    auto ev = membership_event(conv, event_kind::role_changed, actor, device, {});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_membership(c, conv, actor));
    CONFAB_TRY(t, load_membership(c, conv, user));
    CONFAB_TRY(allowed, chat::may_set_role(m->kind, m->view(), user == actor, t->view()));
    CONFAB_TRY(u1, query(c, "UPDATE members SET role = $3 WHERE conv_id = $1 AND user_id = $2", {conv, user, to_string(role)}));
    role_changed_payload data{user, role, actor, std::nullopt};
    if (role == conv_role::owner) {  // transfer: the old owner becomes an admin
      CONFAB_TRY(u2, query(c, "UPDATE members SET role = 'admin' WHERE conv_id = $1 AND user_id = $2", {conv, actor}));
      data.previous_owner_role = conv_role::admin;
    }
    ev.seq = o->seq;
    ev.payload = std::move(data);
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::vector<member_record>> store::members(id_t actor, id_t conv) {
  return ex_->read<std::vector<member_record>>([=](connection& c) -> result<std::vector<member_record>> {
    CONFAB_TRY(m, require_active(c, conv, actor));
    if (m->kind == conv_kind::channel)  // issue 12: too many to list at once
      return make_error(errc::invalid_field, "a channel's members are listed page by page: use channel_members");
    CONFAB_TRY(r, query(c,
                        "SELECT m.user_id, u.username, m.role, m.joined_seq FROM members m JOIN users u ON u.id = m.user_id "
                        "WHERE m.conv_id = $1 AND m.left_seq IS NULL ORDER BY m.user_id",
                        {conv}));
    std::vector<member_record> out;
    for (auto& x : *r) {
      CONFAB_TRY(role, role_cell(x, 2));
      out.push_back({x.i64(0), x.str(1), *role, x.i64(3)});
    }
    return out;
  });
}

namespace {

// Every field is read as of s.last_seq (read first, with the membership): the statements below are
// separate snapshots (SQLite reads run outside a transaction), and a message committed between
// them must not be counted in a summary whose last_seq does not include it: a client applies
// the events above last_seq on top of the summary.
result<nothing> fill_summary(connection& c, id_t user, conversation_summary& s) {
  CONFAB_TRY(last, query(c,
                         "SELECT " + std::string(event_cols) +
                             " FROM events WHERE conv_id = $1 AND seq <= $2 AND kind = 'message'" + std::string(shown_in_conversation) +
                             " ORDER BY seq DESC LIMIT 1",
                         {s.id, s.last_seq}));
  if (!last->empty()) {
    CONFAB_TRY(ev, to_event((*last)[0]));
    s.last_message = std::move(*ev);
  }
  if (s.kind == conv_kind::channel) {  // issue 12: capped counts, wildcard mentions stored once
    CONFAB_TRY(ch, fill_channel_summary(c, user, s));
  } else {
    CONFAB_TRY(unread, query(c,
                             "SELECT COUNT(*) FROM events WHERE conv_id = $1 AND seq > $2 AND seq <= $4 AND kind = 'message' "
                             "AND sender_id <> $3" + std::string(shown_in_conversation),
                             {s.id, s.read_seq, user, s.last_seq}));
    s.unread = (*unread)[0].i64(0);
    CONFAB_TRY(um, fill_unread_mentions(c, user, s));  // issue 11, threads and mentions
  }
  if (s.kind == conv_kind::direct) {
    CONFAB_TRY(ms, query(c,
                         "SELECT m.user_id, u.username, m.role, m.joined_seq FROM members m JOIN users u ON u.id = m.user_id "
                         "WHERE m.conv_id = $1 ORDER BY m.user_id",
                         {s.id}));
    for (auto& x : *ms) {
      CONFAB_TRY(role, role_cell(x, 2));
      s.members.push_back({x.i64(0), x.str(1), *role, x.i64(3)});
    }
  }
  CONFAB_TRY(mod, fill_moderation(c, user, s));  // moderation: description, settings, notification level
  return nothing{};
}

constexpr std::string_view summary_select =
    "SELECT c.id, c.kind, c.title, c.last_seq, c.last_ms, m.read_seq, m.role FROM members m "
    "JOIN conversations c ON c.id = m.conv_id ";

result<conversation_summary> to_summary(const row& x) {
  conversation_summary s;
  CONFAB_TRY(kind, kind_cell(x, 1));
  CONFAB_TRY(role, role_cell(x, 6));
  s.id = x.i64(0);
  s.kind = *kind;
  s.title = x.str(2);
  s.last_seq = x.i64(3);
  s.last_ms = x.i64(4);
  s.read_seq = x.i64(5);
  s.role = *role;
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
      CONFAB_TRY(s, to_summary(x));
      out.push_back(std::move(*s));
      CONFAB_TRY(f, fill_summary(c, user, out.back()));
    }
    return out;
  });
}

task<conversation_summary> store::conversation(id_t user, id_t conv) {
  return ex_->read<conversation_summary>([=](connection& c) -> result<conversation_summary> {
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(r, query(c, std::string(summary_select) + "WHERE m.user_id = $1 AND m.conv_id = $2", {user, conv}));
    CONFAB_TRY(s, to_summary((*r)[0]));
    CONFAB_TRY(f, fill_summary(c, user, *s));
    return std::move(*s);
  });
}

}  // namespace confab::storage
