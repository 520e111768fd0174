// Push notifications' durable state (issue 15): each device's push target, the push queue, and the
// facts a push decision reads. The rules themselves are in docs/push.md ("When a push is sent").
//
// The queue. The "push" feed consumer puts each committed message through enqueue(): one row per
// recipient device with a target that the enqueue-time rules let through (active member at that
// seq, not the sender, notification level, muted-until, mentions, thread following), due at the
// message's time plus the grace period. Rows are unique per (device, conv, seq, kind), so a batch
// the feed delivers twice queues nothing twice. Any node's worker claim()s due rows for a lease:
// the claim is one UPDATE whose WHERE re-checks that the row is still unclaimed, so on PostgreSQL
// two nodes racing for a row serialise on its row lock and the second skips it; a row is sent by
// one node at a time. finish() records the outcome, only by the claim's holder. A node that dies
// mid-send leaves its claims to expire; another node then sends them again (the one window where
// a device can get a push twice: sent, then the node died before finish committed).
//
// Clears. When a member's read pointer moves (store::mark_read), clear_on_read() queues one
// "clear" row per other device that was sent a push for a message now read (or is being sent
// one: its row is claimed), in the same transaction as the pointer. A clear is not claimed while
// a message push to the same device and conversation is claimed, so it never overtakes it.
//
// Threads: the calls run on the storage executor (reads on a reader, writes group-committed on the
// writer) and resume on the caller's executor. Errors: errc::unavailable when the database failed,
// errc::invalid_field for arguments out of range.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"
#include "storage/db.hpp"
#include "storage/executor.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::storage {

struct push_target_record {
  id_t device = 0;
  id_t user = 0;
  std::string kind;    // "fcm" | "apns" | "webpush"
  std::string target;  // the registration as the device sent it, validated (push::parse_target)
};

// A claimed queue row with what its send needs, read when claimed.
struct push_job {
  std::int64_t id = 0;
  id_t device = 0;
  id_t user = 0;
  id_t conv = 0;
  std::int64_t seq = 0;
  std::string kind;  // "message" | "clear"
  int attempts = 0;  // including this one
  std::int64_t due_ms = 0;
  std::string rule;  // why it was queued ("all", "mention", "thread", "read")
  std::optional<push_target_record> target;  // nullopt: the device has no target any more
  std::int64_t device_delivered = 0;         // the device's delivered pointer in conv
  bool member = false;                       // the user is still an active member of conv
  std::int64_t read_seq = 0;                 // the member's read pointer
  std::int64_t unread = 0;                   // the user's badge: unread over unmuted conversations
  std::string sender;                        // the message's sender's username ("" for a clear)
  std::string text;                          // its current text ("" deleted, or a clear)
  std::string content_type;                  // the message's (previews only of "text/plain")
  bool deleted = false;
};

// How a claimed row ended. state: "sent", "skipped" (no longer needed: delivered, read, deleted,
// no target), "dead" (the provider says the target is gone: it is removed), "rejected" (the
// provider refused it for good), "failed" (out of attempts), or "queued" with retry_at (again later).
struct push_outcome {
  std::int64_t id = 0;
  std::string state;
  std::string detail;
  std::optional<std::int64_t> retry_at_ms;
  std::string dead_target;  // state "dead": the target text that was refused (removed only if still current)
  int attempt = 0;          // the claim's attempt (push_job::attempts): a result of an older claim is ignored
};

// One queue row, for the explanation (push_explain) and for tests.
struct push_row {
  id_t device = 0;
  std::string kind;
  std::string state;
  std::string rule;
  std::string detail;
  int attempts = 0;
  std::int64_t due_ms = 0;
  std::int64_t updated_ms = 0;
  id_t user = 0;
  std::int64_t created_ms = 0;
  std::string node;  // the node that ended it (a finished row), or that holds its claim; "" if none
};

// The facts the enqueue-time rules read for one user and message, as they are now.
struct push_facts {
  bool member_at_seq = false;
  bool sender = false;
  std::string level = "all";  // the member's own, else the conversation kind's default (chat::default_notify_level)
  std::optional<std::int64_t> muted_until;
  bool mentioned = false;    // by name or @all (not @here: it is for those online)
  bool thread_reply = false;  // a thread reply not also shown in the conversation
  bool following = false;     // the user follows its thread
  bool exists = false;        // the message exists and is a message
  std::int64_t ts_ms = 0;     // its time (a mute counts if it lasted past it)
  std::vector<push_target_record> targets;  // the user's devices' targets
};

