#include "storage/postgres/pg_backend.hpp"

#include "core/log.hpp"
#include "storage/postgres/pg_store.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace confab::storage::postgres {
namespace {

constexpr Oid int8_oid = 20, int2_oid = 21, int4_oid = 23;  // likewise
constexpr Oid bool_oid = 16;             // pg_type.h is a server header; the OID is stable
constexpr std::size_t max_cached = 512;  // prepared statements per connection; beyond: unnamed
constexpr std::int64_t default_statement_timeout_ms = 30000;  // every statement's bound (query_within sets its own)

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, result_deleter>;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// libpq messages end in a newline and may span lines ("FATAL: ...\nserver closed the connection
// unexpectedly\n\tThis probably means ..."): one line, single spaces, for the log.
std::string one_line(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (!space) out += *p;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// WARNINGs (client_min_messages filters the rest) go to the structured log, not raw stderr.
void on_notice(void*, const PGresult* r) {
  const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  log::warn("postgres notice", "\"sqlstate\":" + boost::json::serialize(boost::json::string(state ? state : "")) +
                                   ",\"detail\":" + boost::json::serialize(boost::json::string(msg ? msg : "")));
}

class pg_connection final : public connection {
 public:
  explicit pg_connection(PGconn* c) : conn_(c) {}
  ~pg_connection() override { PQfinish(conn_); }
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  db_result<rows> query(std::string_view sql, std::span<const param> params) override { return run(sql, params, true); }
  db_result<rows> query_planned(std::string_view sql, std::span<const param> params) override {
    return run(sql, params, false);
  }

 private:
  db_result<rows> run(std::string_view sql, std::span<const param> params, bool cached) {
    if (params.size() > 65535) return db_error{errc::internal, "postgres: too many parameters", false};
    const int n = static_cast<int>(params.size());
    // Text-format parameters are NUL-terminated C strings (libpq ignores lengths for them), so
    // each value is copied into its own std::string first; NULL is a null pointer.
    bufs_.resize(params.size());
    values_.assign(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const param& p = params[i];
      if (const auto* v = std::get_if<std::int64_t>(&p)) {
        char tmp[24];
        auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, *v);
        bufs_[i].assign(tmp, end);
      } else if (const auto* s = std::get_if<std::string_view>(&p)) {
        if (std::memchr(s->data(), '\0', s->size()))
          return db_error{errc::invalid_field,
                          "parameter $" + std::to_string(i + 1) + " contains a NUL byte, which PostgreSQL text cannot hold",
                          false};
        bufs_[i].assign(*s);
      } else {
        continue;  // std::monostate: NULL
      }
    }
    for (std::size_t i = 0; i < params.size(); ++i)
      if (!std::holds_alternative<std::monostate>(params[i])) values_[i] = bufs_[i].c_str();

    pg_result res;
    auto name = cached ? prepare(sql) : db_result<const char*>(nullptr);
    if (!name) return name.error();
    if (*name) {
      res.reset(PQexecPrepared(conn_, *name, n, values_.data(), nullptr, nullptr, 0));
    } else {  // planned each time, or the cache is full: an unnamed statement, types still inferred by the server
      std::string text(sql);
      res.reset(PQexecParams(conn_, text.c_str(), n, nullptr, values_.data(), nullptr, nullptr, 0));
    }
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
      if (silent_rollback(sql, res.get())) return rolled_back();
      return rows{};
    }
    if (st != PGRES_TUPLES_OK) return fail(res.get(), st);

    const int nrow = PQntuples(res.get());
    const int ncol = PQnfields(res.get());
    rows out;
    out.reserve(static_cast<std::size_t>(nrow));
    for (int r = 0; r < nrow; ++r) {
      std::vector<cell> cells(static_cast<std::size_t>(ncol));
      for (int c = 0; c < ncol; ++c) {
        if (PQgetisnull(res.get(), r, c)) continue;
        const char* v = PQgetvalue(res.get(), r, c);
        const auto len = static_cast<std::size_t>(PQgetlength(res.get(), r, c));
        const Oid type = PQftype(res.get(), c);
        if (type == bool_oid) {
          cells[c] = std::int64_t{v[0] == 't' ? 1 : 0};  // as SQLite returns it
        } else if (type == int8_oid || type == int4_oid || type == int2_oid) {
          std::int64_t num = 0;
          auto [end, ec] = std::from_chars(v, v + len, num);
          if (ec != std::errc{} || end != v + len) return db_error{errc::internal, "postgres: unreadable integer cell", false};
          cells[c] = num;
        } else {
          cells[c].emplace<std::string>(v, len);
        }
      }
      out.emplace_back(std::move(cells));
    }
    return out;
  }

