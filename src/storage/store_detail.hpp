// Internal to the storage module: what the store's feature files (store_*.cpp) and the send group
// share — error conversion, the events row mapping, membership loading and the event append.
// Not a public interface; nothing outside src/storage includes it.
//
// Every function runs on a storage thread with the connection it is given, inside the caller's
// transaction (writes: the executor's batch), and returns errors as values.
#pragma once

#include "chat/rules.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "storage/db.hpp"
#include "storage/executor.hpp"
#include "storage/store.hpp"
#include "storage/strategy.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confab::storage::detail {

inline error to_error(const db_error& e) { return make_error(e.code, e.message); }
inline const error& to_error(const error& e) { return e; }

#define CONFAB_TRY(var, expr) \
  auto var = (expr);          \
  if (!var) return ::confab::storage::detail::to_error(var.error())

// The events columns, in the order to_event reads them.
inline constexpr std::string_view event_cols =
    "conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, content_type, reply_to, data"
    // issue 11: a message's edit time and deleted flag (store_changes.cpp), then its thread and
    // mention fields (store_threads.cpp)
    ", edited_ms, deleted, thread_root, thread_flags, mentions";
// event_cols with each column as alias.column, for a query that joins events under alias.
std::string event_cols_of(std::string_view alias);
// The one mapping from an events row (event_cols, from column o on) to an event; a stored kind or
// payload this build cannot read is errc::internal.
result<event> to_event(const row& r, std::size_t o = 0);
// Typed cells: a stored kind or role this build does not know is errc::internal.
result<conv_kind> kind_cell(const row& r, std::size_t i);
result<conv_role> role_cell(const row& r, std::size_t i);

struct membership {
  conv_kind kind = conv_kind::group;  // the conversation's kind
  conv_role role = conv_role::none;   // none if never a member
  std::optional<std::int64_t> left_seq;
  std::int64_t last_seq = 0;
  bool active() const { return role != conv_role::none && !left_seq; }
  // What the rules (chat/rules.hpp) see: a former member has no role.
  chat::member_view view() const { return {active() ? role : conv_role::none}; }
};

// The conversation's kind and the user's membership in it; not_found if the conversation is missing.
result<membership> load_membership(connection& c, id_t conv, id_t user);
// The same, forbidden unless the user is an active member.
result<membership> require_active(connection& c, id_t conv, id_t user);

// "($first, $first+1, ...)": a placeholder list for n values.
std::string placeholders(int first, std::size_t n);
// The rows of a VALUES list for pairs: "(CAST($k AS BIGINT), CAST($k+1 AS BIGINT)), ...", numbered
// on from ps's size, each pair's values appended to ps. To read a table by such keys, join it on
// pair_table (below), not "(a, b) IN (VALUES ...)".
std::string pair_values(std::vector<param>& ps, std::span<const std::pair<id_t, std::int64_t>> pairs);
// A derived table of the distinct pairs, columns column1 and column2, to JOIN a table on by its
// key: "(a, b) IN (VALUES ...)" with more than one pair makes SQLite scan the whole table.
std::string pair_table(std::vector<param>& ps, std::span<const std::pair<id_t, std::int64_t>> pairs);
// not_found naming the first of users (sorted, unique, non-empty) that does not exist.
result<nothing> require_users(connection& c, const std::vector<id_t>& users);
// Inserts (or re-activates) users as members joining at joined_seq, in one statement.
result<nothing> upsert_members(connection& c, id_t conv, const std::vector<id_t>& users, std::int64_t joined_seq);

// ---- appending an event: open_event, then the rules, then append_event, in one transaction.

// The conversation's row, locked: its last_seq moved up by one (the new event's seq) and its
// activity time set. On PostgreSQL the UPDATE takes the row lock, waiting for any other writer of
// this conversation to commit, so every statement after it reads a snapshot that includes that
// writer's changes: membership and role checks made after open_event are made under the lock, and
// no other writer can change the conversation's members until this transaction ends. A write whose
// rules then refuse it returns its error; the executor rolls its savepoint (and the seq) back.
struct opened {
  conv_kind kind = conv_kind::group;  // the conversation's kind
  std::int64_t seq = 0;
};
result<opened> open_event(connection& c, id_t conv, std::int64_t ts_ms);

// Appends ev (ev.seq from open_event) to its conversation and to the stream of every active member
// (in a channel: of the members it adds or removes, stream_filter; ev.channel is set) with that member's next stream position, and arranges for the sink to see it after commit. If
// reader is set, that member's read pointer moves up to the new seq.
result<nothing> append_event(write_context& ctx, event ev, event_sink* sink, std::optional<id_t> reader = std::nullopt);

// issue 12: whether conv is a channel (free right after open_event of conv on this thread).
result<bool> is_channel(connection& c, id_t conv);
// The condition on members m ("" for a conversation that is not a channel) that selects whose
// streams get ev: in a channel only the users ev adds or removes (membership_change); nullopt
// when that is nobody (a message, a reaction ...: the channel's log alone holds it).
std::optional<std::string> stream_filter(const event& ev);

// open_event + append_event, for events that need no rule checked under the lock (a new conversation).
result<std::int64_t> commit_event(write_context& ctx, event ev, event_sink* sink);

event membership_event(id_t conv, event_kind kind, id_t actor, id_t device, event_payload payload);

// Hands ev to the sink after commit (chained after any hook already set).
void announce(write_context& ctx, event_sink* sink, event ev, std::vector<recipient> to);

// ---- sends (both backends' strategies)

