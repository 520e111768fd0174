// Confab's storage interface: accounts, devices, conversations, the ordered event streams.
//
// One store serves both backends: the backend supplies connections (SQLite or PostgreSQL, see
// db.hpp) and the store runs portable SQL on the executor's threads (executor.hpp). Every call is
// a coroutine that suspends until the database answered and resumes on the caller's executor.
//
// Guarantees:
//  - Per conversation, events get seq 1, 2, 3 ... assigned inside the committing transaction.
//  - Each committed event is appended to the stream of every member it concerns, with that
//    user's next stream position (1, 2, 3 ...), in the same transaction.
//  - send() with a (device, client_id) pair seen before returns the original ack and writes
//    nothing.
//  - A write that completed ok is committed (durable per the backend's settings).
//  - After each committed event, the sink (if set) is called on the storage publisher thread, in
//    commit order, with the event and its recipients. It must not block.
// Errors: errc::not_found, forbidden, conflict, invalid_field for the caller's mistakes;
// errc::unavailable when the database failed (retry is safe: sends are idempotent).
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"
#include "search/query.hpp"
#include "storage/executor.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace confab::storage {

template <class T>
using task = boost::asio::awaitable<result<T>>;

// Receives each committed event. Called on the storage publisher thread (one thread, commit
// order); must be quick and thread-safe.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void on_committed(const event& ev, std::span<const recipient> to) = 0;
  // A COMMIT's outcome is unknown: events may have been committed without on_committed. Live
  // readers should re-check storage. Called on the publisher thread.
  virtual void on_uncertain() {}
};

struct history_page {
  std::vector<event> events;  // ascending seq
  bool has_more = false;      // more exist beyond this page in the direction asked
};

struct stream_page {
  std::vector<stream_item> items;  // ascending pos
  std::int64_t head = 0;           // the user's latest stream position when read
};

// A keyset cursor into the activity-ordered conversation list.
struct conv_cursor {
  std::int64_t last_ms = 0;
  id_t id = 0;
};

// i11-changes: the answer of a reaction, edit or delete. seq is the event it appended (0 when
// nothing changed: a reaction that was already there, or already absent).
struct change_ack {
  id_t conv = 0;
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;
  bool changed = true;
};
// One text a message had: the one sent, then each edit's (ts_ms: when it was written).
struct text_version {
  std::string text;
  std::int64_t ts_ms = 0;
};
// --- threads and mentions (issue 11)
// A keyset cursor into a list ordered newest first by (ms, conv, seq): threads by last reply time
// (seq = the root), mentions by message time.
struct keyset_cursor {
  std::int64_t ms = 0;
  id_t conv = 0;
  std::int64_t seq = 0;
};
struct thread_page {
  event root;                  // with its summary for the viewer (thread)
  std::vector<event> replies;  // ascending seq
  bool has_more = false;       // more replies beyond this page in the direction asked
};
// How a search orders and pages its results (issue 13): newest first, paged by the keyset cursor;
// or by relevance, best first (ties newest first), paged by offset: a relevance page is not
// stable while messages arrive, and goes at most max_relevance_offset deep.
struct search_order {
  bool relevance = false;
  int offset = 0;  // relevance: results to skip, 0..max_relevance_offset
  static constexpr int max_relevance_offset = 1000;
};
struct event_list_page {
  std::vector<event> events;          // newest first
  std::optional<keyset_cursor> next;  // where the next page starts (nullopt: none)
};
// A user's state in one thread.
struct thread_state {
  id_t conv = 0;
  std::int64_t root = 0;
  bool following = false;
  std::int64_t read_seq = 0;
  std::int64_t unread = 0;  // replies by others above read_seq (0 when not following)
};
// --- end threads
// ---- moderation: a pin as listed by store::pins.
struct pin_record {
  std::int64_t seq = 0;  // the pinned message
  id_t by = 0;
  std::int64_t pinned_ms = 0;
  event message;
};
// A user's notification level in a conversation (store::set_notify).
struct notify_record {
  std::string level = "all";              // "all" | "mentions" | "none"
  std::optional<std::int64_t> muted_until;  // absent: not muted
};

