// The rules of who may do what in a conversation: pure functions of typed roles, in one place.
//
// Storage calls them inside the write transaction, after the conversation's row lock is taken,
// on the membership rows read under that lock (several nodes write one database: a rule checked
// before the lock could be stale by the time of the write). Each returns ok, or errc::forbidden
// (or invalid_field for a request that can never be right) with a message for the user.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"

namespace confab::chat {

// What the rules need to know about one user's membership, read under the conversation's lock.
struct member_view {
  conv_role role = conv_role::none;  // none: never a member, or left
  bool active() const { return role != conv_role::none; }
  // moderation
  std::optional<std::int64_t> muted_until_ms;  // may not post before this (set by mute_member)
  bool banned = false;                          // may not be added back (ban_member)
  bool muted(std::int64_t now_ms) const { return muted_until_ms && *muted_until_ms > now_ms; }
};

// Posting a message (or any event authored by a member): active members only.
result<nothing> may_post(const member_view& actor);
// Adding members: groups only, by admins and owners.
result<nothing> may_add_members(conv_kind kind, const member_view& actor);
// Removing another member: groups only, by admins and owners, of members ranked below them.
result<nothing> may_remove(conv_kind kind, const member_view& actor, const member_view& target);
// Leaving: groups only; an owner may leave only when nobody else is left (else: transfer first).
result<nothing> may_leave(conv_kind kind, const member_view& actor, std::int64_t active_members);
// Changing a role: groups only, by the owner, of another active member; to owner = a transfer.
result<nothing> may_set_role(conv_kind kind, const member_view& actor, bool self, const member_view& target);

// --- threads and mentions (issue 11)
// @all / @here: anyone in a conversation of at most limit active members; above that, owners and
// admins only (forbidden otherwise).
result<nothing> may_mention_everyone(const member_view& actor, std::int64_t active_members, std::int64_t limit);
// --- end threads

// --- notification levels (issues 12 and 15)
// A member's notification level until they set one: "all" in direct conversations and groups,
// "mentions" in channels (a channel's every message is not news to each of its thousands of
// members; their pushes, and the badge, follow mentions until they choose "all"). The push
// queue's SQL (storage/push_store.cpp, notify_level_sql) states the same rule.
std::string_view default_notify_level(conv_kind kind);

}  // namespace confab::chat

// ---- i11-changes: reactions, edits and deletes of messages
namespace confab::chat {

// The event a reaction, edit or delete targets, as read under the conversation's lock.
struct message_view {
  event_kind kind = event_kind::message;
  id_t sender = 0;
  std::int64_t ts_ms = 0;  // when it was sent
  bool deleted = false;
};
// Each takes the target (null: no event with that seq in the conversation) and returns, in this
// order: forbidden (actor not an active member), not_found (no such event, or it was deleted),
// invalid_field (not a message), then the operation's own refusal.
// Reacting: any active member not muted (mute_member), to any message not deleted.
result<nothing> may_react(const member_view& actor, const message_view* target, std::int64_t now_ms);
// Adding a reaction: the message already has distinct_emoji kinds of reaction; a new kind
// (emoji_present false) may not make more than max (conflict).
result<nothing> may_add_reaction(std::int64_t distinct_emoji, bool emoji_present, std::int64_t max);
// Editing: only the sender, not while muted, within window_ms of sending (0: no limit; forbidden
// naming the window).
result<nothing> may_edit(const member_view& actor, id_t actor_id, const message_view* target, std::int64_t now_ms,
                         std::int64_t window_ms);
// Deleting for everyone: the sender, or an owner or admin of a group.
result<nothing> may_delete(conv_kind kind, const member_view& actor, id_t actor_id, const message_view* target);
// ---- moderation: settings, pins, mutes and bans (moderation_rules.cpp)

// A member muted with mute_member may not post, reply, edit, react or pin before the mute ends
// (forbidden, naming when); reading, deleting their own messages and leaving stay allowed.
result<nothing> not_muted(const member_view& actor, std::int64_t now_ms);

// Changing a conversation's settings: groups only, by owners and admins.
result<nothing> may_change_settings(conv_kind kind, const member_view& actor);
// Pinning and unpinning: active members the pin policy allows (in a direct conversation, which
// has no roles, both people), not while muted.
result<nothing> may_pin(conv_kind kind, const member_view& actor, conv_policy pin_policy, std::int64_t now_ms);
// Muting, unmuting, banning and unbanning: groups only, by owners and admins, of someone ranked
// below them (someone who is not a member ranks lowest). Oneself: invalid_field.
result<nothing> may_moderate(conv_kind kind, const member_view& actor, bool self, const member_view& target);
// Adding a user: refused while they are banned.
result<nothing> may_be_added(const member_view& target, id_t user);

// Pins per conversation.
inline constexpr std::int64_t max_pins = 50;

// What a send is checked against besides membership (may_post).
struct post_settings {
  conv_policy post_policy = conv_policy::everyone;
  std::int64_t slow_mode_s = 0;  // 0: off
};
// Whether slow mode limits this member (it is on, and they are not an owner or admin).
bool slow_mode_applies(const post_settings& s, const member_view& actor);
// Posting under the settings, for an active member: the post policy (forbidden), a mute
// (forbidden, until when in the message), slow mode (errc::slow_mode with retry_after_ms; the
// member's last message under slow mode was at last_post_ms).
result<nothing> may_post_under(const post_settings& s, const member_view& actor, std::optional<std::int64_t> last_post_ms,
                               std::int64_t now_ms);

}  // namespace confab::chat
