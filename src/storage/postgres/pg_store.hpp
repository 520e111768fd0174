// PostgreSQL's store strategy (storage/strategy.hpp): events appended with per-user head rows
// (user_heads, locked in ascending user id after the conversations' rows), sends run set-based.
// Handed out by the PostgreSQL connections (connection::strategy()).
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage::postgres {

const store_strategy& strategy();

}  // namespace confab::storage::postgres
