#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/sqlite/fts_tokenizer.hpp"

#include "storage/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <cctype>
#include <chrono>
#include <unordered_map>
#include <vector>

namespace confab::storage::sqlite {
namespace {

// Rewrites PostgreSQL placeholders ($1) to SQLite's numbered ones (?1), outside string literals.
std::string rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_str = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char ch = sql[i];
    if (ch == '\'') in_str = !in_str;
    if (!in_str && ch == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])))
      out += '?';
    else
      out += ch;
  }
  return out;
}

class sqlite_connection final : public connection {
 public:
  explicit sqlite_connection(sqlite3* db) : db_(db) {}
  ~sqlite_connection() override {
    for (auto& [k, st] : cache_) sqlite3_finalize(st);
    for (auto& [k, sts] : control_)
      for (auto* st : sts) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  db_result<rows> query(std::string_view sql, std::span<const param> params) override {
    bool cached = false;
    sqlite3_stmt* st = prepare(sql, cached);
    if (!st) return fail();
    struct reset_guard {
      sqlite3_stmt* s;
      bool cached;
      ~reset_guard() {
        if (!cached) {
          sqlite3_finalize(s);
          return;
        }
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } guard{st, cached};
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = std::visit(
          [&](const auto& v) -> int {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::monostate>) return sqlite3_bind_null(st, idx);
            else if constexpr (std::is_same_v<V, std::int64_t>) return sqlite3_bind_int64(st, idx, v);
            else return sqlite3_bind_text(st, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          },
          params[i]);
      if (rc != SQLITE_OK) return fail();
    }
    rows out;
    const int ncol = sqlite3_column_count(st);
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fail();
      std::vector<cell> cells(ncol);
      for (int c = 0; c < ncol; ++c) {
        const int type = sqlite3_column_type(st, c);
        if (type == SQLITE_NULL) continue;
        if (type == SQLITE_INTEGER) {
          cells[c] = static_cast<std::int64_t>(sqlite3_column_int64(st, c));
          continue;
        }
        auto* txt = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        cells[c].emplace<std::string>(txt, static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
      }
      out.emplace_back(std::move(cells));
    }
    return out;
  }

  db_result<void> exec(std::string_view sql) override {
    if (is_control(sql)) return exec_control(sql);
    std::string s(sql);
    char* msg = nullptr;
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      sqlite3_free(msg);
      return fail();
    }
    return {};
  }

  // The write lock up front: a deferred transaction that reads first and then writes can fail with
  // SQLITE_BUSY when the readers' snapshot is stale, and the batch would be re-run.
  std::string_view begin_write() const override { return "BEGIN IMMEDIATE"; }
  const store_strategy* strategy() const override { return &sqlite::strategy(); }

