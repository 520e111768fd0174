// End-to-end tests of search (issue 13) through confabd: messages sent over the API become
// findable through the "search" feed consumer, with highlights; an edit or delete follows; the
// index survives a restart; bad queries get typed errors. A real confabd per test, both backends.
#include "e2e/harness.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include <sys/wait.h>

namespace e2e {
namespace {

class Search : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-search-");
    if (GetParam() == "postgres") {
      try {
        pg_ = std::make_unique<pg_database>();
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
    if (GetParam() == "postgres") args_ = {"--storage", "postgres", "--pg-dsn", pg_->dsn()};
    else args_ = {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()};
    for (const char* a : {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--feed-poll-ms", "20", "--rate-per-sec", "100000", "--rate-burst", "100000"})
      args_.push_back(a);
    start();
  }
  void start() {
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(args_);
    http_ = std::make_unique<http_client>(srv_->port());
  }
  void TearDown() override {
    if (srv_) srv_->stop();
    if (HasFailure() && srv_) std::cerr << "---- server log (last lines)\n" << tail_file(srv_->log_path(), 30);
    srv_.reset();
    pg_.reset();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  json::value search(const std::string& q, const std::string& token) {
    return http_->call("search", {{"q", q}}, token);
  }
  // The texts of the results (newest first).
  std::vector<std::string> texts(const std::string& q, const std::string& token) {
    std::vector<std::string> out;
    const auto page = search(q, token);  // (held: a range-for would not keep a temporary alive)
    for (auto& r : jarr(page, "results")) out.push_back(jstr(r, "text"));
    return out;
  }
  // Waits (bounded) until q finds exactly want: the index follows the feed, not the send.
  void expect_found(const std::string& q, const std::string& token, const std::vector<std::string>& want) {
    std::vector<std::string> got;
    for (int i = 0; i < 250; ++i) {
      got = texts(q, token);
      if (got == want) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(got, want) << "query " << q;
  }
  std::string error_of(const json::object& body, const std::string& token) const {
    return http_->post("search", body, token).error_code();
  }

  std::filesystem::path dir_;
  std::vector<std::string> args_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
};

TEST_P(Search, SentMessagesAreFoundWithHighlightsAndFollowEditsAndDeletes) {
  auto ana = register_user(*http_, "ana");
  auto bo = register_user(*http_, "bo");
  auto cy = register_user(*http_, "cy");
  auto conv = jint(http_->call("create_group", {{"title", "Team"}, {"members", json::array{bo.user_id}}}, ana.token), "conv");
  auto send = [&](const std::string& id, const std::string& text) {
    return jint(http_->call("send", {{"conv", conv}, {"client_id", id}, {"text", text}}, ana.token), "seq");
  };
  const auto s1 = send("a", "明天在北京见面");
  const auto s2 = send("b", "Café at noon?");
  send("c", "unrelated");
  expect_found("unrelated", bo.token, {"unrelated"});  // the last one: the feed keeps each conversation's order
  expect_found("北京", bo.token, {"明天在北京见面"});
  auto hit = jarr(search("cafe", bo.token), "results").at(0);
  EXPECT_EQ(jint(hit, "seq"), s2);
  EXPECT_EQ(jint(hit, "conv"), conv);
  EXPECT_EQ(boost::json::serialize(hit.at("highlights")), "[[0,5]]");  // "Café" is 5 bytes
  EXPECT_EQ(boost::json::serialize(jarr(search("北京", bo.token), "results").at(0).at("highlights")), "[[9,15]]");
  EXPECT_EQ(texts("cafe", cy.token), std::vector<std::string>{});  // not in the conversation
  // By relevance: one page of one, then the next by its offset cursor.
  send("e", "noon noon noon");
  expect_found("noon", bo.token, {"noon noon noon", "Café at noon?"});
  auto best = http_->call("search", {{"q", "noon"}, {"sort", "relevance"}, {"limit", 1}}, bo.token);
  ASSERT_EQ(jarr(best, "results").size(), 1u);
  EXPECT_EQ(jstr(jarr(best, "results").at(0), "text"), "noon noon noon");
  EXPECT_EQ(jstr(best, "next"), "r1");
  auto second = http_->call("search", {{"q", "noon"}, {"sort", "relevance"}, {"limit", 1}, {"before", "r1"}}, bo.token);
  EXPECT_EQ(jstr(jarr(second, "results").at(0), "text"), "Café at noon?");
  EXPECT_TRUE(second.as_object().at("next").is_null());

  http_->call("edit", {{"conv", conv}, {"seq", s2}, {"text", "Tea at noon?"}}, ana.token);
  http_->call("delete_message", {{"conv", conv}, {"seq", s1}}, ana.token);
  expect_found("tea", bo.token, {"Tea at noon?"});
  expect_found("北京", bo.token, {});
  EXPECT_EQ(texts("cafe", bo.token), std::vector<std::string>{});

  // The index is durable: after a restart, it still finds what it found, and keeps up.
  srv_->stop();
  start();
  EXPECT_EQ(texts("tea", bo.token), std::vector<std::string>{"Tea at noon?"});
  send("d", "after the restart");
  expect_found("restart", bo.token, {"after the restart"});
}

TEST_P(Search, BadQueriesGetTypedErrors) {
  auto ana = register_user(*http_, "ana");
  EXPECT_EQ(error_of({}, ana.token), "missing_field");
  EXPECT_EQ(error_of({{"q", ""}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "   "}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", std::string(10 * 1024, 'a')}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "foo:bar"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x on:2026-02-30"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "-only"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "\"unclosed"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x from:@nobody"}}, ana.token), "not_found");
  EXPECT_EQ(error_of({{"q", "x"}, {"limit", 0}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x"}, {"before", "not-a-cursor"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x"}, {"sort", "best"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x"}, {"sort", "relevance"}, {"before", "1.2.3"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x"}, {"sort", "relevance"}, {"before", "r1001"}}, ana.token), "invalid_field");
  EXPECT_EQ(error_of({{"q", "x"}, {"before", "r20"}}, ana.token), "invalid_field");
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "w ";
  EXPECT_EQ(error_of({{"q", many.substr(0, 1024)}}, ana.token), "invalid_field");  // too many items
  auto r = http_->post("search", {{"q", "foo:bar"}}, ana.token);
  EXPECT_NE(r.body.find("at character 1"), std::string::npos) << r.body;  // points at the bad part
  EXPECT_EQ(http_->post("search", {{"q", "x"}}).error_code(), "unauthenticated");
}

// Jump to a result: history around its seq, the result in the middle, both directions' has_more;
// a former member's page stops at their removal.
TEST_P(Search, HistoryAroundASeqOpensAResultInContext) {
  auto ana = register_user(*http_, "ana");
  auto bo = register_user(*http_, "bo");
  auto conv = jint(http_->call("create_group", {{"title", "T"}, {"members", json::array{bo.user_id}}}, ana.token), "conv");
  for (int i = 1; i <= 20; ++i)
    http_->call("send", {{"conv", conv}, {"client_id", "m" + std::to_string(i)}, {"text", "m" + std::to_string(i)}}, ana.token);
  // seq 1 is the group's creation; message mN is seq N + 1.
  auto seqs = [](const json::value& page) {
    std::vector<std::int64_t> out;
    for (auto& e : jarr(page, "events")) out.push_back(jint(e, "seq"));
    return out;
  };
  auto jbool = [](const json::value& v, const char* k) { return v.as_object().at(k).as_bool(); };
  auto mid = http_->call("history", {{"conv", conv}, {"around", 11}, {"limit", 5}}, bo.token);
  EXPECT_EQ(seqs(mid), (std::vector<std::int64_t>{9, 10, 11, 12, 13}));
  EXPECT_TRUE(jbool(mid, "has_more_before"));
  EXPECT_TRUE(jbool(mid, "has_more_after"));
  auto top = http_->call("history", {{"conv", conv}, {"around", 2}, {"limit", 6}}, bo.token);
  EXPECT_EQ(seqs(top), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(jbool(top, "has_more_before"));
  EXPECT_TRUE(jbool(top, "has_more_after"));
  auto end = http_->call("history", {{"conv", conv}, {"around", 21}, {"limit", 4}}, bo.token);
  EXPECT_EQ(seqs(end), (std::vector<std::int64_t>{20, 21}));
  EXPECT_FALSE(jbool(end, "has_more_after"));
  auto one = http_->call("history", {{"conv", conv}, {"around", 11}, {"limit", 1}}, bo.token);
  EXPECT_EQ(seqs(one), (std::vector<std::int64_t>{11}));
  EXPECT_TRUE(jbool(one, "has_more_after"));
  // Removed at seq 22: bo's page around 21 stops there, though ana sends on.
  http_->call("remove_member", {{"conv", conv}, {"user_id", bo.user_id}}, ana.token);
  http_->call("send", {{"conv", conv}, {"client_id", "late"}, {"text", "late"}}, ana.token);
  auto former = http_->call("history", {{"conv", conv}, {"around", 21}, {"limit", 10}}, bo.token);
  EXPECT_EQ(seqs(former).back(), 22);
  EXPECT_FALSE(jbool(former, "has_more_after"));
  EXPECT_EQ(http_->post("history", {{"conv", conv}, {"around", 5}, {"before", 9}}, bo.token).error_code(), "invalid_field");
  EXPECT_EQ(http_->post("history", {{"conv", conv}, {"around", 0}}, bo.token).error_code(), "invalid_field");
  auto cy = register_user(*http_, "cy");
  EXPECT_EQ(http_->post("history", {{"conv", conv}, {"around", 5}}, cy.token).error_code(), "forbidden");
}

// confabd --reindex, run beside the server (online): it puts every message back in an index that
// lost its documents, resumes after a crash from where its cursor stopped, starts over once it
// had finished, and hands the index back to the server, which keeps indexing new messages.
TEST_P(Search, ReindexRebuildsOnlineAndResumesAfterACrash) {
  auto ana = register_user(*http_, "ana");
  auto conv = jint(http_->call("create_group", {{"title", "R"}, {"members", json::array{}}}, ana.token), "conv");
  for (int i = 1; i <= 120; ++i)
    http_->call("send", {{"conv", conv}, {"client_id", "r" + std::to_string(i)}, {"text", "n" + std::to_string(i) + " common"}}, ana.token);
  expect_found("n120", ana.token, {"n120 common"});
  // The index loses its documents (the terms' rows stay: a rebuild replaces them by key).
  if (GetParam() == "postgres") pg_->exec("DELETE FROM search_docs");
  else sqlite_exec(dir_ / "confab.db", "DELETE FROM search_docs");
  EXPECT_EQ(texts("n5", ana.token), std::vector<std::string>{});

  const auto out = dir_ / "reindex.txt";
  auto reindex = [&](const std::string& env) {
    std::string cmd = env + " '" + std::string(CONFAB_BINARY) + "'";
    for (const auto& a : args_) cmd += " '" + a + "'";
    cmd += " --reindex --reindex-batch 50 2>'" + out.string() + "' >/dev/null";
    const int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  // Killed after its first batch of 50 (the group's creation and 49 messages, n1..n49).
  EXPECT_EQ(reindex("CONFABD_TEST_REINDEX_EXIT_AFTER=1"), 137) << tail_file(out, 20);
  EXPECT_EQ(texts("n49", ana.token), std::vector<std::string>{"n49 common"});
  EXPECT_EQ(texts("n50", ana.token), std::vector<std::string>{});
  EXPECT_EQ(reindex(""), 0) << tail_file(out, 20);
  const auto log = tail_file(out, 20);
  EXPECT_NE(log.find("resuming an interrupted rebuild"), std::string::npos) << log;
  EXPECT_NE(log.find("121/121 events"), std::string::npos) << log;
  for (const char* q : {"n1", "n50", "n120"}) EXPECT_EQ(texts(q, ana.token).size(), 1u) << q;
  EXPECT_EQ(texts("common", ana.token).size(), 20u);  // a page
  // Finished: the next one starts over.
  EXPECT_EQ(reindex(""), 0) << tail_file(out, 20);
  EXPECT_NE(tail_file(out, 20).find("rebuilding the search index"), std::string::npos) << tail_file(out, 20);
  // The server took the index back.
  http_->call("send", {{"conv", conv}, {"client_id", "after"}, {"text", "afterwards"}}, ana.token);
  expect_found("afterwards", ana.token, {"afterwards"});
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& i) { return i.param; }
INSTANTIATE_TEST_SUITE_P(Backends, Search, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
