// The PostgreSQL backend (libpq): a connection factory over one DSN and the schema migrations.
//
// Statements are prepared once per connection (cached by SQL text) and run with text-format
// parameters whose types the server infers from the SQL, so write SQL that pins a type where the
// server cannot infer one: `$1 IS NULL` alone is an error ("could not determine data type"), and
// `$1 + 1`, `COALESCE($1, 0)` or `$1 = 5` make $1 a 32-bit integer. `CAST($1 AS BIGINT)` fixes
// both and is valid SQLite too. Results come back as text; boolean results read as "1" / "0", as
// they do in SQLite.
//
// Unlike SQLite, a failed statement inside a transaction aborts the whole transaction until it
// is rolled back (to a savepoint): after a conflict, a job cannot run further statements. A
// COMMIT of such a transaction (which the server answers with "ROLLBACK") is reported as an error.
//
// Errors by SQLSTATE: 23505 -> conflict; 40P01, 40001 -> unavailable + retry; lost connection
// (class 08 but 08P01, 57P*, or the connection is no longer OK) -> unavailable + broken; 53*,
// 57014, 55P03 (resources, timeouts) -> unavailable; anything else -> internal.
// PostgreSQL text cannot hold a NUL byte: such a parameter fails with errc::invalid_field.
// Durability is the server's (fsync, synchronous_commit); COMMIT returns after the WAL flush.
#pragma once

#include "storage/db.hpp"

#include <span>
#include <string>
#include <string_view>

namespace confab::storage::postgres {

// Connections to the server at dsn, a libpq connection string ("host=... port=... dbname=...")
// or URI. connect_timeout defaults to 10 seconds unless the DSN sets it.
connection_factory make_factory(std::string dsn);

// The schema migrations for PostgreSQL, version 1 first: the same tables as SQLite's, plus the
// user_heads table of v4 (stream positions for writers on several nodes; SQLite has one writer).
std::span<const std::string_view> migrations();

}  // namespace confab::storage::postgres
