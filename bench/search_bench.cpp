// Search at scale (issue 13): a generated multilingual corpus, indexed through the real path (the
// feed and store::index_for_search), then index size, query latency and recall per language; on
// PostgreSQL also PostgreSQL's own English full-text search on the same texts, side by side.
//
//   search_bench sqlite PATH  [messages=20000] [queries=200] [recall_words=20] [seed=13]
//   search_bench postgres DSN [messages=20000] [queries=200] [recall_words=20] [seed=13]
//
// The database must be empty (a new file, or a new PostgreSQL database). The corpus: users each
// in 200 conversations of 10 members, ~100 messages per conversation (so the user count grows
// with the message count), each conversation in one of eight languages (search_words.hpp), emoji
// in every language. Users, conversations, members and events are written in bulk by SQL; the
// search index is then built by reading the feed (consumer "search", batches of 500) and calling
// store::index_for_search, as confabd --reindex does, and timed.
//
// Queries (single words, the first page of 20, newest first, as the given member): per language,
// `queries` conversation-scoped ones (in a conversation of that language) and `queries` over all
// of the member's conversations. Recall: per language, `recall_words` words spread over the list,
// each searched over all of a member's conversations and paged to the end; what the generator put
// in those conversations is the expected set. Prints one JSON line per measurement; asserts no
// time.
#include "run_awaitable.hpp"
#include "search/query.hpp"
#include "search_words.hpp"
#include "storage/db.hpp"
#include "storage/feed.hpp"
#include "storage/migrate.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace confab;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

