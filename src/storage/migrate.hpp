// Versioned schema migrations, applied in order at start-up, each in its own transaction.
#pragma once

#include "storage/db.hpp"

#include <span>
#include <string_view>

namespace confab::storage {

// Brings the schema to steps.size(): step i (0-based) is schema version i + 1. A database newer
// than the code (version > steps.size()) is an error rather than something to guess about.
db_result<void> migrate(connection& c, std::span<const std::string_view> steps);

}  // namespace confab::storage
