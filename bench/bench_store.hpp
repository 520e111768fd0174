// What the storage benchmarks share: a migrated store over "sqlite PATH" or "postgres DSN" (with
// the backend's connection factory, for raw SQL), and running raw SQL that must succeed.
#pragma once

#include "storage/db.hpp"
#include "storage/migrate.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace confab::bench {

struct opened_store {
  storage::connection_factory factory;
  std::unique_ptr<storage::store> store;
};

// backend "sqlite" or "postgres"; where is the path or DSN. nullptr store (the error printed) on failure.
inline opened_store open_store(const std::string& backend, const std::string& where) {
  opened_store o;
  o.factory = backend == "sqlite" ? storage::sqlite::make_factory(where) : storage::postgres::make_factory(where);
  auto steps = backend == "sqlite" ? storage::sqlite::migrations() : storage::postgres::migrations();
  auto ex = std::make_unique<storage::executor>(o.factory, storage::executor::options{2, 256});
  if (auto r = ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, steps); }); !r) {
    std::cerr << "migrate: " << r.error().message << "\n";
    return o;
  }
  o.store = std::make_unique<storage::store>(std::move(ex));
  return o;
}

// Runs sql, throwing with its start and the error if it fails.
inline void exec(storage::connection& c, const std::string& sql) {
  if (auto r = c.exec(sql); !r) throw std::runtime_error(sql.substr(0, 80) + ": " + r.error().message);
}

}  // namespace confab::bench
