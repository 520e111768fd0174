// SQLite's side of the search index (strategy.hpp, "search"): search_docs rows and their terms in
// the FTS5 table search_fts, cut by the "confab" tokenizer (fts_tokenizer.hpp).
#include "storage/sqlite/sqlite_search.hpp"

#include "storage/sqlite/fts_tokenizer.hpp"
#include "storage/store_detail.hpp"

namespace confab::storage::sqlite {
using namespace detail;

// SQLite runs in this process: a statement per row costs no round trip.
result<nothing> search_put(connection& c, std::span<const search_doc> ds) {
  for (const auto& d : ds) {
    CONFAB_TRY(r, query(c,
                        "INSERT INTO search_docs (conv_id, seq, sender_id, ts_ms, flags) VALUES ($1, $2, $3, $4, $5) "
                        "ON CONFLICT (conv_id, seq) DO UPDATE SET flags = excluded.flags RETURNING doc",
                        {d.conv, d.seq, d.sender, d.ts_ms, d.flags}));
    const std::int64_t doc = (*r)[0].i64(0);
    CONFAB_TRY(del, query(c, "DELETE FROM search_fts WHERE rowid = $1", {doc}));
    CONFAB_TRY(ins, query(c, "INSERT INTO search_fts (rowid, body) VALUES ($1, $2)", {doc, d.text}));
  }
  return nothing{};
}

result<nothing> search_remove(connection& c, std::span<const message_key> ks) {
  for (const auto& k : ks) {
    CONFAB_TRY(del, query(c, "DELETE FROM search_fts WHERE rowid = (SELECT doc FROM search_docs WHERE conv_id = $1 AND seq = $2)",
                          {k.conv, k.seq}));
    CONFAB_TRY(rm, query(c, "DELETE FROM search_docs WHERE conv_id = $1 AND seq = $2", {k.conv, k.seq}));
  }
  return nothing{};
}

search_match match(const search::query& q, int param) {
  const auto any_of = [](const std::vector<search::phrase>& ps) {
    std::string out = "(";
    for (std::size_t i = 0; i < ps.size(); ++i) out += (i ? " OR " : "") + fts_phrase(ps[i]);
    return out + ")";
  };
  const std::string p = "$" + std::to_string(param);
  if (q.include.empty())  // filters with exclusions: FTS5 has no query of "not" alone
    return {"search_docs d", "d.doc NOT IN (SELECT rowid FROM search_fts WHERE search_fts MATCH " + p + ")", any_of(q.exclude)};
  std::string expr = "(";
  for (std::size_t i = 0; i < q.include.size(); ++i) expr += (i ? " AND " : "") + fts_phrase(q.include[i]);
  expr += ")";
  if (!q.exclude.empty()) expr += " NOT " + any_of(q.exclude);
  return {"search_docs d JOIN search_fts f ON f.rowid = d.doc", "search_fts MATCH " + p, std::move(expr), "-bm25(search_fts)"};
}

}  // namespace confab::storage::sqlite
