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

}  // namespace confab::storage::postgres