// ---- channels (issue 12; store_channels.cpp)
// A channel as the directory shows it to one user.
struct channel_record {
  id_t conv = 0;
  std::string title;
  std::string topic;
  bool is_public = false;
  std::int64_t member_count = 0;  // active members
  std::int64_t last_seq = 0;
  std::int64_t last_ms = 0;
  bool joined = false;  // the user is an active member
};
// A keyset cursor into the directory (title byte order, then id).
struct directory_cursor {
  std::string title;
  id_t conv = 0;
};
// One of a user's channels, to resume from (docs/protocol.md section 10, Channels).
struct channel_head {
  id_t conv = 0;
  std::int64_t last_seq = 0;
  std::int64_t read_seq = 0;
  std::int64_t joined_seq = 0;
};
struct member_page {
  std::vector<member_record> members;  // ascending user id
  std::int64_t member_count = 0;
};

// Arguments are taken by reference and copied before the call returns: the returned awaitable owns
// everything it needs. (No by-value parameters: GCC 12 mis-destroys non-trivial temporaries
// created inside a co_await expression.)
class send_group;

class push_store;

class store {
 public:
  // Takes ownership of the executor. sink may be null and may be set later, before traffic.
  explicit store(std::unique_ptr<executor> ex);
  ~store();

  void set_sink(event_sink* sink) { sink_ = sink; }
  // Finishes the queued writes, then stops the storage threads.
  void stop();

  // --- accounts and devices
  task<id_t> create_user(const std::string& username, const std::string& password_hash);  // conflict if taken
  task<user_record> find_user(const std::string& username);                         // not_found
  task<device_record> create_device(id_t user, const std::string& name, const std::string& token_hash);
  // A new user and their first device in one transaction (conflict if the username is taken).
  task<device_record> create_account(const std::string& username, const std::string& password_hash,
                                     const std::string& device_name, const std::string& token_hash);
  task<principal> authenticate(const std::string& token_hash);  // unauthenticated if unknown or revoked
  task<std::vector<device_record>> list_devices(id_t user);
  task<nothing> revoke_device(id_t user, id_t device);  // not_found unless the user's own device
  task<id_t> find_user_id(const std::string& username);        // not_found
  task<bool> device_active(id_t device);                         // exists and not revoked

  // --- conversations (actor = the user doing it, from device)
  struct created {
    id_t conv = 0;
    bool is_new = false;
  };
  task<created> create_direct(id_t actor, id_t device, id_t other);
  task<id_t> create_group(id_t actor, id_t device, const std::string& title, const std::vector<id_t>& members);
  task<std::int64_t> add_members(id_t actor, id_t device, id_t conv, const std::vector<id_t>& users);  // returns the event seq
  // Removes user from conv (actor == user means leave). Returns the event seq.
  task<std::int64_t> remove_member(id_t actor, id_t device, id_t conv, id_t user);
  task<std::int64_t> set_role(id_t actor, id_t device, id_t conv, id_t user, conv_role role);
  task<std::vector<member_record>> members(id_t actor, id_t conv);

  // --- messages
  task<send_ack> send(const send_request& req);
  // before/after: exclusive bounds; neither = the latest page. limit in 1..100.
  task<history_page> history(id_t user, id_t conv, std::optional<std::int64_t> before,
                             std::optional<std::int64_t> after, int limit);
  task<std::vector<conversation_summary>> conversations(id_t user, std::optional<conv_cursor> after, int limit);
  task<conversation_summary> conversation(id_t user, id_t conv);

  // --- receipts and presence (scale-out)
  // delivered/read pointers are monotonic and clamped to the conversation's last seq; reading
  // also raises delivered. Both return the stored pointers after the call. The device's own
  // delivered pointer moves too, and a read queues clear pushes (push_store.hpp, issue 15).
  task<receipt_record> mark_delivered(id_t user, id_t device, id_t conv, std::int64_t seq);
  task<receipt_record> mark_read(id_t user, id_t device, id_t conv, std::int64_t seq);
  task<std::vector<receipt_record>> receipts(id_t user, id_t conv);  // active members; forbidden unless one
  task<bool> is_member(id_t user, id_t conv);                          // active member?
  task<std::vector<id_t>> conversation_ids(id_t user);                 // active memberships
  // Of candidates, those who are active members of some conversation the user is an active member of
  // (the user counts for themself), ascending.
  task<std::vector<id_t>> shared_users(id_t user, const std::vector<id_t>& candidates);
  task<nothing> set_last_seen(id_t user, std::int64_t ms);
  task<std::vector<std::optional<std::int64_t>>> last_seen(const std::vector<id_t>& users);  // same order

