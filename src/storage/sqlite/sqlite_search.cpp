// SQLite's side of the search index (strategy.hpp, "search"): search_docs rows and their terms in
// the FTS5 table search_fts, cut by the "confab" tokenizer (fts_tokenizer.hpp).
#include "storage/sqlite/sqlite_search.hpp"

#include "storage/sqlite/fts_tokenizer.hpp"
#include "storage/store_detail.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <map>

namespace confab::storage::sqlite {
using namespace detail;

// A batch in a few statements over a JSON array (json_each), not a statement per message: FTS5
// (SQLite 3.40) writes its pending terms as a new segment whenever a statement that changes it
// starts inside a savepoint, as every write job does, so a statement per message made a segment
// per message, and merging them cost more than everything else the writer does for a message.
result<nothing> search_put(connection& c, std::span<const search_doc> ds) {
  if (ds.empty()) return nothing{};
  boost::json::array meta;
  for (const auto& d : ds) meta.push_back(boost::json::array{d.conv, d.seq, d.sender, d.ts_ms, d.flags});
  const std::string meta_json = boost::json::serialize(meta);
  CONFAB_TRY(docs, query(c,
                         "INSERT INTO search_docs (conv_id, seq, sender_id, ts_ms, flags) "
                         "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each($1) WHERE true "
                         "ON CONFLICT (conv_id, seq) DO UPDATE SET flags = excluded.flags RETURNING conv_id, seq, doc",
                         {std::string_view(meta_json)}));
  std::map<message_key, std::int64_t> doc_of;
  for (auto& r : *docs) doc_of[message_key{r.i64(0), r.i64(1)}] = r.i64(2);
  boost::json::array ids, bodies;
  for (const auto& d : ds) {
    const auto doc = doc_of.at(message_key{d.conv, d.seq});
    ids.push_back(doc);
    bodies.push_back(boost::json::array{doc, boost::json::string_view(d.text.data(), d.text.size())});
  }
  const std::string ids_json = boost::json::serialize(ids), bodies_json = boost::json::serialize(bodies);
  // An indexed message's old terms go first (an edit); a new message has none.
  CONFAB_TRY(del, query(c, "DELETE FROM search_fts WHERE rowid IN (SELECT value FROM json_each($1))", {std::string_view(ids_json)}));
  CONFAB_TRY(ins, query(c, "INSERT INTO search_fts (rowid, body) SELECT value ->> 0, value ->> 1 FROM json_each($1)",
                        {std::string_view(bodies_json)}));
  return nothing{};
}

result<nothing> search_remove(connection& c, std::span<const message_key> ks) {
  if (ks.empty()) return nothing{};
  boost::json::array keys;
  for (const auto& k : ks) keys.push_back(boost::json::array{k.conv, k.seq});
  const std::string keys_json = boost::json::serialize(keys);
  const std::string docs = "SELECT d.doc FROM search_docs d JOIN json_each($1) k ON d.conv_id = k.value ->> 0 AND d.seq = k.value ->> 1";
  CONFAB_TRY(del, query(c, "DELETE FROM search_fts WHERE rowid IN (" + docs + ")", {std::string_view(keys_json)}));
  CONFAB_TRY(rm, query(c, "DELETE FROM search_docs WHERE doc IN (" + docs + ")", {std::string_view(keys_json)}));
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
