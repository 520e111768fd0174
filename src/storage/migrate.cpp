#include "storage/migrate.hpp"

#include "core/log.hpp"

#include <string>

namespace confab::storage {

db_result<void> migrate(connection& c, std::span<const std::string_view> steps) {
  if (auto r = c.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"); !r) return r;
  auto cur = query(c, "SELECT version FROM schema_version");
  if (!cur) return cur.error();
  const std::int64_t version = cur->empty() ? 0 : (*cur)[0].i64(0);
  const auto target = static_cast<std::int64_t>(steps.size());
  if (version > target)
    return db_error{errc::internal,
                    "database schema version " + std::to_string(version) + " is newer than this confabd (" +
                        std::to_string(target) + ")",
                    false};
  for (auto v = version; v < target; ++v) {
    auto r = c.exec("BEGIN");
    if (r) r = c.exec(steps[v]);
    if (r) r = c.exec("DELETE FROM schema_version");
    if (r) {
      if (auto u = query(c, "INSERT INTO schema_version (version) VALUES ($1)", {std::int64_t{v + 1}}); !u)
        r = u.error();
    }
    if (r) r = c.exec("COMMIT");
    if (!r) {
      (void)c.exec("ROLLBACK");
      return db_error{r.error().code,
                      "migration to version " + std::to_string(v + 1) + " failed: " + r.error().message, false};
    }
    log::info("schema migrated", "\"version\":" + std::to_string(v + 1));
  }
  return {};
}

}  // namespace confab::storage
