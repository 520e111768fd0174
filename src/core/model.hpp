// Confab's domain records, shared by storage, protocol and gateway. Plain values, no behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab {

using id_t = std::int64_t;

// The kinds of entries in a conversation's ordered log. Stored and sent as their names
// (to_string / parse_event_kind); a name this build does not know is an error, not a guess.
enum class event_kind : std::uint8_t {
  message, created, members_added, member_removed, member_left, role_changed,
  // issue 11: reactions, edits and deletes of messages; settings, pins, mutes and bans
  reaction, edited, deleted,
  settings_changed, pinned, unpinned, member_muted, member_unmuted, member_banned, member_unbanned,
};
// Conversation kinds; stored and sent as "direct" / "group".
enum class conv_kind : std::uint8_t { direct, group, channel };  // channel: issue 12 (docs/protocol.md 6.4)
// Roles in a conversation, in ascending rank (none: not a member). Stored and sent as
// "member" / "admin" / "owner". What each role may do is in chat/rules.hpp.
enum class conv_role : std::uint8_t { none, member, admin, owner };

std::string_view to_string(event_kind k);
std::string_view to_string(conv_kind k);
std::string_view to_string(conv_role r);  // none -> ""
std::optional<event_kind> parse_event_kind(std::string_view s);
std::optional<conv_kind> parse_conv_kind(std::string_view s);
std::optional<conv_role> parse_role(std::string_view s);  // "" -> none; unknown -> nullopt

// The typed payload of each non-message event kind (messages keep their fields in event).
struct created_payload {
  conv_kind kind = conv_kind::group;
  std::string title;            // groups only
  std::vector<id_t> members;    // every first member, the creator first
  std::optional<id_t> owner;    // groups only
  bool operator==(const created_payload&) const = default;
};
struct members_added_payload {
  std::vector<id_t> users;
  id_t by = 0;
  bool operator==(const members_added_payload&) const = default;
};
// member_removed (by an admin or owner) and member_left (user == by).
struct member_gone_payload {
  id_t user = 0;
  id_t by = 0;
  bool operator==(const member_gone_payload&) const = default;
};
struct role_changed_payload {
  id_t user = 0;
  conv_role new_role = conv_role::member;
  id_t by = 0;
  std::optional<conv_role> previous_owner_role;  // set on an ownership transfer: the old owner's new role
  bool operator==(const role_changed_payload&) const = default;
};
// i11-changes: a reaction added or removed (sender = the reacting user), an edit, a delete for
// everyone. target is the seq of the message they change.
struct reaction_payload {
  std::int64_t target = 0;
  std::string emoji;
  bool added = true;
  // How many users have this emoji on the message after the change: absolute, so that a client
  // that already holds the message's current state (catch-up) converges by replaying events.
  std::int64_t count = 0;
  bool operator==(const reaction_payload&) const = default;
};
struct edited_payload {
  std::int64_t target = 0;
  std::string text;  // the new text; "" once the message is deleted (the text is erased)
  bool operator==(const edited_payload&) const = default;
};
struct deleted_payload {
  std::int64_t target = 0;
  id_t by = 0;
  bool operator==(const deleted_payload&) const = default;
};
// One emoji's reactions on a message, as one viewer sees them.
struct reaction_count {
  std::string emoji;
  std::int64_t count = 0;
  bool me = false;  // the viewer reacted with it
  bool operator==(const reaction_count&) const = default;
};

// --- threads (issue 11): a thread root's summary as one viewer sees it (history, thread, threads).
struct thread_summary {
  std::int64_t replies = 0;
  std::int64_t last_ms = 0;            // time of the latest reply
  std::int64_t last_seq = 0;           // seq of the latest reply: a client counts live replies above it only
  std::vector<id_t> participants;      // up to 3 most recent distinct repliers, most recent first
  bool following = false;              // the viewer follows the thread
  std::int64_t unread = 0;             // replies by others above the viewer's thread read pointer (following only)
  bool operator==(const thread_summary&) const = default;
};
// --- end threads
// ---- moderation payloads
// Who may post or pin in a group (conversation settings): everyone, or owners and admins only.
enum class conv_policy : std::uint8_t { everyone, admins };
std::string_view to_string(conv_policy p);
std::optional<conv_policy> parse_policy(std::string_view s);
// settings_changed: only the fields the change set.
struct settings_payload {
  id_t by = 0;
  std::optional<std::string> title, description;
  std::optional<conv_policy> post_policy, pin_policy;
  std::optional<std::int64_t> wildcard_limit, slow_mode_s;
  bool operator==(const settings_payload&) const = default;
};
// pinned / unpinned: the message's seq.
struct pin_payload {
  std::int64_t target = 0;
  id_t by = 0;
  bool operator==(const pin_payload&) const = default;
};
// member_muted (until_ms set), member_unmuted, member_banned (also removes the member),
// member_unbanned.
struct moderation_payload {
  id_t user = 0;
  id_t by = 0;
  std::optional<std::int64_t> until_ms;
  bool operator==(const moderation_payload&) const = default;
};
// ---- end moderation payloads

using event_payload =
    std::variant<std::monostate, created_payload, members_added_payload, member_gone_payload, role_changed_payload,
                 reaction_payload, edited_payload, deleted_payload,       // issue 11: message changes
                 settings_payload, pin_payload, moderation_payload>;      // issue 11: moderation

