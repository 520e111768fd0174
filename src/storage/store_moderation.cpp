// The store's moderation: conversation settings, pins, mutes and bans (events in the
// conversation's log, appended as store_conversations.cpp does: open_event takes the row lock,
// the rules of chat/rules.hpp are checked after it on rows read under it, then append_event), and
// each user's notification level per conversation (per-user state, not an event).
#include "storage/store_detail.hpp"

#include "chat/rules.hpp"

#include "core/time.hpp"

#include <map>

namespace confab::storage {
using namespace detail;

namespace detail {

result<moderated> load_moderated(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(r, query(c,
                      "SELECT c.kind, m.role, m.left_seq, mm.muted_until_ms, mm.banned_ms, m.user_id FROM conversations c "
                      "LEFT JOIN members m ON m.conv_id = c.id AND m.user_id = $2 "
                      "LEFT JOIN member_moderation mm ON mm.conv_id = c.id AND mm.user_id = $2 WHERE c.id = $1",
                      {conv, user}));
  if (r->empty()) return make_error(errc::not_found, "no such conversation");
  const auto& x = (*r)[0];
  moderated m;
  CONFAB_TRY(kind, kind_cell(x, 0));
  CONFAB_TRY(role, role_cell(x, 1));
  m.kind = *kind;
  m.left_seq = x.opt_i64(2);
  m.view.role = m.left_seq ? conv_role::none : *role;
  m.view.muted_until_ms = x.opt_i64(3);
  m.view.banned = !x.is_null(4);
  m.member_row = !x.is_null(5);
  return m;
}

namespace {

constexpr std::string_view settings_cols = "st.post_policy, st.pin_policy, st.wildcard_limit, st.slow_mode_s, st.description";

// The settings from settings_cols at column o (all NULL: never set, the defaults).
result<conversation_summary::settings_view> settings_of(const row& x, std::size_t o, std::string* description) {
  conversation_summary::settings_view s;
  if (x.is_null(o)) return s;
  auto post = parse_policy(x.str(o));
  auto pin = parse_policy(x.str(o + 1));
  if (!post || !pin) return make_error(errc::internal, "stored conversation settings have an unknown policy");
  s.post_policy = *post;
  s.pin_policy = *pin;
  s.wildcard_limit = x.opt_i64(o + 2);
  s.slow_mode_s = x.i64(o + 3);
  if (description) *description = x.str(o + 4);
  return s;
}

}  // namespace

result<conversation_summary::settings_view> load_settings(connection& c, id_t conv, std::string* description) {
  CONFAB_TRY(r, query(c, "SELECT " + std::string(settings_cols) + " FROM conv_settings st WHERE st.conv_id = $1", {conv}));
  if (r->empty()) return conversation_summary::settings_view{};
  return settings_of((*r)[0], 0, description);
}

result<nothing> refuse_banned(connection& c, id_t conv, const std::vector<id_t>& users) {
  if (users.empty()) return nothing{};
  std::vector<param> ps{conv};
  ps.insert(ps.end(), users.begin(), users.end());
  auto r = c.query("SELECT user_id FROM member_moderation WHERE conv_id = $1 AND banned_ms IS NOT NULL AND user_id IN " +
                       placeholders(2, users.size()) + " ORDER BY user_id LIMIT 1",
                   ps);
  if (!r) return to_error(r.error());
  if (r->empty()) return nothing{};
  chat::member_view banned;
  banned.banned = true;
  return chat::may_be_added(banned, (*r)[0].i64(0));
}

// One statement per summary: the settings, the user's notification level and their mute.
result<nothing> fill_moderation(connection& c, id_t user, conversation_summary& s) {
  CONFAB_TRY(r, query(c,
                      "SELECT " + std::string(settings_cols) +
                          ", n.level, n.muted_until_ms, mm.muted_until_ms FROM (SELECT 1 AS one) x "
                          "LEFT JOIN conv_settings st ON st.conv_id = $2 "
                          "LEFT JOIN notify_levels n ON n.user_id = $1 AND n.conv_id = $2 "
                          "LEFT JOIN member_moderation mm ON mm.conv_id = $2 AND mm.user_id = $1",
                      {user, s.id}));
  const auto& x = (*r)[0];
  CONFAB_TRY(st, settings_of(x, 0, &s.description));
  s.settings = *st;
  const auto now = now_ms();
  s.notify = x.is_null(5) ? std::string(chat::default_notify_level(s.kind)) : x.str(5);
  if (auto m = x.opt_i64(6); m && *m > now) s.muted_until = m;
  if (auto m = x.opt_i64(7); m && *m > now) s.member_muted_until = m;
  return nothing{};
}

}  // namespace detail

namespace {

// The settings change's statements: the title on the conversation, the rest on its settings row.
result<nothing> write_settings(connection& c, id_t conv, const settings_payload& ch) {
  if (ch.title) {
    CONFAB_TRY(t, query(c, "UPDATE conversations SET title = $2 WHERE id = $1", {conv, std::string_view(*ch.title)}));
  }
  std::string description;
  CONFAB_TRY(cur, load_settings(c, conv, &description));
  auto s = *cur;
  if (ch.description) description = *ch.description;
  if (ch.post_policy) s.post_policy = *ch.post_policy;
  if (ch.pin_policy) s.pin_policy = *ch.pin_policy;
  if (ch.wildcard_limit) s.wildcard_limit = ch.wildcard_limit;
  if (ch.slow_mode_s) s.slow_mode_s = *ch.slow_mode_s;
  param wildcard = s.wildcard_limit ? param{*s.wildcard_limit} : param{};
  const param ps[] = {conv, std::string_view(description), to_string(s.post_policy), to_string(s.pin_policy), wildcard, s.slow_mode_s};
  auto r = c.query(
      "INSERT INTO conv_settings (conv_id, description, post_policy, pin_policy, wildcard_limit, slow_mode_s) "
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conv_id) DO UPDATE SET description = excluded.description, "
      "post_policy = excluded.post_policy, pin_policy = excluded.pin_policy, wildcard_limit = excluded.wildcard_limit, "
      "slow_mode_s = excluded.slow_mode_s",
      ps);
  if (!r) return to_error(r.error());
  return mark_moderated(c, conv);
}

// The message at seq, for a pin: not_found if there is none (seq below the event being opened),
// invalid_field if the event there is not a message.
result<nothing> require_message(connection& c, id_t conv, std::int64_t seq) {
  CONFAB_TRY(r, query(c, "SELECT kind FROM events WHERE conv_id = $1 AND seq = $2", {conv, seq}));
  if (r->empty()) return make_error(errc::not_found, "no such message");
  if ((*r)[0].str(0) != to_string(event_kind::message)) return make_error(errc::invalid_field, "only messages can be pinned");
  return nothing{};
}

}  // namespace

