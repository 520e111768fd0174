// Issue 17, metrics: confabd's /metrics on its own listener (--metrics-listen), on both backends.
// A scripted workload moves the counters it must (a send counts as op="send",result="ok", a
// refused one under its error code, an unknown operation as op="unknown"; the writer's batches,
// a catch-up and a live delivery are timed); the output passes Debian's `promtool check metrics`
// with no complaint; a real Prometheus server on loopback scrapes the node and answers a query
// about a Confab metric; and every metric the Grafana dashboard (deploy/grafana/confab.json) uses
// exists in a live node's output, and each of its expressions is valid PromQL to Prometheus.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace e2e {
namespace {

namespace http = boost::beast::http;

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

double value(const std::string& text, const std::string& series) {
  auto v = metric_sample(text, series);
  if (!v) throw std::runtime_error("no sample " + series + " in /metrics");
  return *v;
}

// Runs a shell command line; returns its exit status and its output (stdout and stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Metrics : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-metrics-");
    if (GetParam() == "postgres") pg_ = std::make_unique<pg_database>();
    metrics_port_ = free_port();
    std::vector<std::string> a = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--feed-poll-ms", "50",
                                  "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port_)};
    if (GetParam() == "postgres")
      a.insert(a.end(), {"--storage", "postgres", "--pg-dsn", pg_->dsn()});
    else
      a.insert(a.end(), {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()});
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(a);
    ASSERT_TRUE(wait_tcp(metrics_port_)) << "the metrics listener is not listening";
  }
  void TearDown() override {
    if (ws_ && !ws_->closed()) ws_->close();  // else shutdown waits the grace out for the session
    if (srv_) {
      const bool was_running = srv_->running();
      const int status = srv_->stop();
      if (was_running) {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
      }
      if (HasFailure()) std::cerr << "---- confabd log\n" << tail_file(srv_->log_path(), 30);
    }
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::string scrape() {
    auto r = http_get(metrics_port_, "/metrics");
    if (r.status != 200) throw std::runtime_error("GET /metrics: status " + std::to_string(r.status));
    return r.body;
  }

  // Two users in a direct conversation, bob online over WebSocket; three sends by alice (each
  // delivered live to bob), one refused send by a stranger, one unknown operation.
  void workload() {
    http_client http(srv_->port());
    auto alice = register_user(http, "alice");
    auto bob = register_user(http, "bob");
    auto carol = register_user(http, "carol");
    conv_ = jint(http.call("create_direct", {{"username", "bob"}}, alice.token), "conv");
    ws_ = std::make_unique<ws_client>(srv_->port());
    ws_->hello(bob.token, 0);
    ws_->until_synced();
    for (int i = 0; i < 3; ++i)
      http.call("send", {{"conv", conv_}, {"client_id", "m" + std::to_string(i)}, {"text", "hi"}}, alice.token);
    ws_->events(3);
    auto refused = http.post("send", {{"conv", conv_}, {"client_id", "x"}, {"text", "no"}}, carol.token);
    ASSERT_EQ(refused.error_code(), "forbidden");
    auto unknown = http.post("no_such_operation", {}, alice.token);
    ASSERT_EQ(unknown.error_code(), "unknown_op");
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<ws_client> ws_;
  unsigned short metrics_port_ = 0;
  std::int64_t conv_ = 0;
};

TEST_P(Metrics, CountersMoveWithTheWorkload) {
  const auto before = scrape();
  EXPECT_EQ(value(before, R"(confab_operations_total{op="send",result="ok"})"), 0);  // listed from start-up
  EXPECT_FALSE(metric_sample(before, R"(confab_operations_total{op="send",result="forbidden"})"));
  workload();
  // The search consumer indexes the sends (in a later batch): wait until it has handled them.
  std::string after;
  ASSERT_TRUE(eventually([&] {
    after = scrape();
    return metric_sample(after, R"(confab_feed_events_total{consumer="search"})").value_or(0) >= 3;  // at least the 3 sends
  })) << after;

  EXPECT_EQ(value(after, R"(confab_operations_total{op="send",result="ok"})"), 3);
  EXPECT_EQ(value(after, R"(confab_operations_total{op="send",result="forbidden"})"), 1);
  EXPECT_EQ(value(after, R"(confab_operations_total{op="unknown",result="unknown_op"})"), 1);
  EXPECT_EQ(value(after, R"(confab_operations_total{op="register",result="ok"})"), 3);
  EXPECT_EQ(value(after, R"(confab_operations_total{op="hello",result="ok"})"), 1);
  EXPECT_EQ(value(after, "confab_send_commit_seconds_count"), 3);
  EXPECT_GT(value(after, "confab_send_commit_seconds_sum"), 0);
  EXPECT_EQ(value(after, R"(confab_send_commit_seconds_bucket{le="+Inf"})"), 3);
  // Bob's three live events were timed from their commit; his catch-up at hello was timed.
  EXPECT_GE(value(after, "confab_live_delivery_seconds_count"), 3);
  EXPECT_GE(value(after, "confab_catch_up_seconds_count"), 1);
  // The writer committed batches holding at least the registrations, the conversation and the sends.
  EXPECT_GE(value(after, "confab_storage_batch_writes_sum"), 7);
  EXPECT_GE(value(after, "confab_storage_commit_seconds_count"), 1);
  EXPECT_EQ(value(after, "confab_storage_batch_seconds_count"), value(after, "confab_storage_commit_seconds_count"));
  EXPECT_EQ(value(after, "confab_storage_batch_failures_total"), 0);
  // Bob is online: one WebSocket, one session, at least his connection open.
  EXPECT_EQ(value(after, "confab_websocket_sessions"), 1);
  EXPECT_EQ(value(after, "confab_sessions"), 1);
  EXPECT_GE(value(after, "confab_connections"), 1);
  EXPECT_GE(value(after, "confab_outbox_bytes"), 0);
  EXPECT_EQ(value(after, "confab_slow_consumer_disconnects_total"), 0);
  EXPECT_GE(value(after, R"(confab_feed_lag_seconds{consumer="search"})"), 0);
  // Process metrics from /proc/self.
  EXPECT_GT(value(after, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(value(after, "process_open_fds"), 3);
  EXPECT_GT(value(after, "process_max_fds"), 0);
  EXPECT_GT(value(after, "process_start_time_seconds"), 1.6e9);

  ws_->close();
  ASSERT_TRUE(eventually([&] { return value(scrape(), "confab_websocket_sessions") == 0; }));
  EXPECT_EQ(value(scrape(), "confab_sessions"), 0);
  EXPECT_EQ(value(scrape(), "confab_outbox_bytes"), 0);  // every byte queued was written or dropped
}

TEST_P(Metrics, NotServedOnTheApiListener) {
  EXPECT_EQ(http_get(srv_->port(), "/metrics").status, 404);
  EXPECT_EQ(http_get(metrics_port_, "/v1/me").status, 404);  // and the metrics listener serves nothing else
  auto r = http_get(metrics_port_, "/metrics");
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST_P(Metrics, PromtoolAcceptsTheOutput) {
  workload();
  const auto file = dir_ / "metrics.txt";
  std::ofstream(file) << scrape();
  auto [rc, out] = run("promtool check metrics < '" + file.string() + "'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "promtool complained";
}

INSTANTIATE_TEST_SUITE_P(Backends, Metrics, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// --------------------------------------------------------------------------- Prometheus and Grafana

class Prometheus : public Metrics {
 protected:
  void SetUp() override {
    Metrics::SetUp();
    if (HasFatalFailure()) return;
    prom_port_ = free_port();
    const auto cfg = dir_ / "prometheus.yml";
    std::ofstream(cfg) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          "scrape_configs:\n  - job_name: confab\n    static_configs:\n      - targets: ['127.0.0.1:"
                       << metrics_port_ << "']\n";
    prom_.start({"prometheus", "--config.file=" + cfg.string(), "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
                dir_ / "prometheus.log");
    ASSERT_TRUE(wait_tcp(prom_port_, 30s)) << tail_file(dir_ / "prometheus.log", 20);
    // Prometheus listens before it is ready and answers 503 in plain text until then.
    ASSERT_TRUE(eventually([&] { return http_get(prom_port_, "/-/ready").status == 200; }, 30s))
        << tail_file(dir_ / "prometheus.log", 20);
  }
  void TearDown() override {
    prom_.stop();
    if (HasFailure()) std::cerr << "---- prometheus log\n" << tail_file(dir_ / "prometheus.log", 20);
    Metrics::TearDown();
  }

  // Prometheus' instant query API; returns the parsed JSON answer (status checked by the caller).
  // An answer that is not JSON becomes {"status":"not json","http":code,"body":...}.
  json::value query(const std::string& promql) {
    auto r = http_get(prom_port_, "/api/v1/query?query=" + url_encode(promql));
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec) return json::object{{"status", "not json"}, {"http", r.status}, {"body", r.body}};
    return v;
  }
  // The single value of an instant vector query, or nullopt (no series, or an error).
  std::optional<double> scalar(const std::string& promql) {
    auto v = query(promql);
    if (jstr(v, "status") != "success") return std::nullopt;
    const auto& res = jarr(jobj(v, "data"), "result");
    if (res.size() != 1) return std::nullopt;
    return std::stod(std::string(res[0].at("value").as_array()[1].as_string()));
  }

  child_process prom_;
  unsigned short prom_port_ = 0;
};

TEST_P(Prometheus, ScrapesTheNodeAndAnswersAQuery) {
  workload();
  // Up once a scrape succeeded (scrape_interval 1 s), then the sends counted through Prometheus.
  ASSERT_TRUE(eventually([&] { return scalar(R"(up{job="confab"})") == 1.0; }, 60s))
      << dump(query(R"(up{job="confab"})"));
  ASSERT_TRUE(eventually([&] { return scalar(R"(confab_operations_total{job="confab",op="send",result="ok"})") == 3.0; }, 30s))
      << dump(query(R"(confab_operations_total{op="send"})"));
  auto health = http_get(prom_port_, "/api/v1/targets");
  EXPECT_NE(health.body.find(R"("health":"up")"), std::string::npos) << health.body;
}

// Every expression's metric names, with Grafana's variables replaced by values Prometheus accepts.
std::vector<std::string> dashboard_exprs() {
  const auto text = read_file(std::filesystem::path(CONFAB_SOURCE_DIR) / "deploy/grafana/confab.json");
  auto dash = json::parse(text);
  std::vector<std::string> out;
  for (const auto& p : jarr(dash, "panels"))
    for (const auto& t : jarr(p, "targets")) {
      auto e = jstr(t, "expr");
      e = std::regex_replace(e, std::regex(R"(\$__rate_interval)"), "1m");
      e = std::regex_replace(e, std::regex(R"(\$job)"), ".*");
      out.push_back(e);
    }
  return out;
}

TEST_P(Prometheus, EveryMetricOfTheGrafanaDashboardExists) {
  workload();
  const auto exprs = dashboard_exprs();
  ASSERT_GE(exprs.size(), 10u);
  const auto text = scrape();
  // The sample names a node exposes (histograms: name_bucket, name_sum, name_count).
  std::set<std::string> exposed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') exposed.insert(line.substr(0, line.find_first_of("{ ")));
  const std::regex metric(R"(\b(confab_|process_)[a-zA-Z0-9_:]*)");
  std::set<std::string> used;
  for (const auto& e : exprs)
    for (std::sregex_iterator it(e.begin(), e.end(), metric), end; it != end; ++it) used.insert(it->str());
  ASSERT_GE(used.size(), 20u);
  for (const auto& name : used) EXPECT_TRUE(exposed.contains(name)) << name << " is used by the dashboard but not exposed";
  // Each expression is valid PromQL (Prometheus parses and evaluates it).
  ASSERT_TRUE(eventually([&] { return scalar(R"(up{job="confab"})") == 1.0; }, 60s));
  for (const auto& e : exprs) {
    auto v = query(e);
    EXPECT_EQ(jstr(v, "status"), "success") << e << "\n" << dump(v);
  }
}

INSTANTIATE_TEST_SUITE_P(Sqlite, Prometheus, ::testing::Values("sqlite"), [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace e2e