// A send's checks: its original ack if (device, client_id) was seen before, else the error that
// refuses it (chat::may_post for membership), else nothing (it may be appended). row, from
// column o on: d.conv_id, d.seq, d.ts_ms, cv.kind, cv.last_seq, m.role, m.left_seq, from the
// duplicate/membership query.
std::optional<result<send_ack>> check_send(const send_request& req, const row& row, std::size_t o);
// The message event a send appends (seq still 0).
event message_event(const send_request& req, std::int64_t ts);

// ---- issue 11: what a viewer sees of messages now

// Sets each message's state as viewer sees it now: its reactions (decorate_changes) and, on a
// thread root, the thread's summary (decorate_threads); one query each. Call wherever events are
// read for a viewer (history, the stream, thread pages, threads, mentions, pins).
result<nothing> decorate(connection& c, id_t viewer, const std::vector<event*>& evs);
result<nothing> decorate(connection& c, id_t viewer, std::vector<event>& evs);

// ---- reactions, edits and deletes (store_changes.cpp)

// The reactions of the message events in evs: count per emoji, and whether viewer reacted.
result<nothing> decorate_changes(connection& c, id_t viewer, const std::vector<event*>& evs);
// ---- threads and mentions (issue 11; store_threads.cpp)

// An events filter (appended after other conditions): the events the conversation's own view shows,
// without thread replies that were not also sent to the conversation (last_message, unread).
inline constexpr std::string_view shown_in_conversation = " AND (thread_root IS NULL OR thread_flags % 2 = 1)";

// The stored forms of a message's thread and mention fields (events.thread_flags, events.mentions).
std::int64_t thread_flags(const event& ev);
std::string mentions_text(const std::vector<id_t>& ids);
// Reads them back into ev (errc::internal for a corrupt cell).
result<nothing> read_thread_cells(event& ev, std::int64_t flags, const std::string& mentions);

// Whether a send needs the thread/mention steps below (a reply, or any @ token).
bool has_thread_work(const send_request& req);
// A send's thread and mention checks, under the conversation's lock, after check_send passed:
// the root (a message of this conversation, not itself a reply), the wildcard rule (@all/@here
// above req.wildcard_limit members: owners and admins only) and the resolution of @usernames to
// active members (written to req.mentions). Typed errors for the caller's mistakes.
result<nothing> check_thread_send(connection& c, send_request& req);
// After the send's event (seq, ts) was appended: the root's summary, follows, the sender's thread
// read pointer and the mention rows, in the same transaction.
result<nothing> apply_thread_send(connection& c, const send_request& req, std::int64_t seq, std::int64_t ts);
// The current thread summary of every root among evs, for viewer: one query per call. Roots of
// conversations where viewer is not an active member get none (it counts replies after a removal).
result<nothing> decorate_threads(connection& c, id_t viewer, const std::vector<event*>& evs);
// issue 12: a channel's capped unread and unread-mention counts and its directory fields
// (store_channels.cpp).
result<nothing> fill_channel_summary(connection& c, id_t user, conversation_summary& s);
// The user's unread mentions in s.id (above s.read_seq).
result<nothing> fill_unread_mentions(connection& c, id_t user, conversation_summary& s);
// ---- moderation (store_moderation.cpp, store_moderation_send.cpp)

// A user's membership as the moderation rules see it: the conversation's kind, and the role,
// mute and ban (not_found if the conversation is missing).
struct moderated {
  conv_kind kind = conv_kind::group;
  chat::member_view view;
  std::optional<std::int64_t> left_seq;
  bool member_row = false;  // has a members row (active or former)
};
result<moderated> load_moderated(connection& c, id_t conv, id_t user);
// The conversation's settings (defaults when never set).
result<conversation_summary::settings_view> load_settings(connection& c, id_t conv, std::string* description = nullptr);
// forbidden naming the first of users (sorted) who is banned from conv (chat::may_be_added).
result<nothing> refuse_banned(connection& c, id_t conv, const std::vector<id_t>& users);
// Fills a summary's description, settings, and the user's notification level and mute.
result<nothing> fill_moderation(connection& c, id_t user, conversation_summary& s);
// The moderation of sends that passed check_send (active members) into conversations marked
// moderated (conversations.moderated; the others have the defaults), under their conversations'
// locks: post policy, mute and slow mode (chat::may_post_under). Records the time of every
// accepted send that slow mode limits. Returns per send (same order) nullopt (append it) or the
// error that refuses it. Sends of one member in one conversation are judged in order.
result<std::vector<std::optional<error>>> check_post_moderation(connection& c, std::span<const send_request* const> sends,
                                                                std::int64_t now_ms);
// The same for one send: its refusal as the error.
result<nothing> check_post_moderation(connection& c, const send_request& send, std::int64_t now_ms);
// Marks a conversation moderated (it has settings or a mute): only sends into such
// conversations read the moderation rows. Called under the conversation's row lock.
result<nothing> mark_moderated(connection& c, id_t conv);

// Events by (conv, seq), in the order of keys (those that exist); one statement.
result<std::vector<event>> events_at(connection& c, const std::vector<std::pair<id_t, std::int64_t>>& keys);
// A page of a list ordered newest first by (ms, conv, seq): r's rows are (conv, seq, ms), at most
// limit + 1 of them (one more says there is a next page); the events as viewer sees them now.
result<event_list_page> keyset_page(connection& c, id_t viewer, const rows& r, int limit);
// The keyset condition "(ms, conv, seq) < cursor" over the given columns, placeholders from first.
std::string before_cursor(std::string_view ms, std::string_view conv, std::string_view seq, int first);

}  // namespace confab::storage::detail