// One entry of a conversation's stream: a message or a membership event.
struct event {
  id_t conv = 0;
  std::int64_t seq = 0;  // per conversation: 1, 2, 3 ... with no gaps
  event_kind kind = event_kind::message;
  id_t sender = 0;  // the user who caused it
  id_t device = 0;  // the device that sent it
  std::string client_id;  // the sender's idempotency key (messages only)
  std::int64_t ts_ms = 0;  // server time at commit
  std::string text;
  std::string content_type;  // opaque to the server; "text/plain" by default
  std::optional<std::int64_t> reply_to;
  event_payload payload;  // the kind's payload (monostate for messages)
  // i11-changes: a message's current state (stored with it, reactions decorated per viewer)
  std::optional<std::int64_t> edited_ms;  // time of the latest edit
  bool deleted = false;                    // deleted for everyone: text is ""
  std::vector<reaction_count> reactions;   // by first reaction; filled where events are read for a viewer
  // --- threads (issue 11), message events only
  std::optional<std::int64_t> thread_root;  // a thread reply: the seq of its root in this conversation
  bool also_in_conversation = false;        // a reply also shown in the conversation
  std::vector<id_t> mentions;               // members named by @username at send time, ascending
  bool mention_all = false, mention_here = false;
  std::optional<thread_summary> thread;     // a root with replies: its summary for the reader (not stored)
  // --- end threads
  // issue 12: the event belongs to a channel (not on the wire, not stored in events): it was written
  // without stream rows except for the users it adds or removes, and is delivered live to the
  // channel's online members as a channel_event (set by storage at append time).
  bool channel = false;
};

// Who a membership event adds to and removes from the conversation's active members.
struct membership_delta {
  std::vector<id_t> added;
  std::vector<id_t> removed;
};
membership_delta membership_change(const event& ev);

// An event as it appears in one user's stream: pos is that user's stream position (1, 2, 3 ...).
struct stream_item {
  std::int64_t pos = 0;
  event ev;
};

struct user_record {
  id_t id = 0;
  std::string username;
  std::string password_hash;  // Argon2id string from libsodium
};

// A user as others see them (find_users, users).
struct user_brief {
  id_t id = 0;
  std::string username;
  std::string display_name;  // "" when unset
};

struct device_record {
  id_t id = 0;
  id_t user_id = 0;
  std::string name;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> revoked_ms;
};

// Who a bearer token belongs to.
struct principal {
  id_t user_id = 0;
  id_t device_id = 0;
  std::string username;
};

struct member_record {
  id_t user_id = 0;
  std::string username;
  conv_role role = conv_role::member;
  std::int64_t joined_seq = 0;
};

struct conversation_summary {
  id_t id = 0;
  conv_kind kind = conv_kind::group;
  std::string title;
  std::int64_t last_seq = 0;
  std::int64_t last_ms = 0;  // time of the last event: the activity order
  std::int64_t read_seq = 0;
  std::int64_t unread = 0;  // messages from others after read_seq
  conv_role role = conv_role::none;
  std::optional<event> last_message;
  std::vector<member_record> members;  // direct conversations only (the two people); empty for groups
  // --- threads (issue 11)
  std::int64_t unread_mentions = 0;  // messages mentioning the user (directly, @all, @here) after read_seq
  // --- end threads
  // ---- moderation: settings, this user's notification level and mute
  std::string description;
  struct settings_view {
    conv_policy post_policy = conv_policy::everyone;
    conv_policy pin_policy = conv_policy::admins;
    std::optional<std::int64_t> wildcard_limit;  // nullopt: the server's --wildcard-mention-limit
    std::int64_t slow_mode_s = 0;                // 0: off
  } settings;
  std::string notify = "all";                       // "all" | "mentions" | "none"
  std::optional<std::int64_t> muted_until;          // notifications muted until (only if in the future)
  std::optional<std::int64_t> member_muted_until;   // this user may not post until (only if in the future)
  // issue 12: a channel's directory fields (kind == channel only)
  struct channel_view {
    std::string topic;
    bool is_public = false;
    std::int64_t member_count = 0;
  };
  std::optional<channel_view> channel;
};

struct send_request {
  id_t user = 0;
  id_t device = 0;
  id_t conv = 0;
  std::string client_id;
  std::string text;
  std::string content_type;
  std::optional<std::int64_t> reply_to;
  // --- threads (issue 11)
  std::optional<std::int64_t> thread_root;
  bool also_in_conversation = false;
  std::vector<std::string> mention_names;  // @username tokens of the text (chat/mentions.hpp), unresolved
  bool mention_all = false, mention_here = false;
  std::vector<id_t> online;                // @here: the users online now (resolved before the store call)
  std::int64_t wildcard_limit = 15;        // above this many members only owners/admins may use @all/@here
  std::vector<id_t> mentions;              // set by storage under the conversation's lock: the named members
  std::int64_t trace = 0;                  // issue 17: the message's trace id (0: not traced), for the logs
  // --- end threads
};

// The ack of a send: the original one when the client id was seen before (duplicate = true).
struct send_ack {
  id_t conv = 0;
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;
  bool duplicate = false;
};

// A member's receipt pointers in a conversation.
struct receipt_record {
  id_t user_id = 0;
  std::string username;
  std::int64_t delivered_seq = 0;
  std::int64_t read_seq = 0;
  bool channel = false;  // issue 12: a channel's pointers, which are not broadcast to the members
};

// A user to deliver a committed event to, with that user's new stream position.
struct recipient {
  id_t user_id = 0;
  std::int64_t pos = 0;
};

}  // namespace confab
