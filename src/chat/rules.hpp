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
// Reacting: any active member, to any message not deleted.
result<nothing> may_react(const member_view& actor, const message_view* target);
// Adding a reaction: the message already has distinct_emoji kinds of reaction; a new kind
// (emoji_present false) may not make more than max (conflict).
result<nothing> may_add_reaction(std::int64_t distinct_emoji, bool emoji_present, std::int64_t max);
// Editing: only the sender, within window_ms of sending (0: no limit; forbidden naming the window).
result<nothing> may_edit(const member_view& actor, id_t actor_id, const message_view* target, std::int64_t now_ms,
                         std::int64_t window_ms);
// Deleting for everyone: the sender, or an owner or admin of a group.
result<nothing> may_delete(conv_kind kind, const member_view& actor, id_t actor_id, const message_view* target);

}  // namespace confab::chat
