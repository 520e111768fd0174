// How each backend writes what differs between them: the store is portable SQL, and everything a
// backend does its own way sits behind this interface, one implementation per backend
// (storage/postgres/pg_store.cpp, storage/sqlite/sqlite_store.cpp). A connection hands out its
// backend's strategy (connection::strategy()).
//
// Threads: the strategies are stateless and shared; every call runs on a storage thread with the
// connection it is given, inside the caller's transaction. Errors are values.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"
#include "storage/db.hpp"
#include "search/query.hpp"
#include "storage/executor.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confab::storage {

class event_sink;

// A queued send and where its committed event goes.
struct pending_send {
  send_request req;
  event_sink* sink = nullptr;
  std::int64_t trace() const { return req.trace; }  // issue 17: for the executor's logs
};
using send_item = write_group<pending_send, send_ack>::item;

// A message as the search index holds it (flags: search_flag_*).
struct search_doc {
  id_t conv = 0;
  std::int64_t seq = 0;
  id_t sender = 0;
  std::int64_t ts_ms = 0;
  std::int64_t flags = 0;
  std::string_view text;
};
struct message_key {
  id_t conv = 0;
  std::int64_t seq = 0;
  auto operator<=>(const message_key&) const = default;
};
inline constexpr std::int64_t search_flag_link = 1, search_flag_mention = 2, search_flag_thread = 4;
struct search_match {
  std::string from;
  std::string where;
  std::string arg;
  std::string rank;  // how well d matches, higher is better (empty: no words to rank by)
};

class store_strategy {
 public:
  virtual ~store_strategy() = default;

  // Appends ev (its seq from open_event, store_detail.hpp) to the events and to the stream of
  // every active member of its conversation, with each member's next stream position (pushed onto
  // to), and moves reader's read and delivered pointers up to ev.seq if set. Must not collide with
  // another writer appending for the same users (the backend serialises positions its own way).
  virtual result<nothing> append_event(connection& c, const event& ev, std::vector<recipient>& to,
                                       std::optional<id_t> reader) const = 0;

  // Runs a group of sends (in queue order, none holding a NUL character) as write_group::run
  // documents: sets every item's result (and after_commit hook for the committed ones); returns
  // false if the writes it made must be rolled back. Each send is checked (repeat, conversation,
  // membership via chat::may_post, reply_to; then post policy, mute and slow mode via
  // detail::check_post_moderation) under the conversation's row lock.
  virtual bool run_sends(connection& c, std::span<send_item* const> items) const = 0;

  // expr (a text expression) as one that compares and orders byte-wise (prefix ranges in
  // find_users; the matching index is built with the same expression).
  virtual std::string bytewise(std::string_view expr) const = 0;

  // ---- search (issue 13; store_search.cpp)
  // Puts each doc's terms (search::tokenize of its text) and filters in the search index,
  // replacing what it held for (conv, seq). The docs' keys are distinct.
  virtual result<nothing> search_put(connection& c, std::span<const search_doc> ds) const = 0;
  // Removes each (conv, seq) from the search index (nothing where absent).
  virtual result<nothing> search_remove(connection& c, std::span<const message_key> ks) const = 0;
  // How a search finds q's words: a FROM clause naming search_docs as d, a condition using
  // placeholder $param, that placeholder's value (q has a phrase to include or to exclude), and
  // a rank expression for sorting by relevance (term frequency weighed by the backend's own
  // measure: BM25 on SQLite, ts_rank on PostgreSQL; empty for exclusions alone).
  virtual search_match match(const search::query& q, int param) const = 0;

  // ---- feed leases (feed.cpp)
  // An SQL condition that takes, without waiting, a lock held until the end of the transaction
  // on the feed lease named by placeholder $param, and is false when another transaction holds
  // it. A lease's writes go behind it, so they never wait on the lease row: they are group-
  // committed with sends that hold conversation locks, and a wait there could close a cycle
  // with another node's batch (a deadlock). SQLite has one writer: always true.
  virtual std::string lease_guard(int param) const = 0;

  // ---- queues (push_store.cpp)
  // Runs sql, a statement over a queue table that reaches its rows through an index (in an
  // index's order up to a LIMIT, or by id), with that plan whatever the table's statistics say.
  // A queue's statistics are from some moment and its contents swing between nearly empty and a
  // backlog; PostgreSQL, told few rows were queued, filtered and sorted every due row for a claim
  // (18 ms with 17 000 due) and scanned the whole table to finish a batch by id (up to 200 ms).
  // On PostgreSQL sequential scans, bitmap scans and explicit sorts are turned off for this one
  // statement (inside the caller's transaction); SQLite's planner already takes the index.
  virtual db_result<rows> query_indexed(connection& c, std::string_view sql, std::span<const param> ps) const {
    return c.query_planned(sql, ps);
  }
};

}  // namespace confab::storage
