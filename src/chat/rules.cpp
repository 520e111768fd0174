#include "chat/rules.hpp"

namespace confab::chat {
namespace {
error forbidden(std::string msg) { return make_error(errc::forbidden, std::move(msg)); }
}  // namespace

result<nothing> may_post(const member_view& actor) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  return nothing{};
}

result<nothing> may_add_members(conv_kind kind, const member_view& actor) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("members of a direct conversation cannot change");
  if (actor.role < conv_role::admin) return forbidden("only owners and admins add members");
  return nothing{};
}

result<nothing> may_remove(conv_kind kind, const member_view& actor, const member_view& target) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("members of a direct conversation cannot change");
  if (!target.active()) return make_error(errc::not_found, "not a member");
  if (actor.role < conv_role::admin || target.role >= actor.role) return forbidden("not allowed to remove this member");
  return nothing{};
}

result<nothing> may_leave(conv_kind kind, const member_view& actor, std::int64_t active_members) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("members of a direct conversation cannot change");
  if (actor.role == conv_role::owner && active_members > 1)
    return forbidden("the owner must transfer ownership before leaving");
  return nothing{};
}

result<nothing> may_set_role(conv_kind kind, const member_view& actor, bool self, const member_view& target) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("a direct conversation has no roles");
  if (actor.role != conv_role::owner) return forbidden("only the owner changes roles");
  if (self) return make_error(errc::invalid_field, "the owner cannot change their own role");
  if (!target.active()) return make_error(errc::not_found, "not a member");
  return nothing{};
}

// --- threads and mentions (issue 11)
result<nothing> may_mention_everyone(const member_view& actor, std::int64_t active_members, std::int64_t limit) {
  if (auto ok = may_post(actor); !ok) return ok;
  if (active_members <= limit || actor.role == conv_role::admin || actor.role == conv_role::owner) return nothing{};
  return make_error(errc::forbidden, "only owners and admins may use @all or @here in a conversation of more than " +
                                         std::to_string(limit) + " members");
}
// --- end threads

// --- notification levels (issues 12 and 15)
std::string_view default_notify_level(conv_kind kind) { return kind == conv_kind::channel ? "mentions" : "all"; }

}  // namespace confab::chat

// ---- i11-changes: reactions, edits and deletes of messages
namespace confab::chat {
namespace {

result<nothing> check_target(const member_view& actor, const message_view* target) {
  if (!actor.active()) return make_error(errc::forbidden, "not a member of this conversation");
  if (!target) return make_error(errc::not_found, "no such message");
  if (target->kind != event_kind::message) return make_error(errc::invalid_field, "seq is not a message");
  if (target->deleted) return make_error(errc::not_found, "message was deleted");
  return nothing{};
}

}  // namespace

result<nothing> may_react(const member_view& actor, const message_view* target, std::int64_t now_ms) {
  if (auto ok = check_target(actor, target); !ok) return ok;
  return not_muted(actor, now_ms);
}

result<nothing> may_add_reaction(std::int64_t distinct_emoji, bool emoji_present, std::int64_t max) {
  if (!emoji_present && distinct_emoji >= max)
    return make_error(errc::conflict, "a message has at most " + std::to_string(max) + " different reactions");
  return nothing{};
}

result<nothing> may_edit(const member_view& actor, id_t actor_id, const message_view* target, std::int64_t now_ms,
                         std::int64_t window_ms) {
  if (auto ok = check_target(actor, target); !ok) return ok;
  if (target->sender != actor_id) return make_error(errc::forbidden, "only the sender edits a message");
  if (auto ok = not_muted(actor, now_ms); !ok) return ok;
  if (window_ms > 0 && now_ms - target->ts_ms > window_ms)
    return make_error(errc::forbidden, "messages can be edited only within " + std::to_string(window_ms / 1000) + " s of sending");
  return nothing{};
}

result<nothing> may_delete(conv_kind kind, const member_view& actor, id_t actor_id, const message_view* target) {
  if (auto ok = check_target(actor, target); !ok) return ok;
  if (target->sender == actor_id) return nothing{};
  if (kind != conv_kind::direct && actor.role >= conv_role::admin) return nothing{};
  return make_error(errc::forbidden, "only the sender, or an owner or admin of a group, deletes a message");
}

}  // namespace confab::chat
