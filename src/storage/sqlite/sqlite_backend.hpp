// The embedded SQLite backend: a connection factory over one database file (WAL mode) and its schema.
//
// Durability: synchronous=FULL, so a committed transaction survives kill -9 and power loss.
// Each connection is used by one storage thread; WAL lets the readers run beside the one writer.
#pragma once

#include "storage/db.hpp"

#include <span>
#include <string>
#include <string_view>

namespace confab::storage::sqlite {

// Connections to the database file at path (created if missing; its folder must exist).
connection_factory make_factory(std::string path);

// The schema migrations for SQLite, version 1 first.
std::span<const std::string_view> migrations();

}  // namespace confab::storage::sqlite