namespace {

constexpr int members_per_conv = 10;
constexpr int convs_per_user = 200;
constexpr int messages_per_conv = 100;
constexpr int page_limit = 20;
constexpr int index_batch = 500;
constexpr int text_languages = 8;  // languages[0..7]; languages[8] is emoji
constexpr int emoji = 8;

using bench::run;

void exec(storage::connection& c, const std::string& sql) {
  if (auto r = c.exec(sql); !r) throw std::runtime_error(sql.substr(0, 80) + ": " + r.error().message);
}

storage::rows sql_rows(storage::connection& c, const std::string& sql, std::span<const storage::param> ps = {}) {
  auto r = c.query(sql, ps);
  if (!r) throw std::runtime_error(sql.substr(0, 80) + ": " + r.error().message);
  return std::move(*r);
}

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

// splitmix64: the same corpus from the same seed on every platform.
struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// ---------------------------------------------------------------- the vocabulary

struct vocabulary {
  std::vector<std::string> words;                  // by word id (distinct strings)
  std::vector<int> lang_of;                        // first language listing the word
  std::vector<std::vector<int>> lists;             // per language: word ids, in list order
  std::vector<std::vector<double>> zipf;           // per language: cumulative weights
};

vocabulary make_vocabulary() {
  vocabulary v;
  std::unordered_map<std::string, int> ids;
  for (int l = 0; l <= emoji; ++l) {
    std::istringstream in(search_bench::languages[l].words);
    std::vector<int> list;
    for (std::string w; in >> w;) {
      auto [it, fresh] = ids.emplace(w, static_cast<int>(v.words.size()));
      if (fresh) {
        v.words.push_back(w);
        v.lang_of.push_back(l);
      }
      if (std::find(list.begin(), list.end(), it->second) == list.end()) list.push_back(it->second);
    }
    std::vector<double> cum;
    double sum = 0;
    for (std::size_t r = 0; r < list.size(); ++r) cum.push_back(sum += 1.0 / static_cast<double>(r + 1));
    v.lists.push_back(std::move(list));
    v.zipf.push_back(std::move(cum));
  }
  return v;
}

int zipf_word(const vocabulary& v, int lang, rng& r) {
  const auto& cum = v.zipf[lang];
  const double x = r.unit() * cum.back();
  const auto i = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
  return v.lists[lang][std::min(i, cum.size() - 1)];
}

// ---------------------------------------------------------------- the corpus

struct corpus {
  int users = 0, convs = 0;
  std::vector<int> conv_lang;                    // by conv id (1-based; [0] unused)
  std::vector<std::vector<int>> user_convs;      // by user id (1-based)
  std::vector<std::vector<std::int64_t>> conv_msgs;  // by conv id: message index of seq 1, 2, ...
  std::vector<std::string> text;                 // by message index
  std::vector<int> conv, sender;
  std::vector<std::int64_t> seq;                 // by message index
  std::vector<std::uint32_t> word_begin;         // words of message i: word_ids[word_begin[i] .. word_begin[i+1])
  std::vector<std::uint16_t> word_ids;
};

// Conversation c's members are users (c - 1 + j) mod users + 1, j < 10: each user is in exactly
// convs * 10 / users = 200 conversations.
int member_of(const corpus& k, int conv, int j) { return (conv - 1 + j) % k.users + 1; }

void append_word(corpus& k, const vocabulary& v, int lang, int w, std::string& text, bool first, rng& r) {
  const bool spaced = search_bench::languages[lang].spaced;
  if (lang == emoji) {
    if (!first && r.below(2) == 0) text += ' ';  // else right after the word before
  } else if (!first && spaced) {
    text += r.below(12) == 0 ? ", " : " ";
  } else if (!first && r.below(6) == 0) {
    text += lang == 7 ? " " : (lang == 6 ? ", " : "、");  // a pause: Thai space, Korean comma, CJK comma
  }
  text += v.words[w];
  k.word_ids.push_back(static_cast<std::uint16_t>(w));
}

std::string make_message(corpus& k, const vocabulary& v, int lang, rng& r) {
  std::string text;
  const int n = 3 + r.below(12);
  for (int i = 0; i < n; ++i) append_word(k, v, lang, zipf_word(v, lang, r), text, i == 0, r);
  if (r.below(4) == 0) append_word(k, v, emoji, zipf_word(v, emoji, r), text, false, r);
  if (lang == 0 && !text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  text += lang == 4 || lang == 5 ? "。" : (search_bench::languages[lang].spaced ? "." : "");
  return text;
}

corpus make_corpus(const vocabulary& v, std::int64_t messages, std::uint64_t seed) {
  corpus k;
  const std::int64_t per_user = convs_per_user / members_per_conv;  // conversations per user slot
  k.users = static_cast<int>(std::max<std::int64_t>(members_per_conv, messages / (messages_per_conv * per_user)));
  k.convs = static_cast<int>(k.users * per_user);
  k.conv_lang.assign(k.convs + 1, 0);
  k.user_convs.assign(k.users + 1, {});
  k.conv_msgs.assign(k.convs + 1, {});
  for (int c = 1; c <= k.convs; ++c) {
    k.conv_lang[c] = (c - 1) % text_languages;
    for (int j = 0; j < members_per_conv; ++j) k.user_convs[member_of(k, c, j)].push_back(c);
  }
  rng r{seed};
  k.text.reserve(messages);
  for (std::int64_t i = 0; i < messages; ++i) {
    const int c = 1 + r.below(k.convs);
    k.word_begin.push_back(static_cast<std::uint32_t>(k.word_ids.size()));
    k.text.push_back(make_message(k, v, k.conv_lang[c], r));
    k.conv.push_back(c);
    k.sender.push_back(member_of(k, c, r.below(members_per_conv)));
    k.conv_msgs[c].push_back(i);
    k.seq.push_back(static_cast<std::int64_t>(k.conv_msgs[c].size()));
  }
  k.word_begin.push_back(static_cast<std::uint32_t>(k.word_ids.size()));
  return k;
}

bool contains_word(const corpus& k, std::int64_t msg, int w) {
  const auto b = k.word_ids.begin() + k.word_begin[msg], e = k.word_ids.begin() + k.word_begin[msg + 1];
  return std::find(b, e, static_cast<std::uint16_t>(w)) != e;
}

}  // namespace

namespace {

constexpr std::int64_t t0_ms = 1'767'225'600'000;  // 2026-01-01; message i is sent at t0 + i s
std::int64_t ts_of(std::int64_t msg) { return t0_ms + msg * 1000; }

// Users 1..users and conversations 1..convs (a fresh database numbers them so: checked), their
// members, in a few statements.
void load_people(storage::connection& c, const corpus& k) {
  if (sql_rows(c, "SELECT COUNT(*) FROM users")[0].i64(0) != 0) throw std::runtime_error("the database is not empty");
  const auto n = [](int x) { return std::to_string(x); };
  exec(c, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + n(k.users) +
              ") INSERT INTO users (username, password_hash, created_ms) SELECT 'sb' || i, 'x', 0 FROM k");
  exec(c, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + n(k.convs) +
              ") INSERT INTO conversations (kind, title, created_ms, last_ms) SELECT 'group', 'c' || i, 0, 0 FROM k");
  if (sql_rows(c, "SELECT MAX(id) FROM users")[0].i64(0) != k.users || sql_rows(c, "SELECT MAX(id) FROM conversations")[0].i64(0) != k.convs)
    throw std::runtime_error("users or conversations were not numbered from 1");
  exec(c, "WITH RECURSIVE j(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM j WHERE i < " + n(members_per_conv - 1) +
              ") INSERT INTO members (conv_id, user_id, role, joined_seq) SELECT c.id, (c.id - 1 + j.i) % " + n(k.users) +
              " + 1, 'member', 1 FROM conversations c CROSS JOIN j");
}

// Message events, 1000 rows a statement, in one transaction; then each conversation's last_seq.
void load_events(storage::connection& c, const corpus& k) {
  constexpr std::size_t rows_per_statement = 1000;
  exec(c, "BEGIN");
  std::vector<storage::param> ps;
  std::string sql;
  const auto flush = [&] {
    if (ps.empty()) return;
    sql_rows(c, "INSERT INTO events (conv_id, seq, kind, sender_id, device_id, ts_ms, body, content_type) VALUES " + sql, ps);
    ps.clear();
    sql.clear();
  };
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(k.text.size()); ++i) {
    const auto p = ps.size();
    if (!sql.empty()) sql += ", ";
    sql += "($" + std::to_string(p + 1) + ", $" + std::to_string(p + 2) + ", 'message', $" + std::to_string(p + 3) + ", 0, $" +
           std::to_string(p + 4) + ", $" + std::to_string(p + 5) + ", 'text/plain')";
    ps.insert(ps.end(), {std::int64_t{k.conv[i]}, k.seq[i], std::int64_t{k.sender[i]}, ts_of(i), std::string_view(k.text[i])});
    if (ps.size() >= rows_per_statement * 5) flush();
  }
  flush();
  exec(c, "UPDATE conversations SET last_seq = (SELECT COALESCE(MAX(e.seq), 0) FROM events e WHERE e.conv_id = conversations.id), "
          "last_ms = (SELECT COALESCE(MAX(e.ts_ms), 0) FROM events e WHERE e.conv_id = conversations.id)");
  exec(c, "COMMIT");
}

// Indexes every event through the feed, as confabd --reindex does: events indexed.
asio::awaitable<result<std::int64_t>> index_everything(storage::feed& f, storage::store& st) {
  const storage::feed_runner::handler h = [&st](const storage::feed_batch& b) { return st.index_for_search(b.events); };
  std::int64_t total = 0;
  confab::id_t next = 0;
  for (;;) {
    auto r = co_await storage::run_feed_step(f, "search", index_batch, next, h);
    if (!r) co_return r.error();
    if (r->events == 0) co_return total;
    total += r->events;
    next = r->next_conv;
  }
}

}  // namespace