task<std::int64_t> store::set_conversation(id_t actor, id_t device, id_t conv, const settings_payload& change) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=, change = change](write_context& ctx) mutable -> result<std::int64_t> {
    auto& c = ctx.db;
    change.by = actor;
    auto ev = membership_event(conv, event_kind::settings_changed, actor, device, {});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));
    CONFAB_TRY(allowed, chat::may_change_settings(m->kind, m->view));
    CONFAB_TRY(w, write_settings(c, conv, change));
    ev.seq = o->seq;
    ev.payload = std::move(change);
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::int64_t> store::set_pin(id_t actor, id_t device, id_t conv, std::int64_t seq, bool pin) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, pin ? event_kind::pinned : event_kind::unpinned, actor, device, pin_payload{seq, actor});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));
    CONFAB_TRY(st, load_settings(c, conv));
    CONFAB_TRY(allowed, chat::may_pin(m->kind, m->view, st->pin_policy, ev.ts_ms));
    CONFAB_TRY(msg, require_message(c, conv, seq));
    CONFAB_TRY(had, query(c, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN seq = $2 THEN 1 ELSE 0 END), 0) FROM pins WHERE conv_id = $1",
                          {conv, seq}));
    const bool pinned = (*had)[0].i64(1) > 0;
    if (pin) {
      if (pinned) return make_error(errc::conflict, "already pinned");
      if ((*had)[0].i64(0) >= chat::max_pins)
        return make_error(errc::limit_reached, "a conversation has at most " + std::to_string(chat::max_pins) + " pins");
      CONFAB_TRY(ins, query(c, "INSERT INTO pins (conv_id, seq, by_id, pinned_ms) VALUES ($1, $2, $3, $4)", {conv, seq, actor, ev.ts_ms}));
    } else {
      if (!pinned) return make_error(errc::not_found, "not pinned");
      CONFAB_TRY(del, query(c, "DELETE FROM pins WHERE conv_id = $1 AND seq = $2", {conv, seq}));
    }
    ev.seq = o->seq;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::vector<pin_record>> store::pins(id_t actor, id_t conv) {
  return ex_->read<std::vector<pin_record>>([=](connection& c) -> result<std::vector<pin_record>> {
    CONFAB_TRY(m, require_active(c, conv, actor));
    CONFAB_TRY(ps, query(c, "SELECT seq, by_id, pinned_ms FROM pins WHERE conv_id = $1 ORDER BY pinned_ms DESC, seq DESC", {conv}));
    CONFAB_TRY(evs, query(c,
                          "SELECT " + std::string(event_cols) +
                              " FROM events WHERE conv_id = $1 AND seq IN (SELECT seq FROM pins WHERE conv_id = $1)",
                          {conv}));
    std::map<std::int64_t, event> by_seq;
    std::vector<event*> shown;
    for (auto& x : *evs) {
      CONFAB_TRY(ev, to_event(x));
      shown.push_back(&by_seq.emplace(ev->seq, std::move(*ev)).first->second);
    }
    // The pinned messages as they are now, for this reader (reactions, thread summaries).
    CONFAB_TRY(d, decorate(c, actor, shown));
    std::vector<pin_record> out;
    for (auto& x : *ps) {
      auto e = by_seq.find(x.i64(0));
      if (e == by_seq.end()) return make_error(errc::internal, "a pin names a missing event");
      out.push_back({x.i64(0), x.i64(1), x.i64(2), std::move(e->second)});
    }
    return out;
  });
}

