// SQLite's search index (storage/strategy.hpp, "search"; the tables are schema step v_search).
// Threads and errors as the strategy's.
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage::sqlite {

result<nothing> search_put(connection& c, std::span<const search_doc> ds);
result<nothing> search_remove(connection& c, std::span<const message_key> ks);
search_match match(const search::query& q, int param);

}  // namespace confab::storage::sqlite
