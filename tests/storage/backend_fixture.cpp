#include "backend_fixture.hpp"

#include "storage/migrate.hpp"

#include <gtest/gtest.h>

namespace confab::testing {

std::unique_ptr<storage::store> backend::open(int readers) {
  auto ex = std::make_unique<storage::executor>(factory(), storage::executor::options{readers, 64});
  auto r = ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, migrations()); });
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  last_ = ex.get();
  return std::make_unique<storage::store>(std::move(ex));
}

}  // namespace confab::testing
