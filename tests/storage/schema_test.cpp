// The two backends' schemas must mean the same: both are migrated from scratch, read back from the
// databases' own catalogs (SQLite's pragma functions, PostgreSQL's pg_catalog and
// information_schema) into one neutral form — tables, columns (type family, NOT NULL, default,
// generated id), primary keys, and the other indexes (columns, unique, partial) — and compared.
// Names the databases choose themselves (index names of UNIQUE constraints) are not compared.
// The one intended difference is PostgreSQL's user_heads (writers on several nodes; SQLite has
// one writer), which this test names explicitly.
#include "storage/migrate.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace confab::testing {
namespace {

struct column {
  std::string type;  // "integer" or "text"
  bool not_null = false;
  std::string default_value;  // as the database spells the literal, casts removed; "" if none
  bool generated = false;     // an id the database assigns (IDENTITY / SQLite's rowid alias)
  bool operator==(const column&) const = default;
};

struct table {
  std::map<std::string, column> columns;
  std::vector<std::string> primary_key;
  std::set<std::string> indexes;  // "unique (a,b) partial" etc., without names
  bool operator==(const table&) const = default;
};

using schema = std::map<std::string, table>;

std::string describe(const schema& s) {
  std::ostringstream o;
  for (auto& [name, t] : s) {
    o << name << ": pk(";
    for (auto& c : t.primary_key) o << c << ",";
    o << ")\n";
    for (auto& [cn, c] : t.columns)
      o << "  " << cn << " " << c.type << (c.not_null ? " not null" : "") << (c.generated ? " generated" : "")
        << (c.default_value.empty() ? "" : " default " + c.default_value) << "\n";
    for (auto& i : t.indexes) o << "  index " << i << "\n";
  }
  return o.str();
}

std::string type_family(std::string t) {
  for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (t.find("int") != std::string::npos) return "integer";
  if (t.find("text") != std::string::npos || t.find("char") != std::string::npos) return "text";
  return t;
}

std::string plain_default(const std::string& d) { return std::regex_replace(d, std::regex("::[a-z ]+$"), ""); }

std::string index_text(bool unique, const std::string& cols, bool partial) {
  return std::string(unique ? "unique " : "") + "(" + cols + ")" + (partial ? " partial" : "");
}

std::vector<storage::row> must(storage::db_result<storage::rows> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}

schema read_sqlite(storage::connection& c) {
  schema s;
  for (auto& t : must(storage::query(c, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"), "tables")) {
    const std::string name = t.str(0);
    table& tb = s[name];
    std::vector<std::pair<std::int64_t, std::string>> pk;
    for (auto& col : must(storage::query(c, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info($1)",
                                         {std::string_view(name)}),
                          "columns")) {
      column cl{type_family(col.str(1)), col.i64(2) != 0, plain_default(col.str(3)), false};
      if (col.i64(4) > 0) {
        pk.emplace_back(col.i64(4), col.str(0));
        cl.not_null = true;  // a primary key column is never NULL (SQLite's rowid alias included)
      }
      tb.columns[col.str(0)] = cl;
    }
    std::sort(pk.begin(), pk.end());
    for (auto& [k, col] : pk) tb.primary_key.push_back(col);
    // An INTEGER PRIMARY KEY of its own is the rowid: SQLite assigns it.
    if (tb.primary_key.size() == 1 && tb.columns[tb.primary_key[0]].type == "integer" && pk.size() == 1) {
      auto ddl = must(storage::query(c, "SELECT sql FROM sqlite_master WHERE name = $1", {std::string_view(name)}), "ddl");
      if (ddl[0].str(0).find("WITHOUT ROWID") == std::string::npos) tb.columns[tb.primary_key[0]].generated = true;
    }
    for (auto& ix : must(storage::query(c, "SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)", {std::string_view(name)}),
                         "indexes")) {
      if (ix.str(2) == "pk") continue;  // the primary key, compared above
      std::string cols;
      for (auto& ic : must(storage::query(c, "SELECT name FROM pragma_index_info($1) ORDER BY seqno", {std::string_view(ix.str(0))}),
                           "index columns"))
        cols += (cols.empty() ? "" : ",") + ic.str(0);
      tb.indexes.insert(index_text(ix.i64(1) != 0, cols, ix.i64(3) != 0));
    }
  }
  return s;
}

schema read_postgres(storage::connection& c) {
  schema s;
  for (auto& t : must(storage::query(c, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND "
                                        "table_type = 'BASE TABLE'"),
                      "tables")) {
    const std::string name = t.str(0);
    table& tb = s[name];
    for (auto& col : must(storage::query(c,
                                         "SELECT column_name, data_type, is_nullable, column_default, is_identity FROM "
                                         "information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
                                         {std::string_view(name)}),
                          "columns"))
      tb.columns[col.str(0)] = column{type_family(col.str(1)), col.str(2) == "NO", plain_default(col.str(3)), col.str(4) == "YES"};
    const std::string rel = "CAST(CAST($1 AS TEXT) AS regclass)";
    for (auto& k : must(storage::query(c,
                                       "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                                       "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = " + rel + " AND i.indisprimary "
                                       "ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)",
                                       {std::string_view(name)}),
                        "primary key"))
      tb.primary_key.push_back(k.str(0));
    for (auto& ix : must(storage::query(c,
                                        "SELECT i.indisunique, i.indpred IS NOT NULL, (SELECT string_agg(a.attname, ',' ORDER BY k.ord) "
                                        "FROM unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a "
                                        "ON a.attrelid = i.indrelid AND a.attnum = k.attnum) FROM pg_index i "
                                        "WHERE i.indrelid = " + rel + " AND NOT i.indisprimary",
                                        {std::string_view(name)}),
                         "indexes"))
      tb.indexes.insert(index_text(ix.i64(0) == 1, ix.str(2), ix.i64(1) == 1));  // booleans come back as 0/1
  }
  return s;
}

// A fresh, migrated SQLite database file.
schema sqlite_schema() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("confab-schema-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  schema s;
  {
    auto conn = storage::sqlite::make_factory((dir / "s.db").string())();
    if (!conn) throw std::runtime_error(conn.error().message);
    if (auto r = storage::migrate(**conn, storage::sqlite::migrations()); !r) throw std::runtime_error(r.error().message);
    s = read_sqlite(**conn);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return s;
}

// A fresh, migrated PostgreSQL database on the test server (the ctest pg fixture's).
schema postgres_schema() {
  const char* file = std::getenv("CONFAB_TEST_PG_DSN_FILE");
  if (!file) throw std::runtime_error("CONFAB_TEST_PG_DSN_FILE is not set: run through ctest, whose pg fixture starts PostgreSQL");
  std::ifstream in(file);
  std::string base;
  std::getline(in, base);
  std::random_device rd;
  const std::string db = "schema_" + std::to_string(rd()) + std::to_string(rd());
  auto admin = [&](const std::string& sql) {
    PGconn* c = PQconnectdb(base.c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string err = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error(sql + ": " + err);
  };
  admin("CREATE DATABASE " + db);
  schema s;
  {
    auto conn = storage::postgres::make_factory(std::regex_replace(base, std::regex("dbname=\\S+"), "") + " dbname=" + db)();
    if (!conn) throw std::runtime_error(conn.error().message);
    if (auto r = storage::migrate(**conn, storage::postgres::migrations()); !r) throw std::runtime_error(r.error().message);
    s = read_postgres(**conn);
  }
  admin("DROP DATABASE " + db);
  return s;
}

TEST(schema, both_backends_migrate_to_schemas_that_mean_the_same) {
  schema lite = sqlite_schema(), pg = postgres_schema();
  ASSERT_TRUE(lite.count("events")) << describe(lite);  // the reader found the tables at all
  ASSERT_TRUE(pg.count("events")) << describe(pg);
  // The intended difference: stream heads exist on PostgreSQL only, keyed by user id.
  ASSERT_TRUE(pg.count("user_heads"));
  EXPECT_EQ(pg["user_heads"].primary_key, std::vector<std::string>{"user_id"});
  EXPECT_FALSE(lite.count("user_heads"));
  pg.erase("user_heads");
  // Issue 13: the search index is each backend's own structure (FTS5 and its shadow tables; a
  // tsvector with a GIN index, split by hash of conversation), holding the same terms
  // (search_test proves that they find the same messages). Both key a message by (conv_id, seq).
  ASSERT_TRUE(lite.count("search_docs") && lite.count("search_fts") && pg.count("search_docs") && pg.count("search_docs_7"));
  EXPECT_EQ(pg["search_docs"].primary_key, (std::vector<std::string>{"conv_id", "seq"}));
  EXPECT_EQ(lite["search_docs"].primary_key, std::vector<std::string>{"doc"});  // the FTS5 rowid
  for (auto* s : {&lite, &pg})
    std::erase_if(*s, [](const auto& t) { return t.first.starts_with("search_"); });
  EXPECT_EQ(describe(lite), describe(pg));
  EXPECT_TRUE(lite == pg);
}

// Citus-friendly keys: every table's primary key starts with its distribution key (user-keyed
// tables with the user id, conversation-keyed ones with the conversation id); a new table must
// name its key here.
TEST(schema, primary_keys_lead_with_their_distribution_key) {
  schema pg = postgres_schema();
  const std::map<std::string, std::string> lead = {{"users", "id"},          {"devices", "id"},      {"conversations", "id"},
                                                   {"members", "conv_id"},   {"events", "conv_id"},  {"stream", "user_id"},
                                                   {"user_heads", "user_id"}, {"direct_pairs", "user_lo"},
                                                   {"feed_cursors", "conv_id"},
                                                   // issue 11
                                                   {"reactions", "conv_id"}, {"edit_history", "conv_id"},
                                                   {"threads", "conv_id"}, {"thread_users", "user_id"}, {"mentions", "user_id"},
                                                   {"conv_settings", "conv_id"}, {"member_moderation", "conv_id"},
                                                   {"pins", "conv_id"}, {"notify_levels", "user_id"},
                                                   // issue 12
                                                   {"channels", "conv_id"},
                                                   // issue 13
                                                   {"search_docs", "conv_id"},
                                                   // a row per shared feed consumer: a reference table
                                                   {"feed_leases", "consumer"},
                                                   // issue 15: by device (a device is one user's); the queue by its
                                                   // row id, which spreads the claims over the shards
                                                   {"push_targets", "device_id"}, {"device_receipts", "device_id"},
                                                   {"push_queue", "id"}};
  for (auto& [t, tb] : pg) {
    if (t == "schema_version") continue;  // one row, no key
    // issue 13: search_docs is split by hash of conversation into search_docs_0..7
    auto k = lead.find(t.starts_with("search_docs") ? std::string("search_docs") : t);
    ASSERT_NE(k, lead.end()) << "table " << t << ": add its distribution key to this test";
    ASSERT_FALSE(tb.primary_key.empty()) << t;
    EXPECT_EQ(tb.primary_key[0], k->second) << t;
  }
}

}  // namespace
}  // namespace confab::testing
