#include "bulk.hpp"

#include "storage/db.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"

#include <chrono>
#include <stdexcept>

namespace confab::bench {

double bulk_members(const std::string& db, std::int64_t conv, int count, const std::string& prefix) {
  const auto t0 = std::chrono::steady_clock::now();
  storage::connection_factory factory;
  if (db.starts_with("sqlite:")) factory = storage::sqlite::make_factory(db.substr(7));
  else if (db.starts_with("postgres:")) factory = storage::postgres::make_factory(db.substr(9));
  else throw std::runtime_error("--db must be sqlite:PATH or postgres:DSN");
  auto c = factory();
  if (!c) throw std::runtime_error("--db: " + c.error().message);
  auto exec = [&](const std::string& sql) {
    if (auto r = (*c)->exec(sql); !r) throw std::runtime_error("bulk members: " + r.error().message);
  };
  // The prefix is the benchmark's own (letters, digits, '_'); LIKE's '_' matches any one
  // character, which only widens the match to names no other run makes.
  exec("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(count) +
       ") INSERT INTO users (username, password_hash, created_ms) SELECT '" + prefix + "' || i, 'x', 0 FROM k");
  exec("INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT " + std::to_string(conv) +
       ", u.id, 'member', cv.last_seq FROM users u, conversations cv WHERE cv.id = " + std::to_string(conv) +
       " AND u.username LIKE '" + prefix + "%'");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace confab::bench