 public:
  db_result<void> exec(std::string_view sql) override {
    std::string text(sql);
    pg_result res(PQexec(conn_, text.c_str()));
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
      if (silent_rollback(sql, res.get())) return rolled_back();
      return {};
    }
    return fail(res.get(), st);
  }

  const store_strategy* strategy() const override { return &postgres::strategy(); }

 private:
  // The cached statement's name; nullptr when the cache is full (run it unnamed instead).
  db_result<const char*> prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.c_str();
    if (cache_.size() >= max_cached) return nullptr;
    std::string name = "confab_" + std::to_string(cache_.size() + 1);
    std::string text(sql);
    pg_result res(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK) return fail(res.get(), st);
    return cache_.emplace(std::move(text), std::move(name)).first->second.c_str();
  }

  // COMMIT of a transaction in which a statement failed (and was not rolled back to a savepoint)
  // "succeeds" with the command tag ROLLBACK: nothing was committed. That must not read as a
  // durable commit, so it is reported as an error.
  static bool silent_rollback(std::string_view sql, PGresult* res) {
    if (std::strcmp(PQcmdStatus(res), "ROLLBACK") != 0) return false;
    std::string upper(sql);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return upper.find("ROLLBACK") == std::string::npos && upper.find("ABORT") == std::string::npos;
  }

  static db_error rolled_back() {
    return db_error{errc::internal,
                    "postgres: COMMIT did not commit: a statement of the transaction had failed, so the server rolled it back", false};
  }

  db_result<rows> query_within(std::string_view sql, std::span<const param> params, std::chrono::milliseconds limit) override {
    // Reads run outside transactions: the setting holds for this statement and is reset after.
    if (auto set = exec("SET statement_timeout = " + std::to_string(std::max<std::int64_t>(1, limit.count()))); !set)
      return set.error();
    auto r = query_planned(sql, params);
    const bool canceled = !r && r.error().message.find("SQLSTATE 57014") != std::string::npos;
    // Back to the connection's own bound (make_factory), not to none.
    if (auto reset = exec("SET statement_timeout = " + std::to_string(default_statement_timeout_ms)); !reset && r)
      return reset.error();
    if (canceled) return db_error{errc::limit_reached, "took longer than " + std::to_string(limit.count()) + " ms", false};
    return r;
  }

  db_error fail(const PGresult* res, ExecStatusType st) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view code = state ? state : "";
    // The primary message only: DETAIL would copy row values (tokens, names) into logs.
    std::string msg = res ? one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)) : "";
    if (msg.empty()) msg = one_line(PQerrorMessage(conn_));
    if (msg.empty()) msg = std::string("unexpected result ") + PQresStatus(st);
    if (!code.empty()) msg += " (SQLSTATE " + std::string(code) + ")";
    db_error e{errc::internal, "postgres: " + msg, false};

    if (PQstatus(conn_) != CONNECTION_OK || (code.starts_with("08") && code != "08P01") || code.starts_with("57P")) {
      // Lost connection, or the server is shutting down / restarting: the executor reconnects.
      // (08P01 is a protocol violation such as a wrong parameter count: a bug, not a lost link.)
      e.code = errc::unavailable;
      mark_broken(e.message);
    } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
      e.message = "postgres: COPY is not supported";
      mark_broken(e.message);  // the connection is stuck in COPY mode; drop it
    } else if (code == "23505") {
      e.code = errc::conflict;
    } else if (code == "40P01" || code == "40001") {
      e.code = errc::unavailable;
      e.retry_transaction = true;
      request_retry(e.message);
    } else if (code.starts_with("53") || code == "57014" || code == "55P03") {
      // Out of disk/memory/connections, statement timeout, lock timeout: temporary.
      e.code = errc::unavailable;
    }
    return e;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> cache_;  // SQL -> name
  std::vector<std::string> bufs_;                                                      // parameter text
  std::vector<const char*> values_;
};