 private:
  // The statement for sql: from the cache, or prepared and cached; once the cache holds
  // max_cached statements, prepared for this call only (cached = false: finalized after it).
  // Statements built from data (IN lists sized by the request) would otherwise grow it forever.
  sqlite3_stmt* prepare(std::string_view sql, bool& cached) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      cached = true;
      return it->second;
    }
    std::string rewritten = rewrite_placeholders(sql);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, rewritten.c_str(), static_cast<int>(rewritten.size()), &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      return nullptr;
    }
    cached = cache_.size() < max_cached;
    if (cached) cache_.emplace(std::string(sql), st);
    return st;
  }

  // Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE, ROLLBACK): a few fixed texts that
  // the writer runs several times per batch and twice per send; prepared once each instead of
  // parsed by sqlite3_exec at every call (issue 18: that parsing was ~4 us of a one-to-one message).
  static bool is_control(std::string_view sql) {
    for (std::string_view k : {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"})
      if (sql.starts_with(k)) return true;
    return false;
  }

  // Runs each statement of sql in order, as sqlite3_exec does (stops at the first error).
  db_result<void> exec_control(std::string_view sql) {
    auto it = control_.find(sql);
    if (it == control_.end()) {
      std::vector<sqlite3_stmt*> sts;
      const char* p = sql.data();
      const char* end = sql.data() + sql.size();
      while (p < end) {
        sqlite3_stmt* st = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v2(db_, p, static_cast<int>(end - p), &st, &tail) != SQLITE_OK) {
          auto e = fail();
          sqlite3_finalize(st);
          for (auto* x : sts) sqlite3_finalize(x);
          return e;
        }
        if (st) sts.push_back(st);  // null: only white space or a comment was left
        p = tail;
      }
      it = control_.emplace(std::string(sql), std::move(sts)).first;
    }
    for (auto* st : it->second) {
      const int rc = sqlite3_step(st);
      if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        auto e = fail();
        sqlite3_reset(st);
        return e;
      }
      sqlite3_reset(st);
    }
    return {};
  }

  db_result<rows> query_within(std::string_view sql, std::span<const param> params, std::chrono::milliseconds limit) override {
    // SQLite calls the progress handler every 1000 virtual machine steps; past the deadline it
    // interrupts the statement.
    struct deadline {
      std::chrono::steady_clock::time_point at;
      bool hit = false;
    } d{std::chrono::steady_clock::now() + limit};
    sqlite3_progress_handler(
        db_, 1000,
        [](void* p) -> int {
          auto* dl = static_cast<deadline*>(p);
          dl->hit = dl->hit || std::chrono::steady_clock::now() > dl->at;
          return dl->hit ? 1 : 0;
        },
        &d);
    auto r = query(sql, params);
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    if (!r && d.hit) return db_error{errc::limit_reached, "took longer than " + std::to_string(limit.count()) + " ms", false};
    return r;
  }

  db_error fail() {
    int ext = sqlite3_extended_errcode(db_);
    int code = ext & 0xff;
    db_error e{errc::unavailable, sqlite3_errmsg(db_), false};
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      e.code = errc::conflict;
    } else if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      e.retry_transaction = true;
      request_retry(e.message);
    } else if (code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH || code == SQLITE_ERROR) {
      e.code = errc::internal;
    }
    return e;
  }

  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
  };
  static constexpr std::size_t max_cached = 512;  // prepared statements per connection, as PostgreSQL's

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, string_hash, std::equal_to<>> cache_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, string_hash, std::equal_to<>> control_;  // a handful
};

constexpr std::string_view v1 = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);
CREATE INDEX devices_user ON devices(user_id);
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_ms INTEGER NOT NULL
);
CREATE TABLE direct_pairs (
  user_lo INTEGER NOT NULL,
  user_hi INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  PRIMARY KEY (user_lo, user_hi)
) WITHOUT ROWID;
CREATE TABLE members (
  conv_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  role TEXT NOT NULL,
  joined_seq INTEGER NOT NULL,
  left_seq INTEGER,
  read_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id, conv_id);
CREATE TABLE events (
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  sender_id INTEGER NOT NULL,
  device_id INTEGER NOT NULL,
  client_id TEXT,
  ts_ms INTEGER NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  reply_to INTEGER,
  data TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (conv_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_client ON events(device_id, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE stream (
  user_id INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, pos)
) WITHOUT ROWID;
)sql";

// v2 (scale-out): delivery receipts per member, durable last seen per user.
constexpr std::string_view v2 = R"sql(
ALTER TABLE members ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_seen_ms INTEGER;
)sql";

// Profiles: a display name per user, case-insensitive name search (an expression index SQLite uses
// for lower(username) range scans), and when each device last authenticated.
constexpr std::string_view v_profiles = R"sql(
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_active_ms INTEGER;
CREATE INDEX users_lower_name ON users(lower(username));
)sql";

// feeds (storage/feed.hpp): each consumer's cursor, a seq per conversation; keyed by conversation
// first, like every conversation-keyed table (Citus distributes it with conversations).
constexpr std::string_view v_feed = R"sql(
CREATE TABLE feed_cursors (
  consumer TEXT NOT NULL,
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (conv_id, consumer)
) WITHOUT ROWID;
)sql";

// v_changes (i11-changes): reactions, edits and deletes of messages. A message's current text stays
// in events.body (edited_ms: its latest edit; deleted: erased for everyone). reactions: one row per
// user and emoji on a message (event_seq: the reaction event that added it, for a stable order).
// edit_history: each text a message had before an edit (rev 1 = as sent, ts_ms = when that text
// was written, edit_seq = the edited event that replaced it, whose payload holds the next text).
constexpr std::string_view v_changes = R"sql(
ALTER TABLE events ADD COLUMN edited_ms INTEGER;
ALTER TABLE events ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reactions (
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  emoji TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  event_seq INTEGER NOT NULL,
  PRIMARY KEY (conv_id, seq, emoji, user_id)
) WITHOUT ROWID;
CREATE TABLE edit_history (
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  body TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  edit_seq INTEGER NOT NULL,
  PRIMARY KEY (conv_id, seq, rev)
) WITHOUT ROWID;
)sql";

