// SQLite's store strategy (storage/strategy.hpp): separate statements, stream positions from
// MAX(pos) (one writer holds the write lock), sends one by one in nested savepoints. Handed out by
// the SQLite connections (connection::strategy()).
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage::sqlite {

const store_strategy& strategy();

}  // namespace confab::storage::sqlite