constexpr std::string_view v1 = R"sql(
CREATE TABLE users (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE devices (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_ms BIGINT NOT NULL,
  revoked_ms BIGINT
);
CREATE INDEX devices_user ON devices(user_id);
CREATE TABLE conversations (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  last_ms BIGINT NOT NULL
);
CREATE TABLE direct_pairs (
  user_lo BIGINT NOT NULL,
  user_hi BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  PRIMARY KEY (user_lo, user_hi)
);
CREATE TABLE members (
  conv_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  role TEXT NOT NULL,
  joined_seq BIGINT NOT NULL,
  left_seq BIGINT,
  read_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id, user_id)
);
CREATE INDEX members_user ON members(user_id, conv_id);
CREATE TABLE events (
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  sender_id BIGINT NOT NULL,
  device_id BIGINT NOT NULL,
  client_id TEXT,
  ts_ms BIGINT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  reply_to BIGINT,
  data TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (conv_id, seq)
);
CREATE UNIQUE INDEX events_client ON events(device_id, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE stream (
  user_id BIGINT NOT NULL,
  pos BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (user_id, pos)
);
)sql";

// v2 (scale-out): delivery receipts per member, durable last seen per user.
constexpr std::string_view v2 = R"sql(
ALTER TABLE members ADD COLUMN delivered_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_seen_ms BIGINT;
)sql";

// Profiles: a display name per user, case-insensitive name search (an expression index in byte
// order, so prefix ranges on lower(username) COLLATE "C" use it), and when each device last
// authenticated.
constexpr std::string_view v_profiles = R"sql(
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_active_ms BIGINT;
CREATE INDEX users_lower_name ON users ((lower(username)) COLLATE "C");
)sql";

// v4 (writers on several nodes): each user's stream head in a row of its own. A writer moves the
// heads of an event's recipients up (locking their rows in ascending user id) instead of reading
// MAX(pos) from the stream, where writers on two nodes appending for one user took the same
// position and one re-ran its whole batch. Every user with stream rows gets a head row here;
// users without one get theirs with their first stream row. Every node must run this version:
// an older one would still append at MAX(pos) + 1 without moving the head.
// fillfactor 50: heads are updated far more often than anything else per row, and free room on
// the page keeps those updates HOT (no index entry per update).
constexpr std::string_view v_user_heads = R"sql(
CREATE TABLE user_heads (
  user_id BIGINT NOT NULL PRIMARY KEY,
  head BIGINT NOT NULL
) WITH (fillfactor = 50);
INSERT INTO user_heads (user_id, head) SELECT user_id, MAX(pos) FROM stream GROUP BY user_id;
)sql";

// feeds (storage/feed.hpp): each consumer's cursor, a seq per conversation; keyed by conversation
// first, like every conversation-keyed table (Citus distributes it with conversations).
constexpr std::string_view v_feed = R"sql(
CREATE TABLE feed_cursors (
  consumer TEXT NOT NULL,
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (conv_id, consumer)
);
)sql";

// v_changes (i11-changes): reactions, edits and deletes of messages. A message's current text stays
// in events.body (edited_ms: its latest edit; deleted: erased for everyone). reactions: one row per
// user and emoji on a message (event_seq: the reaction event that added it, for a stable order).
// edit_history: each text a message had before an edit (rev 1 = as sent, ts_ms = when that text
// was written, edit_seq = the edited event that replaced it, whose payload holds the next text).
constexpr std::string_view v_changes = R"sql(
ALTER TABLE events ADD COLUMN edited_ms BIGINT;
ALTER TABLE events ADD COLUMN deleted SMALLINT NOT NULL DEFAULT 0;
CREATE TABLE reactions (
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  emoji TEXT NOT NULL,
  user_id BIGINT NOT NULL,
  event_seq BIGINT NOT NULL,
  PRIMARY KEY (conv_id, seq, emoji, user_id)
);
CREATE TABLE edit_history (
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  rev BIGINT NOT NULL,
  body TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  edit_seq BIGINT NOT NULL,
  PRIMARY KEY (conv_id, seq, rev)
);
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
ALTER TABLE events ADD COLUMN thread_root BIGINT;
ALTER TABLE events ADD COLUMN thread_flags BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
CREATE INDEX events_thread ON events(conv_id, thread_root, seq, sender_id) WHERE thread_root IS NOT NULL;
CREATE TABLE threads (
  conv_id BIGINT NOT NULL,
  root_seq BIGINT NOT NULL,
  replies BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  last_ms BIGINT NOT NULL,
  participants TEXT NOT NULL,
  PRIMARY KEY (conv_id, root_seq)
);
CREATE TABLE thread_users (
  user_id BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  root_seq BIGINT NOT NULL,
  following BIGINT NOT NULL,
  read_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, conv_id, root_seq)
);
CREATE TABLE mentions (
  user_id BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  ts_ms BIGINT NOT NULL,
  PRIMARY KEY (user_id, conv_id, seq)
);
CREATE INDEX mentions_recent ON mentions(user_id, ts_ms, conv_id, seq);
CREATE INDEX mentions_message ON mentions(conv_id, seq);
)sql";

