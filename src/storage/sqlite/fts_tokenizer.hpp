// Confab's search tokenizer (search/tokenizer.hpp) as an SQLite FTS5 tokenizer named "confab",
// registered on each connection through the FTS5 API, so that the search index of the SQLite
// backend (table search_fts) holds exactly the terms the PostgreSQL backend holds.
//
// Documents (FTS5_TOKENIZE_DOCUMENT and _AUX): search::tokenize, a CJK bigram colocated with the
// unigram before it (FTS5_TOKEN_COLOCATED), byte offsets of the source text. A text the tokenizer
// refuses (invalid UTF-8) yields no terms: it is not findable, and indexing goes on.
// Queries (FTS5_TOKENIZE_QUERY): the text is already cut and normalised by search::parse_query;
// its terms are separated by query_separator and passed through unchanged (fts_phrase builds it).
//
// Threads: register_confab_tokenizer is called once per connection, on the thread that opens it;
// the tokenizer itself keeps no state. Errors: register_confab_tokenizer returns false (with the
// reason) when this SQLite has no FTS5.
#pragma once

#include "search/query.hpp"

#include <sqlite3.h>

#include <string>

namespace confab::storage::sqlite {

inline constexpr char query_separator = '\x1f';  // never inside a term (terms hold no controls)

bool register_confab_tokenizer(sqlite3* db, std::string& why);

// p as an FTS5 string: "t1<sep>t2", with '*' after it for a prefix.
std::string fts_phrase(const search::phrase& p);

}  // namespace confab::storage::sqlite
