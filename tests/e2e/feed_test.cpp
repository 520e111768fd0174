// Feeds (storage/feed.hpp) through confabd's built-in consumer "file" (--feed-file), on both
// backends: events committed but not yet consumed when the server is killed (SIGKILL), and a
// crash after the consumer handled a batch but before its cursor commit, lose nothing and repeat
// nothing after a restart. The file holds one JSON line per event; the test checks that each
// conversation's lines are exactly seq 1..last, once each, in order.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace e2e {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The (conv, seq) of each line of the feed file, in file order.
std::vector<std::pair<std::int64_t, std::int64_t>> feed_lines(const std::filesystem::path& p) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  std::istringstream in(read_all(p));
  std::string line;
  while (std::getline(in, line)) {
    auto v = json::parse(line);
    out.emplace_back(jint(v, "conv"), jint(v, "seq"));
  }
  return out;
}

// Polls (bounded) until pred() holds.
class Feed : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-feed-");
    if (GetParam() == "postgres") pg_ = std::make_unique<pg_database>();
    feed_file_ = dir_ / "feed.jsonl";
  }
  void TearDown() override {
    if (srv_) {
      const bool was_running = srv_->running();
      const int status = srv_->stop();
      // A clean exit after SIGTERM (under ASan also: no memory error at shutdown).
      if (was_running) {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
      }
      if (HasFailure()) std::cerr << "---- confabd log\n" << tail_file(srv_->log_path(), 30);
    }
    ::unsetenv("CONFABD_TEST_FEED_EXIT_AFTER_HANDLE");
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::vector<std::string> args(const std::vector<std::string>& extra) const {
    std::vector<std::string> a = {"--argon2-ops", "1", "--argon2-mem-kib", "8"};
    if (GetParam() == "postgres")
      a.insert(a.end(), {"--storage", "postgres", "--pg-dsn", pg_->dsn()});
    else
      a.insert(a.end(), {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  server_process& start(const std::vector<std::string>& extra) {
    if (!srv_) srv_ = std::make_unique<server_process>(dir_);
    srv_->start(args(extra));
    return *srv_;
  }
  std::vector<std::string> with_feed(const std::string& poll_ms) const {
    return {"--feed-file", feed_file_.string(), "--feed-poll-ms", poll_ms};
  }

  // Two users, a direct conversation and a group; sends n messages alternating between them.
  // Returns conv -> the last seq acked in it.
  std::map<std::int64_t, std::int64_t> traffic(const http_client& http, int n, const std::string& tag) {
    if (!a_) {
      a_ = register_user(http, "alice");
      b_ = register_user(http, "bob");
      direct_ = jint(http.call("create_direct", {{"username", "bob"}}, a_->token), "conv");
      group_ = jint(http.call("create_group", {{"title", "g"}, {"members", json::array{b_->user_id}}}, a_->token), "conv");
    }
    std::map<std::int64_t, std::int64_t> last;
    for (int i = 0; i < n; ++i) {
      const auto conv = i % 2 ? direct_ : group_;
      auto ack = http.call("send", {{"conv", conv}, {"client_id", tag + std::to_string(i)}, {"text", "m" + std::to_string(i)}},
                           i % 3 ? a_->token : b_->token);
      last[conv] = jint(ack, "seq");
    }
    return last;
  }

  // True once the file holds last[conv] for every conv.
  bool file_reaches(const std::map<std::int64_t, std::int64_t>& last) const {
    std::map<std::int64_t, std::int64_t> top;
    for (auto [c, s] : feed_lines(feed_file_)) top[c] = std::max(top[c], s);
    for (auto [c, s] : last)
      if (top[c] < s) return false;
    return true;
  }

  // Each conversation's lines are exactly 1..its highest seq, once each, ascending.
  void expect_exactly_once_in_order() const {
    std::map<std::int64_t, std::vector<std::int64_t>> per_conv;
    for (auto [c, s] : feed_lines(feed_file_)) per_conv[c].push_back(s);
    ASSERT_FALSE(per_conv.empty());
    for (const auto& [c, seqs] : per_conv) {
      std::vector<std::int64_t> want;
      for (std::int64_t s = 1; s <= seqs.back(); ++s) want.push_back(s);
      EXPECT_EQ(seqs, want) << "conversation " << c;
    }
  }

  std::filesystem::path dir_;
  std::filesystem::path feed_file_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::optional<account> a_, b_;
  std::int64_t direct_ = 0, group_ = 0;
};

// Events committed (acked) while the consumer waits for its next poll, then SIGKILL: after the
// restart each of them is consumed once.
TEST_P(Feed, EventsCommittedButNotConsumedWhenKilledAreConsumedOnceAfterRestart) {
  // The consumer reads once at start (nothing there yet), then waits a minute.
  auto& srv = start(with_feed("60000"));
  http_client http(srv.port());
  auto last = traffic(http, 20, "k");
  const auto consumed_before_kill = feed_lines(feed_file_).size();
  srv.kill9();
  EXPECT_LT(consumed_before_kill, 20u) << "the consumer had already consumed the messages: nothing tested";

  start(with_feed("50"));
  ASSERT_TRUE(eventually([&] { return file_reaches(last); })) << read_all(feed_file_);
  expect_exactly_once_in_order();

  // And the consumer continues with new events.
  http_client http2(srv.port());
  auto more = traffic(http2, 6, "after");
  ASSERT_TRUE(eventually([&] { return file_reaches(more); })) << read_all(feed_file_);
  expect_exactly_once_in_order();
}

// The consumer handles a batch (its lines are in the file) and the process dies before the cursor
// commit: the batch is delivered again after the restart and the consumer's idempotence keeps the
// file at one line per event.
TEST_P(Feed, CrashBetweenHandlingAndCursorCommitRepeatsNothing) {
  {
    auto& srv = start({});  // no consumer yet: the events wait in storage
    http_client http(srv.port());
    traffic(http, 10, "c");
    ASSERT_EQ(srv.stop(), 0);
  }
  // The process ends itself (exit 137) after handling its first batch, maybe before the harness
  // saw it listening: run it as a plain child process.
  ::setenv("CONFABD_TEST_FEED_EXIT_AFTER_HANDLE", "1", 1);
  child_process crashing;
  std::vector<std::string> argv = {CONFAB_BINARY, "--listen", "127.0.0.1:0"};
  for (auto& a : args(with_feed("50"))) argv.push_back(a);
  crashing.start(argv, dir_ / "crashing.log");
  ::unsetenv("CONFABD_TEST_FEED_EXIT_AFTER_HANDLE");
  auto status = crashing.wait_exit(30s);
  ASSERT_TRUE(status.has_value()) << "the test hook did not end the process";
  ASSERT_TRUE(WIFEXITED(*status)) << tail_file(dir_ / "crashing.log", 20);
  ASSERT_EQ(WEXITSTATUS(*status), 137) << tail_file(dir_ / "crashing.log", 20);
  const auto handled = feed_lines(feed_file_).size();
  ASSERT_GT(handled, 0u) << "the consumer wrote nothing before the crash";

  auto& srv = start(with_feed("50"));
  http_client http(srv.port());
  auto last = traffic(http, 4, "d");
  ASSERT_TRUE(eventually([&] { return file_reaches(last); })) << read_all(feed_file_);
  expect_exactly_once_in_order();
  // The redelivery happened and was recognised.
  EXPECT_NE(read_all(srv.log_path()).find("skipped events it already holds"), std::string::npos)
      << tail_file(srv.log_path(), 20);
}

INSTANTIATE_TEST_SUITE_P(Backends, Feed, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace e2e