  // --- profiles (profiles.cpp): display names, people search, device activity
  // Users whose username starts with prefix ignoring ASCII case, ascending by lower-cased name,
  // without except_user; at most limit of them. An empty result is not an error.
  task<std::vector<user_brief>> find_users(const std::string& prefix, id_t except_user, int limit);
  // Of ids, the users viewer may see: viewer themself and anyone with a membership row (left or
  // not) in a conversation where viewer has one too. Others are omitted; ascending by id.
  task<std::vector<user_brief>> visible_users(id_t viewer, const std::vector<id_t>& ids);
  // The profiles of ids that exist, without a visibility check (for decorating answers whose
  // visibility was already checked); ascending by id.
  task<std::vector<user_brief>> user_briefs(const std::vector<id_t>& ids);
  // Sets the display name (already validated; "" clears). not_found if the user is missing.
  task<user_brief> set_display_name(id_t user, const std::string& display_name);
  // Records that device authenticated at ms (only ever moves forward).
  task<nothing> touch_device(id_t device, std::int64_t ms);
  // Each device of user with its last_active_ms (nullopt if never recorded).
  task<std::vector<std::pair<id_t, std::optional<std::int64_t>>>> device_activity(id_t user);

  // --- i11-changes (store_changes.cpp): reactions, edits and deletes for everyone. Each change
  // is an event in the conversation's log (reaction, edited, deleted), checked by chat/rules under
  // the conversation's lock (open_event). Errors: not_found (conversation, seq, or a deleted
  // message), forbidden (not an active member, not allowed), invalid_field (not a message),
  // conflict (a new emoji over max_emoji).
  // Adds (add) or removes user's reaction emoji (already validated) on the message target.
  // Idempotent: nothing is appended when the reaction is already there (or already absent).
  task<change_ack> react(id_t actor, id_t device, id_t conv, std::int64_t target, const std::string& emoji, bool add,
                         std::int64_t max_emoji);
  // Replaces the text of actor's own message target (window_ms after sending, 0: any time); the
  // previous text goes to its edit history.
  task<change_ack> edit_message(id_t actor, id_t device, id_t conv, std::int64_t target, const std::string& text,
                                std::int64_t window_ms);
  // Deletes message target for everyone: its text, its edit history (and the texts inside its
  // edited events) and its reactions are erased; the tombstone keeps its seq.
  task<change_ack> delete_message(id_t actor, id_t device, id_t conv, std::int64_t target);
  // Every text of message target, oldest first, the current one last. Members, and former
  // members for messages up to their removal.
  task<std::vector<text_version>> edit_history(id_t user, id_t conv, std::int64_t target);
  // --- threads and mentions (issue 11; store_threads.cpp). Reads follow history's rules (a
  // former member sees up to their removal); writes need an active member. A root is a message of
  // the conversation that is not itself a reply: not_found if there is no such event (or it is
  // beyond a former member's reach), invalid_field if it is not a message or is a reply.
  // One page of a thread's replies (before/after as history's; limit 1..100).
  task<thread_page> thread(id_t user, id_t conv, std::int64_t root, std::optional<std::int64_t> before,
                           std::optional<std::int64_t> after, int limit);
  // The threads user follows (with at least one reply), in conversations where they are an active
  // member, by latest reply descending; each root carries its summary.
  task<event_list_page> threads(id_t user, std::optional<keyset_cursor> before, int limit);
  task<thread_state> follow_thread(id_t user, id_t conv, std::int64_t root, bool follow);
  // Moves the user's thread read pointer up to seq (clamped to the conversation's last seq).
  task<thread_state> read_thread(id_t user, id_t conv, std::int64_t root, std::int64_t seq);
  // Messages that mention user (by name, @all or @here), newest first, within history's reach.
  task<event_list_page> mentions(id_t user, std::optional<keyset_cursor> before, int limit);
  // --- end threads

