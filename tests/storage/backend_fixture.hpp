// What the storage conformance suite needs from a backend: fresh, migrated stores.
#pragma once

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace confab::testing {

class backend {
 public:
  virtual ~backend() = default;
  virtual std::string name() const = 0;
  // A migrated store over the test's database (empty for the first call of a test, reopened after).
  std::unique_ptr<storage::store> open(int readers = 2);
  // The executor of the store open() made last (owned by that store).
  storage::executor* executor() const { return last_; }
  // The raw connection factory and migrations, for migration tests.
  virtual storage::connection_factory factory() = 0;
  virtual std::span<const std::string_view> migrations() = 0;

 private:
  storage::executor* last_ = nullptr;
};

// Defined once per backend (sqlite_fixture.cpp, pg_fixture.cpp): a backend with a fresh database.
std::unique_ptr<backend> make_backend();

}  // namespace confab::testing
