// PostgreSQL's search index (storage/strategy.hpp, "search"; the tables are schema step
// v_search): the terms of Confab's tokenizer as a tsvector (one lexeme per term, at the same
// positions as SQLite's FTS5 table: a colocated CJK bigram shares its unigram's position), and
// queries as a tsquery of the same terms (phrases with <->, prefixes with :*), both built here
// and cast, so that no text search configuration touches them.
// Threads and errors as the strategy's.
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage::postgres {

result<nothing> search_put(connection& c, std::span<const search_doc> ds);
result<nothing> search_remove(connection& c, std::span<const message_key> ks);
search_match match(const search::query& q, int param);

// The tsvector literal of text's terms (exposed for tests); PostgreSQL keeps positions up to
// 16383, later terms are kept at that position.
std::string tsvector_of(std::string_view text);

}  // namespace confab::storage::postgres
