#include "storage/postgres/pg_search.hpp"

#include "search/tokenizer.hpp"
#include "storage/postgres/pg_array.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>

namespace confab::storage::postgres {
using namespace detail;
namespace {

constexpr std::int64_t max_position = 16383;

// A lexeme in tsvector and tsquery input: the conversation's qualifier then the term, quoted, with
// quotes and backslashes escaped (the qualifier is digits and a colon).
void append_lexeme(std::string& out, std::string_view qualifier, std::string_view term) {
  out += '\'';
  out += qualifier;
  for (char ch : term) {
    if (ch == '\'' || ch == '\\') out += ch == '\'' ? '\'' : '\\';
    out += ch;
  }
  out += '\'';
}

std::string qualifier(id_t conv) { return std::to_string(conv) + ':'; }

std::string tsquery_phrase(const search::phrase& p, std::string_view qual) {
  std::string out = "(";
  for (std::size_t i = 0; i < p.terms.size(); ++i) {
    if (i) out += " <-> ";
    append_lexeme(out, qual, p.terms[i]);
  }
  if (p.prefix) out += ":*";
  return out + ")";
}

}  // namespace

std::string tsvector_of(id_t conv, std::string_view text) {
  auto toks = search::tokenize(text);
  std::string out;
  if (!toks) return out;  // not findable, as on SQLite (fts_tokenizer.hpp)
  const std::string qual = qualifier(conv);
  std::int64_t pos = 0;
  for (const auto& t : *toks) {
    if (!t.colocated) ++pos;
    if (!out.empty()) out += ' ';
    append_lexeme(out, qual, t.term);
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
    body.add_text(tsvector_of(d.conv, d.text));
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

// q for one conversation: its phrases with that conversation's terms.
std::string tsquery_in(const search::query& q, std::string_view qual) {
  std::string expr;
  if (q.include.empty()) {  // exclusions alone: the condition negates their union
    for (std::size_t i = 0; i < q.exclude.size(); ++i) expr += (i ? " | " : "") + tsquery_phrase(q.exclude[i], qual);
    return expr;
  }
  for (std::size_t i = 0; i < q.include.size(); ++i) expr += (i ? " & " : "") + tsquery_phrase(q.include[i], qual);
  for (const auto& e : q.exclude) expr += " & !" + tsquery_phrase(e, qual);
  return expr;
}

search_match match(const search::query& q, int param, std::span<const id_t> convs) {
  const std::string p = "$" + std::to_string(param);
  // One alternative per conversation: a document holds only its own conversation's terms, so it
  // matches the union exactly when it matches q, and the index reads only those conversations'
  // entries for each word.
  std::string expr;
  for (std::size_t i = 0; i < convs.size(); ++i) {
    expr += i ? " | (" : "(";
    expr += tsquery_in(q, qualifier(convs[i]));
    expr += ')';
  }
  if (q.include.empty()) return {"search_docs d", "NOT (d.body @@ CAST(" + p + " AS TSQUERY))", std::move(expr)};
  // Each qualified term is too rare for ANALYZE's list of common elements, so the planner takes
  // 0.5 % of the rows for each alternative: 63 % for 200 conversations, and walked the time
  // index filtering every row instead (seconds at 1M messages). The terms are exact: the GIN
  // index's bitmap is the plan.
  return {"search_docs d", "d.body @@ CAST(" + p + " AS TSQUERY)", std::move(expr), "ts_rank(d.body, CAST(" + p + " AS TSQUERY))",
          true};
}

}  // namespace confab::storage::postgres
