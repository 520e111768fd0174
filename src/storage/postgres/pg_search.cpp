#include "storage/postgres/pg_search.hpp"

#include "search/tokenizer.hpp"
#include "storage/postgres/pg_array.hpp"
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

// A batch in one statement each (a round trip per message cost the writer's connection as much
// as the sends it serves).
result<nothing> search_put(connection& c, std::span<const search_doc> ds) {
  if (ds.empty()) return nothing{};
  pg_array conv, seq, sender, ts, flags, body;
  for (const auto& d : ds) {
    conv.add(d.conv);
    seq.add(d.seq);
    sender.add(d.sender);
    ts.add(d.ts_ms);
    flags.add(d.flags);
    body.add_text(tsvector_of(d.text));
  }
  CONFAB_TRY(r, query(c,
                      "INSERT INTO search_docs (conv_id, seq, sender_id, ts_ms, flags, body) "
                      "SELECT c, s, u, t, f, CAST(b AS TSVECTOR) FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[]), "
                      "CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[]), CAST($5 AS BIGINT[]), CAST($6 AS TEXT[])) AS x(c, s, u, t, f, b) "
                      "ON CONFLICT (conv_id, seq) DO UPDATE SET flags = excluded.flags, body = excluded.body",
                      {std::string_view(conv.str()), std::string_view(seq.str()), std::string_view(sender.str()),
                       std::string_view(ts.str()), std::string_view(flags.str()), std::string_view(body.str())}));
  return nothing{};
}

result<nothing> search_remove(connection& c, std::span<const message_key> ks) {
  if (ks.empty()) return nothing{};
  pg_array conv, seq;
  for (const auto& k : ks) {
    conv.add(k.conv);
    seq.add(k.seq);
  }
  CONFAB_TRY(r, query(c,
                      "DELETE FROM search_docs d USING unnest(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[])) AS x(c, s) "
                      "WHERE d.conv_id = x.c AND d.seq = x.s",
                      {std::string_view(conv.str()), std::string_view(seq.str())}));
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