class push_store {
 public:
  explicit push_store(executor& ex) : ex_(ex) {}

  // Sets the device's target, replacing any (unauthenticated if the device was revoked meanwhile);
  // removes it (true if there was one).
  task<nothing> set_target(const push_target_record& t);
  task<bool> remove_target(id_t device);
  task<std::optional<push_target_record>> target(id_t device);

  // Queues the pushes of evs' messages (other events are ignored), due at ts + grace_ms. How many
  // rows were queued (a repeat of a batch queues 0).
  task<std::int64_t> enqueue(std::vector<event> evs, std::int64_t grace_ms);
  // Claims up to limit due rows (due_ms <= now) for holder until now + lease_ms, with what their
  // sends need. limit 1..1000. One statement on the writer claims them; their facts are read
  // after its commit on a reader (two statements for the batch). If that read fails, the error is
  // returned and the rows stay claimed until the lease ends.
  // Only rows whose device's target is of one of providers ("fcm", "apns", "webpush"), or has
  // no target any more (to be skipped): a node claims only what it can send.
  task<std::vector<push_job>> claim(std::string holder, int limit, std::int64_t lease_ms, std::vector<std::string> providers);
  task<std::vector<push_job>> claim(std::string holder, int limit, std::int64_t lease_ms);  // every provider
  // Records outcomes of holder's claims (rows no longer claimed by holder at that attempt are left
  // alone, and so is a row that ended already: recording outcomes twice changes nothing), 500 per
  // statement. A row that ends keeps holder as the node that ended it. A message push that ends "sent" although the member has read it meanwhile (a read that
  // raced the claim on another node) gets its clear here.
  task<nothing> finish(std::string holder, std::vector<push_outcome> outcomes);
  // The earliest due time of a queued row that no one holds (a worker sleeps until then).
  task<std::optional<std::int64_t>> next_due();
  // Deletes finished rows last changed before before_ms, at most limit; how many. Queued rows due
  // before before_ms that no one holds (a provider no node sends to any more) end "failed" first,
  // and go with a later prune.
  task<std::int64_t> prune(std::int64_t before_ms, int limit);
  // Rows queued (due or not, claimed or not), for metrics.
  task<std::int64_t> queued();

  // Every queue row of user's devices for (conv, seq) (its clears: seq is the read pointer).
  task<std::vector<push_row>> rows(id_t user, id_t conv, std::int64_t seq);
  task<push_facts> facts(id_t user, id_t conv, std::int64_t seq);
  // Every message push queued for (conv, seq), to any user's device (a message's trace).
  task<std::vector<push_row>> message_rows(id_t conv, std::int64_t seq);

 private:
  executor& ex_;
};

namespace detail {
// In store::mark_read's transaction: user (reading on device) read conv up to read_seq. Queues a
// clear for each of user's other devices that was sent a push for a message at or below read_seq,
// and marks those pushes cleared.
result<nothing> clear_on_read(connection& c, id_t user, id_t device, id_t conv, std::int64_t read_seq);
// In the same transactions: the device's delivered pointer in conv moves up to seq.
result<nothing> device_delivered(connection& c, id_t device, id_t conv, std::int64_t seq);
// "column is 'queued'", for statements that pick queue rows by id. Not written `= 'queued'`:
// PostgreSQL could answer that through push_queue_due (whose predicate it is), and with statistics
// from a moment few rows were queued it did, reading every queued row (20 000) to find a batch's
// 500 ids (7-200 ms a statement). This form does not imply the index's predicate: ids are looked up.
inline std::string still_queued(std::string_view column) { return std::string(column) + " IN ('queued', '')"; }
// The badges of users (one statement): per user, unread messages by others in the conversations
// whose level is "all" and that are not muted, plus unread mentions in those whose level is
// "mentions"; each conversation counts up to cap. Users with nothing unread are absent. window:
// how many seqs after a read pointer one shared scan covers (a tuning knob, not a semantic one;
// tests make it small to reach the path past it).
inline constexpr std::int64_t badge_cap = 1000, badge_window = 4000;
result<std::map<id_t, std::int64_t>> push_badges(connection& c, const std::vector<id_t>& users,
                                                 std::int64_t window = badge_window, std::int64_t cap = badge_cap);
}  // namespace detail

}  // namespace confab::storage