// Threads and mentions (issue 11). events: a reply's root (thread_root), its flags (1: also in the
// conversation, 2: @all, 4: @here) and the members it names (mentions: ids, comma-separated,
// resolved at send time). A thread's replies are paged by (conv_id, thread_root, seq): a partial
// index, so opening a long thread reads one page; with sender_id it also covers the unread counts.
// threads: each root's summary, kept current in the reply's transaction. thread_users: a user's
// follow state and read pointer per thread (keyed by user first, like every user-keyed table).
// mentions: one row per mentioned member per message, listed newest first by (user_id, ts_ms,
// conv_id, seq); its key counts unread mentions; mentions_message finds a deleted message's rows.
constexpr std::string_view v_threads = R"sql(
ALTER TABLE events ADD COLUMN thread_root INTEGER;
ALTER TABLE events ADD COLUMN thread_flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
CREATE INDEX events_thread ON events(conv_id, thread_root, seq, sender_id) WHERE thread_root IS NOT NULL;
CREATE TABLE threads (
  conv_id INTEGER NOT NULL,
  root_seq INTEGER NOT NULL,
  replies INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  participants TEXT NOT NULL,
  PRIMARY KEY (conv_id, root_seq)
) WITHOUT ROWID;
CREATE TABLE thread_users (
  user_id INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  root_seq INTEGER NOT NULL,
  following INTEGER NOT NULL,
  read_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, conv_id, root_seq)
) WITHOUT ROWID;
CREATE TABLE mentions (
  user_id INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, conv_id, seq)
) WITHOUT ROWID;
CREATE INDEX mentions_recent ON mentions(user_id, ts_ms, conv_id, seq);
CREATE INDEX mentions_message ON mentions(conv_id, seq);
)sql";

// moderation: conversation settings (the title stays in conversations), per-member mutes, bans
// and slow-mode post times, pins, and each user's notification level per conversation (keyed by
// user, like every user-keyed table).
constexpr std::string_view v_moderation = R"sql(
CREATE TABLE conv_settings (
  conv_id INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  post_policy TEXT NOT NULL DEFAULT 'everyone',
  pin_policy TEXT NOT NULL DEFAULT 'admins',
  wildcard_limit INTEGER,
  slow_mode_s INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id)
) WITHOUT ROWID;
CREATE TABLE member_moderation (
  conv_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  muted_until_ms INTEGER,
  banned_ms INTEGER,
  last_post_ms INTEGER,
  PRIMARY KEY (conv_id, user_id)
) WITHOUT ROWID;
CREATE TABLE pins (
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  by_id INTEGER NOT NULL,
  pinned_ms INTEGER NOT NULL,
  PRIMARY KEY (conv_id, seq)
) WITHOUT ROWID;
CREATE TABLE notify_levels (
  user_id INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  level TEXT NOT NULL,
  muted_until_ms INTEGER,
  PRIMARY KEY (user_id, conv_id)
) WITHOUT ROWID;
)sql";

// A conversation that has ever had settings or a mute is marked moderated: only sends into it
// read the moderation rows (the send path's check of every other send costs nothing more).
constexpr std::string_view v_moderated = R"sql(
ALTER TABLE conversations ADD COLUMN moderated INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET moderated = 1 WHERE id IN (SELECT conv_id FROM conv_settings)
  OR id IN (SELECT conv_id FROM member_moderation WHERE muted_until_ms IS NOT NULL);
)sql";

// Issue 12, channels: a channel's directory row (its title stays in conversations) with its active
// member count, kept by triggers on members so that every path that adds or removes a member
// (join_channel, add_members, remove_member, leave, ban) keeps it exact without knowing about it.
constexpr std::string_view v_channels = R"sql(
CREATE TABLE channels (
  conv_id INTEGER NOT NULL,
  visibility TEXT NOT NULL,
  topic TEXT NOT NULL DEFAULT '',
  member_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id)
) WITHOUT ROWID;
CREATE INDEX channels_directory ON channels(visibility, conv_id);
CREATE INDEX events_wildcard ON events(conv_id, seq) WHERE thread_flags >= 2;
CREATE TRIGGER channel_member_in AFTER INSERT ON members WHEN NEW.left_seq IS NULL BEGIN
  UPDATE channels SET member_count = member_count + 1 WHERE conv_id = NEW.conv_id;