  // --- search (issue 13; store_search.cpp). The index is fed from the event feed: put each
  // committed event through index_for_search, in each conversation's order. Idempotent (an event
  // indexed twice changes nothing), so the feed's at-least-once delivery is enough.
  // A text/plain message is indexed with its current text; an edit re-indexes its target's
  // current text, a delete (or a message found deleted) removes it. Other events change nothing.
  task<nothing> index_for_search(std::vector<event> evs);
  // Messages matching q, newest first, within history's reach of every conversation user is (or
  // was) a member of, optionally only in conv. from:/in: name users and conversations: one that
  // does not exist (or, for in:, that user is not in) is errc::not_found naming it.
  // limit 1..100. The matching statement runs at most time_limit: errc::limit_reached after.
  // order: newest first after before, or by relevance from order.offset (before is then ignored;
  // the page's next is set when more follow); offset outside 0..1000 is errc::invalid_field.
  task<event_list_page> search(id_t user, const search::query& q, std::optional<id_t> conv,
                               std::optional<keyset_cursor> before, int limit,
                               std::chrono::milliseconds time_limit = std::chrono::milliseconds(2000), search_order order = {});

  // --- the user stream (delivery and catch-up)
  task<stream_page> read_stream(id_t user, std::int64_t after_pos, int limit);
  task<std::int64_t> stream_head(id_t user);

  // --- moderation (store_moderation.cpp): settings, pins, mutes, bans, notification levels.
  // Each change is an event appended under the conversation's row lock, its rules
  // (chat/rules.hpp) checked after the lock; each returns the event's seq.
  // Sets the fields change sets (change.by is ignored: actor is the author).
  task<std::int64_t> set_conversation(id_t actor, id_t device, id_t conv, const settings_payload& change);
  // Pins (pin = true) or unpins the message at seq: not_found (no such message / not pinned),
  // invalid_field (not a message), conflict (already pinned), limit_reached (chat::max_pins).
  task<std::int64_t> set_pin(id_t actor, id_t device, id_t conv, std::int64_t seq, bool pin);
  // The conversation's pins, most recently pinned first; active members only.
  task<std::vector<pin_record>> pins(id_t actor, id_t conv);
  // Mutes an active member until until_ms, or (nullopt) unmutes them (not_found if not muted).
  task<std::int64_t> mute_member(id_t actor, id_t device, id_t conv, id_t user, std::optional<std::int64_t> until_ms);
  // Bans a user (removing them if a member; conflict if already banned) or unbans one (not_found
  // if not banned).
  task<std::int64_t> ban_member(id_t actor, id_t device, id_t conv, id_t user, bool ban);
  // Stores the user's notification level in conv (already validated); active members only.
  task<notify_record> set_notify(id_t user, id_t conv, const notify_record& level);

  // --- channels (issue 12; store_channels.cpp): conversations of kind channel, whose events are
  // written once to the conversation's log (no stream row per member; only the users an event
  // adds or removes get one). Same roles, rules and moderation as groups.
  // A new channel with actor as owner and only member (title and topic already validated).
  task<id_t> create_channel(id_t actor, id_t device, const std::string& title, const std::string& topic, bool is_public);
  // Public channels whose title or topic contains query (ASCII case folded; "" matches all),
  // after the cursor, by title then id; at most limit.
  task<std::vector<channel_record>> channel_directory(id_t user, const std::string& query, const directory_cursor& after, int limit);
  // One channel: not_found unless it is a channel that is public or has user as an active member.
  task<channel_record> channel(id_t user, id_t conv);
  // Joins a public channel (members_added by the joiner); returns the event's seq. not_found (no
  // such public channel), conflict (already a member), forbidden (banned).
  task<std::int64_t> join_channel(id_t actor, id_t device, id_t conv);
  // The user's active channel memberships with conv > after_conv, ascending; at most limit.
  task<std::vector<channel_head>> channel_heads(id_t user, id_t after_conv, int limit);
  // A page of a channel's active members (user id > after_user); active members only.
  task<member_page> channel_members(id_t user, id_t conv, id_t after_user, int limit);

 // Issue 15: push targets and the push queue, on this store's executor (push_store.hpp).
  push_store& push() { return *push_; }

 private:
  std::unique_ptr<executor> ex_;
  event_sink* sink_ = nullptr;
  std::unique_ptr<send_group> sends_;  // runs queued sends together (set-based on PostgreSQL)
  std::unique_ptr<push_store> push_;
};

}  // namespace confab::storage