// moderation: conversation settings (the title stays in conversations), per-member mutes, bans
// and slow-mode post times, pins, and each user's notification level per conversation (keyed by
// user, like every user-keyed table).
constexpr std::string_view v_moderation = R"sql(
CREATE TABLE conv_settings (
  conv_id BIGINT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  post_policy TEXT NOT NULL DEFAULT 'everyone',
  pin_policy TEXT NOT NULL DEFAULT 'admins',
  wildcard_limit BIGINT,
  slow_mode_s BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id)
);
CREATE TABLE member_moderation (
  conv_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  muted_until_ms BIGINT,
  banned_ms BIGINT,
  last_post_ms BIGINT,
  PRIMARY KEY (conv_id, user_id)
);
CREATE TABLE pins (
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  by_id BIGINT NOT NULL,
  pinned_ms BIGINT NOT NULL,
  PRIMARY KEY (conv_id, seq)
);
CREATE TABLE notify_levels (
  user_id BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  level TEXT NOT NULL,
  muted_until_ms BIGINT,
  PRIMARY KEY (user_id, conv_id)
);
)sql";

// A conversation that has ever had settings or a mute is marked moderated: only sends into it
// read the moderation rows (the send path's check of every other send costs nothing more).
constexpr std::string_view v_moderated = R"sql(
ALTER TABLE conversations ADD COLUMN moderated SMALLINT NOT NULL DEFAULT 0;
UPDATE conversations SET moderated = 1 WHERE id IN (SELECT conv_id FROM conv_settings)
  OR id IN (SELECT conv_id FROM member_moderation WHERE muted_until_ms IS NOT NULL);
)sql";

// Issue 12, channels: a channel's directory row (its title stays in conversations) with its active
// member count, kept by a trigger on members so that every path that adds or removes a member
// (join_channel, add_members, remove_member, leave, ban) keeps it exact without knowing about it.
// The triggers update the channel's row under the conversation's lock, which every membership
// change takes first (open_event), so counts from several nodes do not race. Inserts are counted
// once per statement (a transition table): a row trigger would update the one channels row once per
// new member, and each update walks the row's chain of versions made by the statement so far
// (100 000 members added by one statement took longer than the 30 s statement timeout).
constexpr std::string_view v_channels = R"sql(
CREATE TABLE channels (
  conv_id BIGINT NOT NULL,
  visibility TEXT NOT NULL,
  topic TEXT NOT NULL DEFAULT '',
  member_count BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_id)
);
CREATE INDEX channels_directory ON channels(visibility, conv_id);
CREATE INDEX events_wildcard ON events(conv_id, seq) WHERE thread_flags >= 2;
CREATE FUNCTION channel_members_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE channels c SET member_count = c.member_count + x.n
  FROM (SELECT conv_id, COUNT(*) AS n FROM added WHERE left_seq IS NULL GROUP BY conv_id) x
  WHERE c.conv_id = x.conv_id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER channel_members_inserted AFTER INSERT ON members REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION channel_members_inserted();
CREATE FUNCTION channel_member_count() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.left_seq IS NULL AND NEW.left_seq IS NOT NULL THEN
    UPDATE channels SET member_count = member_count - 1 WHERE conv_id = NEW.conv_id;
  ELSIF OLD.left_seq IS NOT NULL AND NEW.left_seq IS NULL THEN
    UPDATE channels SET member_count = member_count + 1 WHERE conv_id = NEW.conv_id;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER channel_member_count AFTER UPDATE OF left_seq ON members
FOR EACH ROW EXECUTE FUNCTION channel_member_count();
)sql";