END;
CREATE TRIGGER channel_member_left AFTER UPDATE OF left_seq ON members
WHEN OLD.left_seq IS NULL AND NEW.left_seq IS NOT NULL BEGIN
  UPDATE channels SET member_count = member_count - 1 WHERE conv_id = NEW.conv_id;
END;
CREATE TRIGGER channel_member_back AFTER UPDATE OF left_seq ON members
WHEN OLD.left_seq IS NOT NULL AND NEW.left_seq IS NULL BEGIN
  UPDATE channels SET member_count = member_count + 1 WHERE conv_id = NEW.conv_id;
END;
)sql";


// Issue 13, search: one row per findable message (its filters) and its terms in an FTS5 table
// cut by Confab's tokenizer (fts_tokenizer.hpp), keyed by the row's doc. Filled by the "search"
// feed consumer; flags: 1 has a link, 2 mentions someone, 4 is a thread reply.
// Feed leases: a consumer that every node runs under one name (the search index) is run by one
// node at a time, the lease's holder until until_ms; wanted_by: who asked for it (feed.hpp).
constexpr std::string_view v_search = R"sql(
CREATE TABLE search_docs (
  doc INTEGER PRIMARY KEY,
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  sender_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  UNIQUE (conv_id, seq)
);
CREATE INDEX search_docs_time ON search_docs(ts_ms, conv_id, seq);
CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize = 'confab');
CREATE TABLE feed_leases (
  consumer TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms INTEGER NOT NULL,
  wanted_by TEXT NOT NULL DEFAULT ''
);
)sql";

// Issue 11: reactions, edits and deletes; threads and mentions; moderation. Issue 12: channels.
// Issue 13: search.
// Issue 15, push: each device's push target (one per device; register replaces it), each device's
// delivered pointer per conversation (a push is skipped once the device has the message), and the
// push queue: one row per (device, message or clear), due at its time, claimed by a node for a
// lease while it sends; kept after the outcome for the "why (not)" explanation, pruned later.
constexpr std::string_view v_push = R"sql(
CREATE TABLE push_targets (
  device_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (device_id)
) WITHOUT ROWID;
CREATE INDEX push_targets_user ON push_targets(user_id);
CREATE TABLE device_receipts (
  device_id INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  delivered_seq INTEGER NOT NULL,
  PRIMARY KEY (device_id, conv_id)
);
CREATE TABLE push_queue (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  conv_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  due_ms INTEGER NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_until_ms INTEGER,
  rule TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (device_id, conv_id, seq, kind)
);
CREATE INDEX push_queue_due ON push_queue(due_ms) WHERE state = 'queued';
CREATE INDEX push_queue_user ON push_queue(user_id, conv_id, seq);
CREATE INDEX push_queue_done ON push_queue(updated_ms) WHERE state <> 'queued';
)sql";

constexpr std::string_view steps[] = {v1, v2, v_profiles, v_feed, v_changes, v_threads, v_moderation, v_moderated, v_channels, v_search, v_push};


}  // namespace

connection_factory make_factory(std::string path) {
  return [path]() -> db_result<std::unique_ptr<connection>> {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return db_error{errc::unavailable, "cannot open " + path + ": " + msg, false};
    }
    sqlite3_busy_timeout(db, 5000);
    auto c = std::make_unique<sqlite_connection>(db);
    if (std::string why; !register_confab_tokenizer(db, why)) return db_error{errc::unavailable, "cannot open " + path + ": " + why, false};
    // secure_delete (i11-changes): freed space is zeroed, so a message deleted for everyone leaves
    // no copy of its text in the file (Debian builds SQLite with it on; this keeps it on anywhere).
    for (auto pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY",
                        "PRAGMA secure_delete=ON"})
      if (auto r = c->exec(pragma); !r) return r.error();
    return std::unique_ptr<connection>(std::move(c));
  };
}

std::span<const std::string_view> migrations() { return steps; }

}  // namespace confab::storage::sqlite
