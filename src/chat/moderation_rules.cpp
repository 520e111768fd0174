// The moderation rules (rules.hpp): settings, pins, mutes, bans and what they do to a send.
#include "chat/rules.hpp"

namespace confab::chat {
namespace {
error forbidden(std::string msg) { return make_error(errc::forbidden, std::move(msg)); }
}  // namespace

result<nothing> not_muted(const member_view& actor, std::int64_t now_ms) {
  if (actor.muted(now_ms)) return forbidden("muted in this conversation until " + std::to_string(*actor.muted_until_ms));
  return nothing{};
}

result<nothing> may_change_settings(conv_kind kind, const member_view& actor) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("a direct conversation has no settings");
  if (actor.role < conv_role::admin) return forbidden("only owners and admins change the settings");
  return nothing{};
}

result<nothing> may_pin(conv_kind kind, const member_view& actor, conv_policy pin_policy, std::int64_t now_ms) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (auto ok = not_muted(actor, now_ms); !ok) return ok;
  if (kind != conv_kind::direct && pin_policy == conv_policy::admins && actor.role < conv_role::admin)
    return forbidden("only owners and admins pin in this conversation");
  return nothing{};
}

result<nothing> may_moderate(conv_kind kind, const member_view& actor, bool self, const member_view& target) {
  if (!actor.active()) return forbidden("not a member of this conversation");
  if (kind == conv_kind::direct) return forbidden("a direct conversation has no moderation");
  if (actor.role < conv_role::admin) return forbidden("only owners and admins moderate");
  if (self) return make_error(errc::invalid_field, "cannot moderate yourself");
  if (target.role >= actor.role) return forbidden("not allowed to moderate a member of equal or higher rank");
  return nothing{};
}

result<nothing> may_be_added(const member_view& target, id_t user) {
  if (target.banned) return forbidden("user " + std::to_string(user) + " is banned from this conversation");
  return nothing{};
}

bool slow_mode_applies(const post_settings& s, const member_view& actor) {
  return s.slow_mode_s > 0 && actor.role < conv_role::admin;
}

result<nothing> may_post_under(const post_settings& s, const member_view& actor, std::optional<std::int64_t> last_post_ms,
                               std::int64_t now_ms) {
  if (s.post_policy == conv_policy::admins && actor.role < conv_role::admin)
    return forbidden("only owners and admins post in this conversation");
  if (auto ok = not_muted(actor, now_ms); !ok) return ok;
  if (slow_mode_applies(s, actor) && last_post_ms) {
    const std::int64_t next = *last_post_ms + s.slow_mode_s * 1000;
    if (next > now_ms) {
      auto e = make_error(errc::slow_mode, "slow mode: one message per " + std::to_string(s.slow_mode_s) + " s; wait " +
                                               std::to_string(next - now_ms) + " ms");
      e.retry_after_ms = next - now_ms;
      return e;
    }
  }
  return nothing{};
}

}  // namespace confab::chat