// Issue 11: reactions, edits and deletes; threads and mentions; moderation. Issue 12: channels.
// Issue 13, search: one row per findable message with its filters and its terms as a tsvector
// built from Confab's tokenizer (the same terms and positions as SQLite's FTS5 table), split by
// hash of conversation so that no one table and GIN index holds everything (docs/scaling.md).
// Filled by the "search" feed consumer; flags: 1 has a link, 2 mentions someone, 4 thread reply.
// Feed leases: a consumer that every node runs under one name (the search index) is run by one
// node at a time, the lease's holder until until_ms; wanted_by: who asked for it (feed.hpp).
constexpr std::string_view v_search = R"sql(
CREATE TABLE search_docs (
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  ts_ms BIGINT NOT NULL,
  flags INT NOT NULL,
  body TSVECTOR NOT NULL,
  PRIMARY KEY (conv_id, seq)
) PARTITION BY HASH (conv_id);
CREATE TABLE search_docs_0 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE search_docs_1 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE search_docs_2 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE search_docs_3 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE search_docs_4 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE search_docs_5 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE search_docs_6 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE search_docs_7 PARTITION OF search_docs FOR VALUES WITH (MODULUS 8, REMAINDER 7);
CREATE INDEX search_docs_body ON search_docs USING GIN (body);
CREATE INDEX search_docs_time ON search_docs(ts_ms, conv_id, seq);
CREATE TABLE feed_leases (
  consumer TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms BIGINT NOT NULL,
  wanted_by TEXT NOT NULL DEFAULT ''
);
)sql";

// Issue 15, push: each device's push target (one per device; register replaces it), each device's
// delivered pointer per conversation (a push is skipped once the device has the message), and the
// push queue: one row per (device, message or clear), due at its time, claimed by a node for a
// lease while it sends; kept after the outcome for the "why (not)" explanation, pruned later.
constexpr std::string_view v_push = R"sql(
CREATE TABLE push_targets (
  device_id BIGINT NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX push_targets_user ON push_targets(user_id);
CREATE TABLE device_receipts (
  device_id BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  delivered_seq BIGINT NOT NULL,
  PRIMARY KEY (device_id, conv_id)
);
CREATE TABLE push_queue (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  device_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  conv_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  due_ms BIGINT NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_until_ms BIGINT,
  rule TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  UNIQUE (device_id, conv_id, seq, kind)
);
CREATE INDEX push_queue_due ON push_queue(due_ms) WHERE state = 'queued';
CREATE INDEX push_queue_user ON push_queue(user_id, conv_id, seq);
CREATE INDEX push_queue_done ON push_queue(updated_ms) WHERE state <> 'queued';
)sql";

constexpr std::string_view steps[] = {v1, v2, v_profiles, v_user_heads, v_feed, v_changes, v_threads, v_moderation, v_moderated, v_channels, v_search, v_push};


}  // namespace

connection_factory make_factory(std::string dsn) {
  return [dsn]() -> db_result<std::unique_ptr<connection>> {
    // dsn is expanded in place of "dbname"; its own settings override the default timeout.
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* vals[] = {"10", dsn.c_str(), nullptr};
    PGconn* pc = PQconnectdbParams(keys, vals, 1);
    if (!pc) return db_error{errc::unavailable, "postgres: out of memory", false};
    if (PQstatus(pc) != CONNECTION_OK) {
      std::string msg = one_line(PQerrorMessage(pc));
      PQfinish(pc);
      return db_error{errc::unavailable, "postgres: cannot connect: " + msg, false};
    }
    PQsetNoticeReceiver(pc, on_notice, nullptr);
    auto c = std::make_unique<pg_connection>(pc);
    // An ack means durable: whatever the cluster's default, this session waits for the WAL flush.
    // A statement that hangs (a lock held elsewhere) must not stall the single writer forever.
    // No JIT: Confab's statements are short, and compiling one whose estimated cost passed
    // jit_above_cost took ~90 ms, longer than the search it was for (docs/performance.md).
    if (auto r = c->exec("SET client_min_messages = warning; SET client_encoding = 'UTF8'; SET synchronous_commit = on; "
                         "SET jit = off; SET statement_timeout = " + std::to_string(default_statement_timeout_ms));
        !r)
      return r.error();
    return std::unique_ptr<connection>(std::move(c));
  };
}

std::span<const std::string_view> migrations() { return steps; }

}  // namespace confab::storage::postgres
