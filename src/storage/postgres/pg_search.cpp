#include "storage/postgres/pg_search.hpp"

#include "search/tokenizer.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>

namespace confab::storage::postgres {
using namespace detail;
namespace {

constexpr std::int64_t max_position = 16383;

// A lexeme in tsvector and tsquery input: quoted, with quotes and backslashes escaped.
void append_lexeme(std::string& out, std::string_view term) {
  out += '\'';
  for (char ch : term) {
    if (ch == '\'' || ch == '\\') out += ch == '\'' ? '\'' : '\\';
    out += ch;
  }
  out += '\'';
}

std::string tsquery_phrase(const search::phrase& p) {
  std::string out = "(";
  for (std::size_t i = 0; i < p.terms.size(); ++i) {
    if (i) out += " <-> ";
    append_lexeme(out, p.terms[i]);
  }
  if (p.prefix) out += ":*";
  return out + ")";
}

}  // namespace

std::string tsvector_of(std::string_view text) {
  auto toks = search::tokenize(text);
  std::string out;
  if (!toks) return out;  // not findable, as on SQLite (fts_tokenizer.hpp)
  std::int64_t pos = 0;
  for (const auto& t : *toks) {
    if (!t.colocated) ++pos;
    if (!out.empty()) out += ' ';
    append_lexeme(out, t.term);
    out += ':' + std::to_string(std::min(std::max<std::int64_t>(pos, 1), max_position));
  }
  return out;
}

result<nothing> search_put(connection& c, const search_doc& d) {
  const auto tsv = tsvector_of(d.text);
  CONFAB_TRY(r, query(c,
                      "INSERT INTO search_docs (conv_id, seq, sender_id, ts_ms, flags, body) "
                      "VALUES ($1, $2, $3, $4, $5, CAST($6 AS TSVECTOR)) "
                      "ON CONFLICT (conv_id, seq) DO UPDATE SET flags = excluded.flags, body = excluded.body",
                      {d.conv, d.seq, d.sender, d.ts_ms, d.flags, std::string_view(tsv)}));
  return nothing{};
}

result<nothing> search_remove(connection& c, id_t conv, std::int64_t seq) {
  CONFAB_TRY(r, query(c, "DELETE FROM search_docs WHERE conv_id = $1 AND seq = $2", {conv, seq}));
  return nothing{};
}

search_match match(const search::query& q, int param) {
  const std::string p = "$" + std::to_string(param);
  std::string expr;
  if (q.include.empty()) {  // filters with exclusions: none of them
    for (std::size_t i = 0; i < q.exclude.size(); ++i) expr += (i ? " | " : "") + tsquery_phrase(q.exclude[i]);
    return {"search_docs d", "NOT (d.body @@ CAST(" + p + " AS TSQUERY))", std::move(expr)};
  }
  for (std::size_t i = 0; i < q.include.size(); ++i) expr += (i ? " & " : "") + tsquery_phrase(q.include[i]);
  for (const auto& e : q.exclude) expr += " & !" + tsquery_phrase(e);
  return {"search_docs d", "d.body @@ CAST(" + p + " AS TSQUERY)", std::move(expr), "ts_rank(d.body, CAST(" + p + " AS TSQUERY))"};
}

}  // namespace confab::storage::postgres