task<std::int64_t> store::mute_member(id_t actor, id_t device, id_t conv, id_t user, std::optional<std::int64_t> until_ms) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, until_ms ? event_kind::member_muted : event_kind::member_unmuted, actor, device,
                               moderation_payload{user, actor, until_ms});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));
    CONFAB_TRY(t, load_moderated(c, conv, user));
    CONFAB_TRY(allowed, chat::may_moderate(m->kind, m->view, actor == user, t->view));
    if (until_ms && !t->view.active()) return make_error(errc::not_found, "not a member");
    if (!until_ms && !t->view.muted(ev.ts_ms)) return make_error(errc::not_found, "not muted");
    param until = until_ms ? param{*until_ms} : param{};
    CONFAB_TRY(w, query(c,
                        "INSERT INTO member_moderation (conv_id, user_id, muted_until_ms) VALUES ($1, $2, $3) "
                        "ON CONFLICT (conv_id, user_id) DO UPDATE SET muted_until_ms = excluded.muted_until_ms",
                        {conv, user, until}));
    if (until_ms) {
      CONFAB_TRY(mk, mark_moderated(c, conv));
    }
    ev.seq = o->seq;
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    return o->seq;
  });
}

task<std::int64_t> store::ban_member(id_t actor, id_t device, id_t conv, id_t user, bool ban) {
  auto* sink = sink_;
  return ex_->write<std::int64_t>([=](write_context& ctx) -> result<std::int64_t> {
    auto& c = ctx.db;
    auto ev = membership_event(conv, ban ? event_kind::member_banned : event_kind::member_unbanned, actor, device,
                               moderation_payload{user, actor, std::nullopt});
    CONFAB_TRY(o, open_event(c, conv, ev.ts_ms));  // the row lock: the rules below hold until commit
    CONFAB_TRY(m, load_moderated(c, conv, actor));
    CONFAB_TRY(t, load_moderated(c, conv, user));
    CONFAB_TRY(allowed, chat::may_moderate(m->kind, m->view, actor == user, t->view));
    if (ban) {
      if (!t->member_row) {
        CONFAB_TRY(exists, require_users(c, {user}));
      }
      if (t->view.banned) return make_error(errc::conflict, "already banned");
    } else if (!t->view.banned) {
      return make_error(errc::not_found, "not banned");
    }
    param banned = ban ? param{ev.ts_ms} : param{};
    CONFAB_TRY(w, query(c,
                        "INSERT INTO member_moderation (conv_id, user_id, banned_ms) VALUES ($1, $2, $3) "
                        "ON CONFLICT (conv_id, user_id) DO UPDATE SET banned_ms = excluded.banned_ms",
                        {conv, user, banned}));
    ev.seq = o->seq;
    // A banned member receives the event that removes them, then nothing more (as remove_member).
    CONFAB_TRY(a, append_event(ctx, std::move(ev), sink));
    if (ban && t->view.active()) {
      CONFAB_TRY(u, query(c, "UPDATE members SET left_seq = $3 WHERE conv_id = $1 AND user_id = $2", {conv, user, o->seq}));
    }
    return o->seq;
  });
}

task<notify_record> store::set_notify(id_t user, id_t conv, const notify_record& level) {
  return ex_->write<notify_record>([=, level = level](write_context& ctx) -> result<notify_record> {
    auto& c = ctx.db;
    CONFAB_TRY(m, require_active(c, conv, user));
    param until = level.muted_until ? param{*level.muted_until} : param{};
    CONFAB_TRY(w, query(c,
                        "INSERT INTO notify_levels (user_id, conv_id, level, muted_until_ms) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT (user_id, conv_id) DO UPDATE SET level = excluded.level, muted_until_ms = excluded.muted_until_ms",
                        {user, conv, std::string_view(level.level), until}));
    return level;
  });
}

}  // namespace confab::storage
