#include "storage/sqlite/fts_tokenizer.hpp"

#include "search/tokenizer.hpp"

#include <string_view>

namespace confab::storage::sqlite {
namespace {

// FTS5 asks for a tokenizer object; this one has no state, so every instance is this address.
Fts5Tokenizer* stateless() {
  static char instance;
  return reinterpret_cast<Fts5Tokenizer*>(&instance);
}

int create(void*, const char**, int, Fts5Tokenizer** out) {
  *out = stateless();
  return SQLITE_OK;
}

void destroy(Fts5Tokenizer*) {}

using token_fn = int (*)(void*, int, const char*, int, int, int);

int query_terms(void* ctx, std::string_view text, token_fn emit) {
  std::size_t at = 0;
  while (at <= text.size()) {
    auto end = text.find(query_separator, at);
    if (end == std::string_view::npos) end = text.size();
    if (end > at) {
      const int rc = emit(ctx, 0, text.data() + at, static_cast<int>(end - at), static_cast<int>(at), static_cast<int>(end));
      if (rc != SQLITE_OK) return rc;
    }
    at = end + 1;
  }
  return SQLITE_OK;
}

int tokenize(Fts5Tokenizer*, void* ctx, int flags, const char* text, int n, token_fn emit) {
  const std::string_view in(text ? text : "", n > 0 ? static_cast<std::size_t>(n) : 0);
  if (flags & FTS5_TOKENIZE_QUERY) return query_terms(ctx, in, emit);
  auto toks = search::tokenize(in);
  if (!toks) return SQLITE_OK;  // see the header: not findable, not an indexing failure
  for (const auto& t : *toks) {
    const int rc = emit(ctx, t.colocated ? FTS5_TOKEN_COLOCATED : 0, t.term.data(), static_cast<int>(t.term.size()),
                        static_cast<int>(t.begin), static_cast<int>(t.end));
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

fts5_api* fts5_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

}  // namespace

bool register_confab_tokenizer(sqlite3* db, std::string& why) {
  fts5_api* api = fts5_of(db);
  if (!api) {
    why = "this SQLite has no FTS5";
    return false;
  }
  static fts5_tokenizer methods{create, destroy, tokenize};
  if (api->xCreateTokenizer(api, "confab", nullptr, &methods, nullptr) != SQLITE_OK) {
    why = std::string("registering the FTS5 tokenizer failed: ") + sqlite3_errmsg(db);
    return false;
  }
  return true;
}

std::string fts_phrase(const search::phrase& p) {
  std::string out = "\"";
  for (std::size_t i = 0; i < p.terms.size(); ++i) {
    if (i) out += query_separator;
    for (char ch : p.terms[i]) {
      if (ch == '"') out += '"';
      out += ch;
    }
  }
  out += '"';
  if (p.prefix) out += " *";
  return out;
}

}  // namespace confab::storage::sqlite
