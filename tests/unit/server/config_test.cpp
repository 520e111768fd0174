#include "server/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using confab::server::parse;
using confab::server::parse_result;

namespace {

parse_result run(std::vector<std::string> args) {
  args.insert(args.begin(), "confabd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse(static_cast<int>(argv.size()), argv.data());
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

}  // namespace

TEST(config, defaults_are_the_embedded_single_node_setup) {
  auto r = run({});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_EQ(r.cfg->listen, "127.0.0.1:8080");
  EXPECT_EQ(r.cfg->endpoint.port(), 8080);
  EXPECT_EQ(r.cfg->storage, confab::server::storage_kind::sqlite);
  EXPECT_EQ(r.cfg->gw.max_text_bytes, 16u * 1024);
  EXPECT_EQ(r.cfg->executor.readers, 4);
  EXPECT_EQ(r.cfg->executor.max_batch, 256);
  EXPECT_TRUE(r.errors.empty());
}

TEST(config, flags_environment_and_file_with_flags_winning) {
  auto dir = std::filesystem::temp_directory_path() / "confab-config-test";
  std::filesystem::create_directories(dir);
  auto file = (dir / "confab.conf").string();
  std::ofstream(file) << "max-text-bytes = 100\nrate-per-sec = 7\nlog-level = debug\n";
  ::setenv("CONFAB_MAX_TEXT_BYTES", "200", 1);
  ::setenv("CONFAB_LOG_LEVEL", "warn", 1);
  auto r = run({"--config", file, "--max-text-bytes", "300"});
  ::unsetenv("CONFAB_MAX_TEXT_BYTES");
  ::unsetenv("CONFAB_LOG_LEVEL");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_EQ(r.cfg->gw.max_text_bytes, 300u);                 // flag beats environment and file
  EXPECT_EQ(r.cfg->log_level, confab::log::level::warn);     // environment beats file
  EXPECT_EQ(r.cfg->gw.rate_per_sec, 7);                      // file fills the rest
}

// Each module's options land in the structure that module takes, read once.
TEST(config, options_land_in_each_modules_own_structure) {
  auto r = run({"--db-readers", "3", "--max-batch", "17", "--broker", "redis", "--redis", "127.0.0.1:7000",
                "--presence-ttl-ms", "900", "--typing-ttl-ms", "700", "--argon2-mem-kib", "64",
                "--shutdown-grace-ms", "250", "--max-frame-bytes", "1000000", "--listen", "[::1]:0"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_EQ(r.cfg->executor.readers, 3);
  EXPECT_EQ(r.cfg->executor.max_batch, 17);
  EXPECT_EQ(r.cfg->redis.presence_ttl, std::chrono::milliseconds(900));
  EXPECT_EQ(r.cfg->typing_ttl, std::chrono::milliseconds(700));
  EXPECT_EQ(r.cfg->gw.argon2.mem_bytes, 64u * 1024);
  EXPECT_EQ(r.cfg->shutdown_grace, std::chrono::milliseconds(250));
  EXPECT_EQ(r.cfg->gw.hard_frame_bytes, 4000000u);
  EXPECT_TRUE(r.cfg->endpoint.address().is_v6());
}

// Each kind of bad value: refused with exit code 2 and a message of its own that names the option
// and says what is wrong.
TEST(config, each_bad_value_is_refused_with_its_own_message) {
  struct bad_case {
    std::vector<std::string> args;
    std::string message;  // a part of the one expected message
  };
  const std::vector<bad_case> cases = {
      {{"--storage", "mysql"}, "--storage must be one of sqlite, postgres (got 'mysql')"},
      {{"--storage", "postgres"}, "--storage postgres needs --pg-dsn"},
      {{"--broker", "kafka"}, "--broker must be one of inproc, redis (got 'kafka')"},
      {{"--broker", "redis"}, "--broker redis needs --redis host:port"},
      {{"--broker", "redis", "--redis", "127.0.0.1"}, "--redis: want host:port, got '127.0.0.1'"},
      {{"--broker", "redis", "--redis", "127.0.0.1:0"}, "--redis: bad port in '127.0.0.1:0'"},
      {{"--broker", "redis", "--redis", "127.0.0.1:7000,:7001"}, "--redis: want host:port, got ':7001'"},
      {{"--log-level", "loud"}, "--log-level must be one of debug, info, warn, error (got 'loud')"},
      {{"--listen", "nowhere"}, "--listen must be host:port"},
      {{"--listen", "127.0.0.1:70000"}, "--listen must be host:port"},
      {{"--listen", "example.com:80"}, "--listen must be host:port"},
      {{"--sqlite-path", ""}, "--sqlite-path must not be empty"},
      {{"--max-text-bytes", "abc"}, "--max-text-bytes must be an integer (got 'abc')"},
      {{"--max-text-bytes", "12kb"}, "--max-text-bytes must be an integer (got '12kb')"},
      {{"--max-text-bytes", "0"}, "--max-text-bytes must be at least 1 (got 0)"},
      {{"--max-connections", "-1"}, "--max-connections must be at least 1 (got -1)"},
      {{"--max-frame-bytes", "10"}, "--max-frame-bytes must be between 256 and 67108864 (got 10)"},
      {{"--max-group-members", "10001"}, "--max-group-members must be between 1 and 10000 (got 10001)"},
      {{"--threads", "0"}, "--threads must be between 1 and 256 (got 0)"},
      {{"--db-readers", "0"}, "--db-readers must be between 1 and 256 (got 0)"},
      {{"--shutdown-grace-ms", "-1"}, "--shutdown-grace-ms must be between 0 and 3600000 (got -1)"},
      {{"--presence-ttl-ms", "10"}, "--presence-ttl-ms must be between 300 and 3600000 (got 10)"},
      {{"--typing-ttl-ms", "10"}, "--typing-ttl-ms must be between 500 and 3600000 (got 10)"},
      {{"--idle-timeout", "1"}, "--idle-timeout must be between 2 and 86400 (got 1)"},
      {{"--argon2-mem-kib", "4"}, "--argon2-mem-kib must be between 8 and 4194304 (got 4)"},
      {{"--rate-per-sec", "0"}, "--rate-per-sec must be between 0.001 and 1e9 (got 0)"},
      {{"--rate-per-sec", "nan"}, "--rate-per-sec must be between"},
      {{"--rate-burst", "fast"}, "--rate-burst must be a number (got 'fast')"},
      {{"--no-such-flag"}, "unrecognised option '--no-such-flag'"},
      {{"--threads", "2", "--threads", "3"}, "option '--threads' cannot be specified more than once"},
      {{"--config", "/nonexistent/confab.conf"}, "cannot read config file /nonexistent/confab.conf"},
      // i11-changes
      {{"--max-reactions-per-message", "0"}, "--max-reactions-per-message must be between 1 and 1000 (got 0)"},
      {{"--edit-window-s", "-1"}, "--edit-window-s must be between 0 and 3153600000 (got -1)"},
  };
  for (const auto& c : cases) {
    auto r = run(c.args);
    EXPECT_FALSE(r.cfg) << c.args[0];
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    ASSERT_EQ(r.errors.size(), 1u) << c.args[0] << ": " << joined(r.errors);
    EXPECT_NE(r.errors[0].find(c.message), std::string::npos) << "want '" << c.message << "', got: " << r.errors[0];
  }
}

TEST(config, every_bad_value_is_reported_not_only_the_first) {
  auto r = run({"--threads", "0", "--max-text-bytes", "x", "--broker", "redis", "--redis", "a,b:1"});
  EXPECT_FALSE(r.cfg);
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.errors.size(), 3u) << joined(r.errors);
  EXPECT_NE(joined(r.errors).find("--threads"), std::string::npos);
  EXPECT_NE(joined(r.errors).find("--max-text-bytes"), std::string::npos);
  EXPECT_NE(joined(r.errors).find("got 'a'"), std::string::npos);
}

TEST(config, bad_values_from_the_environment_name_the_option) {
  ::setenv("CONFAB_MAX_BATCH", "lots", 1);
  auto r = run({});
  ::unsetenv("CONFAB_MAX_BATCH");
  EXPECT_FALSE(r.cfg);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "--max-batch must be an integer (got 'lots')");
}

TEST(config, redis_seeds_are_parsed) {
  auto r = run({"--broker", "redis", "--redis", "localhost:7000,127.0.0.2:7001"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  ASSERT_EQ(r.cfg->redis.seeds.size(), 2u);
  EXPECT_EQ(r.cfg->redis.seeds[0], (std::pair<std::string, std::uint16_t>{"127.0.0.1", 7000}));
  EXPECT_EQ(r.cfg->redis.seeds[1], (std::pair<std::string, std::uint16_t>{"127.0.0.2", 7001}));
}

TEST(config, help_exits_zero) {
  auto r = run({"--help"});
  EXPECT_FALSE(r.cfg);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--pg-dsn"), std::string::npos);
  EXPECT_NE(r.output.find("CONFAB_"), std::string::npos);
}

TEST(config, check_config_prints_the_effective_values_and_exits_zero) {
  auto r = run({"--check-config", "--listen", "127.0.0.1:9000", "--argon2-mem-kib", "64"});
  EXPECT_FALSE(r.cfg);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("listen = 127.0.0.1:9000\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("argon2-mem-kib = 64\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("storage = sqlite\n"), std::string::npos) << r.output;
}

TEST(config, check_config_does_not_print_the_database_password) {
  auto kv = run({"--check-config", "--storage", "postgres", "--pg-dsn", "host=db password='s3 cret' user=confab"});
  EXPECT_NE(kv.output.find("pg-dsn = host=db password=*** user=confab\n"), std::string::npos) << kv.output;
  EXPECT_EQ(kv.output.find("s3"), std::string::npos) << kv.output;
  auto uri = run({"--check-config", "--storage", "postgres", "--pg-dsn", "postgresql://confab:hunter2@db/confab"});
  EXPECT_NE(uri.output.find("pg-dsn = postgresql://confab:***@db/confab\n"), std::string::npos) << uri.output;
}

// i11-changes: the reaction limit and the edit window reach the gateway's options (defaults: 20, 0).
TEST(config, reaction_limit_and_edit_window) {
  auto d = run({});
  ASSERT_TRUE(d.cfg) << joined(d.errors);
  EXPECT_EQ(d.cfg->gw.max_reactions_per_message, 20u);
  EXPECT_EQ(d.cfg->gw.edit_window, std::chrono::seconds(0));
  auto r = run({"--max-reactions-per-message", "5", "--edit-window-s", "900"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_EQ(r.cfg->gw.max_reactions_per_message, 5u);
  EXPECT_EQ(r.cfg->gw.edit_window, std::chrono::seconds(900));
}

// Issue 17: /metrics is served only when --metrics-listen names an address (default: not at all).
TEST(config, metrics_listen) {
  auto d = run({});
  ASSERT_TRUE(d.cfg) << joined(d.errors);
  EXPECT_FALSE(d.cfg->metrics_endpoint);
  auto r = run({"--metrics-listen", "127.0.0.1:9100"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  ASSERT_TRUE(r.cfg->metrics_endpoint);
  EXPECT_EQ(r.cfg->metrics_endpoint->port(), 9100);
  EXPECT_EQ(r.cfg->metrics_listen, "127.0.0.1:9100");
  auto bad = run({"--metrics-listen", "nowhere"});
  EXPECT_FALSE(bad.cfg);
  EXPECT_EQ(joined(bad.errors), "--metrics-listen must be host:port with an IP address or localhost (got 'nowhere')\n");
}

// Issue 17: server administrators by username; the effective configuration kept for admin_server.
TEST(config, admins) {
  auto d = run({});
  ASSERT_TRUE(d.cfg) << joined(d.errors);
  EXPECT_TRUE(d.cfg->gw.admins.empty());
  auto r = run({"--admin", "root,ops.team", "--storage", "postgres", "--pg-dsn", "host=h password=s3cret"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_EQ(r.cfg->gw.admins, (std::vector<std::string>{"root", "ops.team"}));
  EXPECT_NE(r.cfg->gw.effective_config.find("admin = root,ops.team\n"), std::string::npos);
  EXPECT_NE(r.cfg->gw.effective_config.find("pg-dsn = host=h password=***\n"), std::string::npos);
  EXPECT_EQ(r.cfg->gw.effective_config.find("s3cret"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"root,,x", "a b", ",root", std::string(33, 'a')}) {
    auto b = run({"--admin", bad});
    EXPECT_FALSE(b.cfg) << bad;
    EXPECT_NE(joined(b.errors).find("--admin: '"), std::string::npos) << bad;
  }
}

// Issue 17: the load balancers whose X-Forwarded-For the admin view believes.
TEST(config, trusted_proxies) {
  auto d = run({});
  ASSERT_TRUE(d.cfg) << joined(d.errors);
  EXPECT_TRUE(d.cfg->gw.trusted_proxies.empty());
  auto r = run({"--trusted-proxy", "127.0.0.1,10.1.2.3/8,::1"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  ASSERT_EQ(r.cfg->gw.trusted_proxies.size(), 3u);
  EXPECT_EQ(r.cfg->gw.trusted_proxies[1].to_string(), "10.0.0.0/8");
  EXPECT_NE(r.cfg->gw.effective_config.find("trusted-proxy = 127.0.0.1/32,10.0.0.0/8,::1/128\n"), std::string::npos)
      << r.cfg->gw.effective_config;
  for (const std::string& bad : std::vector<std::string>{"lb.example", "10.0.0.0/33", "127.0.0.1,,::1", "10.0.0.0/", " 127.0.0.1"}) {
    auto b = run({"--trusted-proxy", bad});
    EXPECT_FALSE(b.cfg) << bad;
    EXPECT_NE(joined(b.errors).find("--trusted-proxy: '"), std::string::npos) << bad;
  }
}

// Issue 17: --no-metrics, for measuring what recording metrics costs.
TEST(config, no_metrics) {
  auto d = run({});
  ASSERT_TRUE(d.cfg) << joined(d.errors);
  EXPECT_FALSE(d.cfg->no_metrics);
  auto r = run({"--no-metrics"});
  ASSERT_TRUE(r.cfg) << joined(r.errors);
  EXPECT_TRUE(r.cfg->no_metrics);
}