namespace {

struct run_info {
  std::string backend;
  std::int64_t messages = 0;
};

std::string head(const run_info& ri, const char* what) {
  return "{\"bench\":\"search\",\"backend\":\"" + ri.backend + "\",\"messages\":" + std::to_string(ri.messages) + ",\"what\":\"" +
         what + "\"";
}

// Bytes of the search index (every table and index of it) and of the events table, per message.
void print_sizes(storage::connection& c, const run_info& ri) {
  std::int64_t search = 0, search_index = 0, events = 0;
  std::string parts;
  if (ri.backend == "sqlite") {
    for (const auto& r : sql_rows(c, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY name")) {
      const std::string& name = r.str(0);
      if (name.starts_with("search_") || name.starts_with("sqlite_autoindex_search_")) {
        search += r.i64(1);
        parts += ",\"" + name + "\":" + std::to_string(r.i64(1));
      }
      if (name == "events" || name == "events_client") events += r.i64(1);
    }
  } else {
    const auto r = sql_rows(c, "SELECT SUM(pg_table_size(relid)), SUM(pg_indexes_size(relid)) FROM pg_partition_tree('search_docs')");
    search = r[0].i64(0) + r[0].i64(1);
    search_index = r[0].i64(1);
    events = sql_rows(c, "SELECT pg_total_relation_size('events')")[0].i64(0);
  }
  const auto per = [&](std::int64_t b) { return std::to_string(static_cast<double>(b) / static_cast<double>(ri.messages)); };
  std::printf("%s,\"search_bytes\":%lld,\"search_bytes_per_message\":%s,\"search_index_bytes\":%lld,\"events_bytes\":%lld,"
              "\"events_bytes_per_message\":%s%s}\n",
              head(ri, "index_size").c_str(), static_cast<long long>(search), per(search).c_str(),
              static_cast<long long>(search_index), static_cast<long long>(events), per(events).c_str(), parts.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------- queries

struct probe {
  int lang = 0, user = 0, word = 0;
  std::optional<int> conv;  // conversation-scoped
};

// n probes per language: a random member, a word drawn uniformly from the language's list, and
// for a conversation-scoped probe one of the member's conversations in that language.
std::vector<probe> make_probes(const corpus& k, const vocabulary& v, int n, bool scoped, std::uint64_t seed) {
  rng r{seed};
  std::vector<probe> out;
  for (int l = 0; l <= emoji; ++l) {
    for (int i = 0; i < n; ++i) {
      probe p{l, 1 + r.below(k.users), v.lists[l][r.below(static_cast<int>(v.lists[l].size()))], std::nullopt};
      if (scoped) {
        std::vector<int> mine;
        for (int c : k.user_convs[p.user])
          if (l == emoji || k.conv_lang[c] == l) mine.push_back(c);
        p.conv = mine[r.below(static_cast<int>(mine.size()))];
      }
      out.push_back(p);
    }
  }
  return out;
}

struct timing {
  std::vector<double> ms;
  std::int64_t hits = 0;
  int errors = 0;
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void print_timing(const run_info& ri, const std::string& engine, bool scoped, const std::string& lang, const timing& t) {
  std::printf("%s,\"engine\":\"%s\",\"scope\":\"%s\",\"lang\":\"%s\",\"queries\":%zu,\"p50_ms\":%.2f,\"p95_ms\":%.2f,"
              "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"mean_hits\":%.1f,\"errors\":%d}\n",
              head(ri, "latency").c_str(), engine.c_str(), scoped ? "conversation" : "all", lang.c_str(), t.ms.size(),
              pct(t.ms, 0.5), pct(t.ms, 0.95), pct(t.ms, 0.99), pct(t.ms, 1.0),
              t.ms.empty() ? 0.0 : static_cast<double>(t.hits) / static_cast<double>(t.ms.size()), t.errors);
  std::fflush(stdout);
}

// Runs each probe with `one` (returns the hit count, or -1 for an error) and prints per language
// and overall.
template <class F>
void time_probes(const run_info& ri, const std::string& engine, bool scoped, const std::vector<probe>& ps, F one) {
  std::vector<timing> by_lang(emoji + 1);
  timing all;
  for (const auto& p : ps) {
    const auto t0 = clk::now();
    const std::int64_t hits = one(p);
    const double ms = seconds_since(t0) * 1000;
    for (timing* t : {&by_lang[p.lang], &all}) {
      t->ms.push_back(ms);
      if (hits < 0) ++t->errors;
      else t->hits += hits;
    }
  }
  for (int l = 0; l <= emoji; ++l) print_timing(ri, engine, scoped, search_bench::languages[l].code, by_lang[l]);
  print_timing(ri, engine, scoped, "all", all);
}

}  // namespace

namespace {

struct confab_engine {
  asio::io_context& ioc;
  storage::store& st;

  // One page; nullopt when the query failed (printed once per kind of error).
  std::optional<storage::event_list_page> page(const probe& p, const std::string& word, std::optional<storage::keyset_cursor> before,
                                               int limit) {
    auto q = search::parse_query(word);
    if (!q) return fail("parse \"" + word + "\": " + q.error().message);
    std::optional<confab::id_t> conv;
    if (p.conv) conv = *p.conv;
    auto r = run(ioc, st.search(p.user, *q, conv, before, limit, std::chrono::milliseconds(2000), {}));
    if (!r) return fail("search \"" + word + "\": " + r.error().message);
    return std::move(*r);
  }
  std::optional<storage::event_list_page> fail(const std::string& what) {
    if (errors_seen.insert(what.substr(what.find(':'))).second) std::fprintf(stderr, "%s\n", what.c_str());
    return std::nullopt;
  }
  // Every result (conv, seq), paging to the end; nullopt on an error.
  std::optional<std::vector<std::pair<std::int64_t, std::int64_t>>> all(const probe& p, const std::string& word) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    std::optional<storage::keyset_cursor> before;
    for (;;) {
      auto pg = page(p, word, before, 100);
      if (!pg) return std::nullopt;
      for (const auto& e : pg->events) out.emplace_back(e.conv, e.seq);
      if (!pg->next) return out;
      before = pg->next;
    }
  }
  std::set<std::string> errors_seen;
};

// PostgreSQL's own English full-text search as Synapse and Zulip use it, on a copy of the texts.
struct english_engine {
  storage::connection& c;

  static std::string sql(bool scoped, bool page) {
    return std::string("SELECT d.conv_id, d.seq, e.body FROM english_docs d JOIN members m ON m.conv_id = d.conv_id AND m.user_id = $1 "
                       "JOIN events e ON e.conv_id = d.conv_id AND e.seq = d.seq "
                       "WHERE d.vec @@ plainto_tsquery('english', $2) AND (m.left_seq IS NULL OR d.seq <= m.left_seq)") +
           (scoped ? " AND d.conv_id = $3" : "") + " ORDER BY d.ts_ms DESC, d.conv_id DESC, d.seq DESC" +
           (page ? " LIMIT " + std::to_string(page_limit + 1) : "");
  }
  std::int64_t page(const probe& p, const std::string& word) {
    return static_cast<std::int64_t>(run_sql(p, word, true).size());
  }
  storage::rows run_sql(const probe& p, const std::string& word, bool page) {
    std::vector<storage::param> ps{std::int64_t{p.user}, std::string_view(word)};
    if (p.conv) ps.emplace_back(std::int64_t{*p.conv});
    return sql_rows(c, sql(p.conv.has_value(), page), ps);
  }
};

// Builds english_docs: (conv_id, seq, ts_ms, to_tsvector('english', body)) with a GIN index,
// shaped like Confab's search_docs; prints its build time and size.
void build_english(storage::connection& c, const run_info& ri) {
  const auto t0 = clk::now();
  exec(c, "CREATE TABLE english_docs AS SELECT conv_id, seq, ts_ms, to_tsvector('english', body) AS vec FROM events WHERE kind = 'message'");
  exec(c, "ALTER TABLE english_docs ADD PRIMARY KEY (conv_id, seq)");
  exec(c, "CREATE INDEX english_docs_vec ON english_docs USING GIN (vec)");
  exec(c, "CREATE INDEX english_docs_time ON english_docs (ts_ms, conv_id, seq)");
  exec(c, "ANALYZE english_docs");
  const double s = seconds_since(t0);
  const auto bytes = sql_rows(c, "SELECT pg_total_relation_size('english_docs')")[0].i64(0);
  std::printf("%s,\"engine\":\"pg_english\",\"build_s\":%.1f,\"bytes\":%lld,\"bytes_per_message\":%.1f}\n",
              head(ri, "english_index").c_str(), s, static_cast<long long>(bytes),
              static_cast<double>(bytes) / static_cast<double>(ri.messages));
  std::fflush(stdout);
}

}  // namespace

namespace {

using hit_list = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (conv, seq)

std::string json_text(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

// recall_words probes per language, words spread over the list (frequent to rare), each over all
// of a member's conversations; every emoji.
std::vector<probe> recall_probes(const corpus& k, const vocabulary& v, int per_lang) {
  std::vector<probe> out;
  for (int l = 0; l <= emoji; ++l) {
    const int size = static_cast<int>(v.lists[l].size());
    const int n = l == emoji ? size : std::min(per_lang, size);  // every emoji: skin tones, flags, ZWJ sequences
    for (int i = 0; i < n; ++i) {
      const int user = 1 + static_cast<int>((static_cast<std::int64_t>(l * per_lang + i) * 7919) % k.users);
      out.push_back(probe{l, user, v.lists[l][static_cast<std::size_t>(i) * v.lists[l].size() / static_cast<std::size_t>(n)], std::nullopt});
    }
  }
  return out;
}

std::set<std::int64_t> expected_for(const corpus& k, const probe& p) {
  std::set<std::int64_t> out;
  for (int c : k.user_convs[p.user])
    for (std::int64_t m : k.conv_msgs[c])
      if (contains_word(k, m, p.word)) out.insert(m);
  return out;
}

struct recall_sum {
  std::int64_t expected = 0, found_expected = 0, found = 0, extra_with_text = 0;
  int words = 0, words_complete = 0, errors = 0;
};

// Compares one probe's results with the expected set; prints a line for a word not fully found.
void score(const corpus& k, const vocabulary& v, const run_info& ri, const std::string& engine, const probe& p, const hit_list& hits,
           recall_sum& sum) {
  const auto expected = expected_for(k, p);
  std::set<std::int64_t> found;
  for (auto [conv, seq] : hits)
    if (conv >= 1 && conv <= k.convs && seq >= 1 && seq <= static_cast<std::int64_t>(k.conv_msgs[conv].size()))
      found.insert(k.conv_msgs[conv][seq - 1]);
  std::int64_t ok = 0, extra_text = 0;
  std::optional<std::int64_t> missed;
  for (auto m : expected) {
    if (found.contains(m)) ++ok;
    else if (!missed) missed = m;
  }
  for (auto m : found)
    if (!expected.contains(m) && k.text[m].find(v.words[p.word]) != std::string::npos) ++extra_text;
  sum.expected += static_cast<std::int64_t>(expected.size());
  sum.found_expected += ok;
  sum.found += static_cast<std::int64_t>(hits.size());
  sum.extra_with_text += extra_text;
  ++sum.words;
  if (ok == static_cast<std::int64_t>(expected.size())) ++sum.words_complete;
  if (missed && engine == "confab")  // the English configuration misses whole scripts: its summary says so
    std::printf("%s,\"engine\":\"%s\",\"lang\":\"%s\",\"word\":\"%s\",\"user\":%d,\"expected\":%zu,\"found_expected\":%lld,"
                "\"example_conv\":%d,\"example_seq\":%lld,\"example_text\":\"%s\"}\n",
                head(ri, "recall_miss").c_str(), engine.c_str(), search_bench::languages[p.lang].code, json_text(v.words[p.word]).c_str(),
                p.user, expected.size(), static_cast<long long>(ok), k.conv[*missed], static_cast<long long>(k.seq[*missed]),
                json_text(k.text[*missed]).c_str());
}

template <class F>
void measure_recall(const corpus& k, const vocabulary& v, const run_info& ri, const std::string& engine, const std::vector<probe>& ps,
                    F all_hits) {
  std::vector<recall_sum> by_lang(emoji + 1);
  for (const auto& p : ps) {
    auto hits = all_hits(p);
    if (!hits) {
      ++by_lang[p.lang].errors;
      continue;
    }
    score(k, v, ri, engine, p, *hits, by_lang[p.lang]);
  }
  for (int l = 0; l <= emoji; ++l) {
    const auto& s = by_lang[l];
    const auto ratio = [](std::int64_t a, std::int64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 1.0; };
    std::printf("%s,\"engine\":\"%s\",\"lang\":\"%s\",\"words\":%d,\"words_complete\":%d,\"expected\":%lld,\"found_expected\":%lld,"
                "\"found\":%lld,\"recall\":%.4f,\"precision\":%.4f,\"extra_containing_word\":%lld,\"errors\":%d}\n",
                head(ri, "recall").c_str(), engine.c_str(), search_bench::languages[l].code, s.words, s.words_complete,
                static_cast<long long>(s.expected), static_cast<long long>(s.found_expected), static_cast<long long>(s.found),
                ratio(s.found_expected, s.expected), ratio(s.found_expected, s.found), static_cast<long long>(s.extra_with_text),
                s.errors);
  }
  std::fflush(stdout);
}

}  // namespace

namespace {

struct options {
  std::string backend, where;
  std::int64_t messages = 20000;
  int queries = 200, recall_words = 20;
  std::uint64_t seed = 13;
};

// Generates and loads the corpus, indexes it through the feed; prints timings.
void load_and_index(asio::io_context& ioc, storage::connection& raw, storage::store& st, storage::feed& f, const corpus& k,
                    const run_info& ri) {
  auto t0 = clk::now();
  load_people(raw, k);
  load_events(raw, k);
  const double load_s = seconds_since(t0);
  t0 = clk::now();
  auto n = run(ioc, index_everything(f, st));
  if (!n) throw std::runtime_error("indexing: " + n.error().message);
  const double index_s = seconds_since(t0);
  std::printf("%s,\"users\":%d,\"conversations\":%d,\"convs_per_user\":%d,\"members_per_conv\":%d,\"load_s\":%.1f,"
              "\"events_indexed\":%lld,\"index_s\":%.1f,\"index_msgs_per_s\":%.0f}\n",
              head(ri, "indexing").c_str(), k.users, k.convs, convs_per_user, members_per_conv, load_s, static_cast<long long>(*n),
              index_s, static_cast<double>(*n) / index_s);
  std::fflush(stdout);
}

void note(const char* what, clk::time_point t0) {
  std::fprintf(stderr, "search_bench: %s at %.0f s\n", what, seconds_since(t0));
}

void run_bench(const options& o) {
  const run_info ri{o.backend, o.messages};
  const bool pg = o.backend == "postgres";
  auto factory = pg ? storage::postgres::make_factory(o.where) : storage::sqlite::make_factory(o.where);
  auto steps = pg ? storage::postgres::migrations() : storage::sqlite::migrations();
  auto ex = std::make_unique<storage::executor>(factory, storage::executor::options{2, 256});
  if (auto r = ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, steps); }); !r)
    throw std::runtime_error("migrate: " + r.error().message);
  storage::feed f(*ex);
  storage::store st(std::move(ex));
  auto raw = factory();
  if (!raw) throw std::runtime_error("connect: " + raw.error().message);
  asio::io_context ioc;
  const auto v = make_vocabulary();
  const auto t0 = clk::now();
  const auto k = make_corpus(v, o.messages, o.seed);
  std::fprintf(stderr, "corpus: %lld messages, %d users, %d conversations, generated in %.1f s\n",
               static_cast<long long>(o.messages), k.users, k.convs, seconds_since(t0));
  load_and_index(ioc, **raw, st, f, k, ri);
  if (pg) exec(**raw, "ANALYZE");  // what autovacuum would have done by now
  print_sizes(**raw, ri);
  note("indexed", t0);
  confab_engine ce{ioc, st, {}};
  const auto scoped = make_probes(k, v, o.queries, true, o.seed + 1), everywhere = make_probes(k, v, o.queries, false, o.seed + 2);
  const auto confab_page = [&](const probe& p) -> std::int64_t {
    auto page = ce.page(p, v.words[p.word], std::nullopt, page_limit);
    return page ? static_cast<std::int64_t>(page->events.size()) : -1;
  };
  time_probes(ri, "confab", true, scoped, confab_page);
  time_probes(ri, "confab", false, everywhere, confab_page);
  note("latency measured", t0);
  const auto rp = recall_probes(k, v, o.recall_words);
  measure_recall(k, v, ri, "confab", rp, [&](const probe& p) { return ce.all(p, v.words[p.word]); });
  note("recall measured", t0);
  if (pg) {
    build_english(**raw, ri);
    english_engine ee{**raw};
    const auto english_page = [&](const probe& p) { return ee.page(p, v.words[p.word]); };
    time_probes(ri, "pg_english", true, scoped, english_page);
    time_probes(ri, "pg_english", false, everywhere, english_page);
    measure_recall(k, v, ri, "pg_english", rp, [&](const probe& p) -> std::optional<hit_list> {
      hit_list out;
      for (const auto& r : ee.run_sql(p, v.words[p.word], false)) out.emplace_back(r.i64(0), r.i64(1));
      return out;
    });
  }
  st.stop();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (std::string(argv[1]) != "sqlite" && std::string(argv[1]) != "postgres")) {
    std::cerr << "usage: search_bench sqlite PATH|postgres DSN [messages=20000] [queries=200] [recall_words=20] [seed=13]\n";
    return 2;
  }
  options o{argv[1], argv[2]};
  if (argc > 3) o.messages = std::stoll(argv[3]);
  if (argc > 4) o.queries = std::stoi(argv[4]);
  if (argc > 5) o.recall_words = std::stoi(argv[5]);
  if (argc > 6) o.seed = std::stoull(argv[6]);
  try {
    run_bench(o);
  } catch (const std::exception& e) {
    std::cerr << "search_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
