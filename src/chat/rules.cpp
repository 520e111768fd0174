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
  if (kind != conv_kind::group) return forbidden("members of a direct conversation cannot change");
  if (actor.role < conv_role::admin) return forbidden("only owners and admins add members");
  return nothing{};
}

result<nothing> may_remove(conv_kind kind, const member_view& actor, const member_view& target) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind != conv_kind::group) return forbidden("members of a direct conversation cannot change");
  if (!target.active()) return make_error(errc::not_found, "not a member");
  if (actor.role < conv_role::admin || target.role >= actor.role) return forbidden("not allowed to remove this member");
  return nothing{};
}

result<nothing> may_leave(conv_kind kind, const member_view& actor, std::int64_t active_members) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind != conv_kind::group) return forbidden("members of a direct conversation cannot change");
  if (actor.role == conv_role::owner && active_members > 1)
    return forbidden("the owner must transfer ownership before leaving");
  return nothing{};
}

result<nothing> may_set_role(conv_kind kind, const member_view& actor, bool self, const member_view& target) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind != conv_kind::group) return forbidden("a direct conversation has no roles");
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

}  // namespace confab::chat
