// Confab's domain records, shared by storage, protocol and gateway. Plain values, no behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confab {

using id_t = std::int64_t;

// One entry of a conversation's ordered stream: a message or a membership event.
// kind is "message" | "created" | "members_added" | "member_removed" | "member_left" | "role_changed".
struct event {
  id_t conv = 0;
  std::int64_t seq = 0;  // per conversation: 1, 2, 3 ... with no gaps
  std::string kind;
  id_t sender = 0;  // the user who caused it
  id_t device = 0;  // the device that sent it
  std::string client_id;  // the sender's idempotency key (messages only)
  std::int64_t ts_ms = 0;  // server time at commit
  std::string text;
  std::string content_type;  // opaque to the server; "text/plain" by default
  std::optional<std::int64_t> reply_to;
  std::string data;  // membership events: a JSON object (as text) describing the change; else empty
};

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
  std::string role;  // "owner" | "admin" | "member"
  std::int64_t joined_seq = 0;
};

struct conversation_summary {
  id_t id = 0;
  std::string kind;  // "direct" | "group"
  std::string title;
  std::int64_t last_seq = 0;
  std::int64_t last_ms = 0;  // time of the last event: the activity order
  std::int64_t read_seq = 0;
  std::int64_t unread = 0;  // messages from others after read_seq
  std::string role;
  std::optional<event> last_message;
  std::vector<member_record> members;  // direct conversations only (the two people); empty for groups
};

struct send_request {
  id_t user = 0;
  id_t device = 0;
  id_t conv = 0;
  std::string client_id;
  std::string text;
  std::string content_type;
  std::optional<std::int64_t> reply_to;
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
};

// A user to deliver a committed event to, with that user's new stream position.
struct recipient {
  id_t user_id = 0;
  std::int64_t pos = 0;
};

}  // namespace confab
