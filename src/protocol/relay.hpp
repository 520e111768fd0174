// The node-to-node relay format: what one confabd node tells the others over the broker.
//
// A relay payload is one header line of space-separated words, a newline, and a body:
//   E <node> <conv> <kind> <sender> <added csv|-> <removed csv|-> <user:pos,...|->   body: event JSON
//   C <node> <conv> <kind> <sender> <added csv|-> <removed csv|-> <user:pos,...|-> <seq>   body: event JSON
//     (issue 12: an event of a channel; its seq, for the channel_event frame of every member online)
//   Either may end with one more word t<trace id> (issue 17: a traced message; the id is decimal,
//   positive): receivers record its hops.
//   T <node> <conv> <user> <0|1> <username> [<thread root seq>]                     body: empty
//   R <node> <conv>                                                                body: receipt frame JSON
//   P <node> <user> <0|1> <last_seen_ms|->                                         body: empty
//   X <node>                                                                       body: empty
//   K <node> <device>                                                              body: empty
//   Q <node> <query id> <kind>                                                     body: arguments (JSON)
//   A <node> <to node> <query id>                                                  body: answer (JSON)
//     (issue 17: a cluster query from an admin operation, on confab:all, and each node's answer,
//     on the asking node's own channel n:<node>; <kind> is a word of a-z and _)
// <node> names the sender (broker::node_id), so a node can skip its own messages. Numbers are
// decimal; ids and positions are positive, last_seen is not negative; <kind> is an event kind's
// name (to_string(event_kind)).
//
// Pure functions: no I/O, no state, thread-safe. The decoder reads payloads from the broker, which
// any process that reaches Redis can write to, so it takes any bytes: malformed input is a typed
// error (errc::malformed for a bad shape, errc::invalid_field for a bad value, errc::too_large
// over the limits below), never a crash, and what it allocates is bounded by the payload's size.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::protocol::relay {

inline constexpr std::size_t max_payload_bytes = 64 * 1024 * 1024;
inline constexpr std::size_t max_list_items = 1 << 20;  // per id or recipient list

// A committed event (E), with the positions it took in its recipients' streams.
struct event_note {
  std::string node;
  id_t conv = 0;
  event_kind kind = event_kind::message;
  id_t sender = 0;
  std::vector<id_t> added, removed;  // members the event adds / removes
  std::vector<recipient> to;
  std::string event_json;  // the event as protocol::event_json wrote it
  std::int64_t channel_seq = 0;  // issue 12: a channel's event (C): its seq; 0 for other events (E)
  std::int64_t trace = 0;        // issue 17: the trace id of a traced message; 0: not traced
  bool operator==(const event_note& o) const;
};

// A member started (active) or stopped typing (T).
struct typing_note {
  std::string node;
  id_t conv = 0;
  id_t user = 0;
  bool active = false;
  std::string username;  // one word: usernames have no spaces
  std::optional<std::int64_t> thread;  // issue 11: typing in the thread of this root (positive)
  bool operator==(const typing_note&) const = default;
};

// A member's receipt pointers changed (R); frame is the receipt frame sessions receive.
struct receipt_note {
  std::string node;
  id_t conv = 0;
  std::string frame;
  bool operator==(const receipt_note&) const = default;
};

// A user went online or offline everywhere (P).
struct presence_note {
  std::string node;
  id_t user = 0;
  bool online = false;
  std::optional<std::int64_t> last_seen;  // ms since the epoch, when offline
  bool operator==(const presence_note&) const = default;
};

// Every session on every node re-reads storage (X): a commit's announcement may be lost.
struct resync_note {
  std::string node;
  bool operator==(const resync_note&) const = default;
};

// Close every session of a device (K): it was revoked.
struct kick_note {
  std::string node;
  id_t device = 0;
  bool operator==(const kick_note&) const = default;
};

// A cluster query (Q): every node answers it with what it knows locally (gateway/cluster_query.hpp).
struct query_note {
  std::string node;
  std::int64_t id = 0;  // positive, unique per asking node
  std::string kind;     // 1..32 of a-z and _
  std::string args;     // JSON (not parsed here)
  bool operator==(const query_note&) const = default;
};

// One node's answer (A) to query id of node to.
struct answer_note {
  std::string node;
  std::string to;
  std::int64_t id = 0;
  std::string body;  // JSON (not parsed here)
  bool operator==(const answer_note&) const = default;
};

using note = std::variant<event_note, typing_note, receipt_note, presence_note, resync_note, kick_note, query_note, answer_note>;

std::string encode(const event_note& n);
std::string encode(const typing_note& n);
std::string encode(const receipt_note& n);
std::string encode(const presence_note& n);
std::string encode(const resync_note& n);
std::string encode(const kick_note& n);
std::string encode(const query_note& n);
std::string encode(const answer_note& n);
std::string encode(const note& n);

// The note a payload carries, or a typed error (see the file comment).
result<note> decode(std::string_view payload);

// The sender's node id of a payload without decoding the rest ("" if there is none): a node skips
// its own payloads before paying for a full decode.
std::string_view sender_of(std::string_view payload);

}  // namespace confab::protocol::relay
