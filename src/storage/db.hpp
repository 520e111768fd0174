// The SQL driver interface that each storage backend (SQLite, PostgreSQL) implements.
//
// A connection is used by one thread at a time (the storage executor guarantees it). SQL uses
// PostgreSQL-style numbered placeholders ($1, $2 ...); the SQLite driver rewrites them. Values
// travel as NULL, 64-bit integers or UTF-8 text, and result cells come back typed the same way:
// the driver decides from the column's type (SQLite's storage class, PostgreSQL's type OID), so an
// integer is parsed once, by the driver, not at every read.
// Errors are values: a unique-key violation is errc::conflict, a lost connection or a busy
// database is errc::unavailable, a deadlock or serialization failure is errc::unavailable with
// retry = true so the executor can re-run the transaction.
#pragma once

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::storage {

class store_strategy;

using param = std::variant<std::monostate, std::int64_t, std::string_view>;

// One result cell: NULL, an integer (SQLite INTEGER; PostgreSQL int2/int4/int8, and bool as 0/1)
// or text (anything else, in the database's text form).
using cell = std::variant<std::monostate, std::int64_t, std::string>;

class row {
 public:
  explicit row(std::vector<cell> cells) : cells_(std::move(cells)) {}
  std::size_t size() const { return cells_.size(); }
  bool is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(cells_.at(i)); }
  // The cell as an integer; NULL reads as 0; text is parsed (a numeric expression PostgreSQL
  // returns as numeric). A cell that is not an integer is a bug (throws).
  std::int64_t i64(std::size_t i) const;
  std::optional<std::int64_t> opt_i64(std::size_t i) const;
  // The cell as text; NULL reads as "". An integer cell is a bug (throws): the schema's text
  // columns come back as text from both drivers.
  const std::string& str(std::size_t i) const;

 private:
  std::vector<cell> cells_;
};

using rows = std::vector<row>;

// A database error: code plus whether the whole transaction may simply be run again.
struct db_error {
  errc code = errc::unavailable;
  std::string message;
  bool retry_transaction = false;
};

template <class T>
using db_result = boost::system::result<T, db_error>;

class connection {
 public:
  virtual ~connection() = default;
  // Runs one statement with parameters and returns all result rows.
  virtual db_result<rows> query(std::string_view sql, std::span<const param> params) = 0;
  // The same, but planned for these parameters and the tables as they are now, every time
  // (PostgreSQL: an unnamed statement, never a cached generic plan). For statements whose best
  // plan depends on their arguments' size (arrays) and on tables that grow fast: a generic plan
  // made while a table was nearly empty keeps scanning it whole until the next ANALYZE.
  virtual db_result<rows> query_planned(std::string_view sql, std::span<const param> params) { return query(sql, params); }
  // The same as query, but the database gives up once it has run for limit: errc::limit_reached
  // (for statements whose cost the caller's input decides, such as a search). Not in a
  // transaction that must go on after a failure.
  // (Both drivers bound it; a connection that cannot runs it unbounded.)
  virtual db_result<rows> query_within(std::string_view sql, std::span<const param> params, std::chrono::milliseconds limit) {
    (void)limit;
    return query(sql, params);
  }
  // Runs parameterless SQL, possibly several statements (DDL, BEGIN, COMMIT ...).
  virtual db_result<void> exec(std::string_view sql) = 0;
  // The statement that opens a write batch (SQLite: BEGIN IMMEDIATE, the write lock up front).
  virtual std::string_view begin_write() const { return "BEGIN"; }
  // How the store writes on this backend (strategy.hpp); null for connections that serve no store.
  virtual const store_strategy* strategy() const { return nullptr; }

  // Set by the driver when the current transaction failed in a way that re-running it may fix
  // (deadlock, serialization failure, SQLITE_BUSY), or by a job that knows a re-run resolves its
  // error (a key another node took meanwhile); read and cleared by the executor.
  bool retry_requested = false;
  // Set by the driver when the connection itself is unusable; the executor reconnects.
  bool broken = false;
  // The database's error text behind retry_requested or broken: the executor logs it with the
  // re-run, so operators can tell a deadlock from a key conflict or a lost connection.
  std::string failure_reason;

  void request_retry(std::string why) {
    retry_requested = true;
    failure_reason = std::move(why);
  }
  void mark_broken(std::string why) {
    broken = true;
    failure_reason = std::move(why);
  }
};

// Opens a new connection; called once per storage thread, and again after a connection is lost.
using connection_factory = std::function<db_result<std::unique_ptr<connection>>()>;

inline db_result<rows> query(connection& c, std::string_view sql, std::initializer_list<param> ps = {}) {
  return c.query(sql, std::span<const param>(ps.begin(), ps.size()));
}

}  // namespace confab::storage
