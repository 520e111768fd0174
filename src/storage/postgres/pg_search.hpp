// PostgreSQL's search index (storage/strategy.hpp, "search"; the tables are schema steps
// v_search and v_search_conv): the terms of Confab's tokenizer as a tsvector (one lexeme per
// term, at the same positions as SQLite's FTS5 table: a colocated CJK bigram shares its unigram's
// position), each qualified by its conversation ("42:word"), and queries as a tsquery of the same
// terms (phrases with <->, prefixes with :*) for each conversation the search may look in, joined
// with |. Both are built here and cast, so that no text search configuration touches them.
//
// Why qualified: with bare terms the GIN index returns every document of the word in every
// conversation, and a search over a user's conversations read the word's whole posting list
// before the membership join threw most of it away (cost proportional to the corpus,
// docs/performance.md, Search). Qualified, the index reads only the searched conversations'
// entries.
// Threads and errors as the strategy's.
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage::postgres {

result<nothing> search_put(connection& c, std::span<const search_doc> ds);
result<nothing> search_remove(connection& c, std::span<const message_key> ks);
search_match match(const search::query& q, int param, std::span<const id_t> convs);

// The tsvector literal of text's terms in conv (exposed for tests); PostgreSQL keeps positions up
// to 16383, later terms are kept at that position.
std::string tsvector_of(id_t conv, std::string_view text);

}  // namespace confab::storage::postgres
