#include "server/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using confab::server::parse;

namespace {

std::optional<confab::server::config> run(std::vector<std::string> args, int& code) {
  args.insert(args.begin(), "confabd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse(static_cast<int>(argv.size()), argv.data(), code);
}

}  // namespace

TEST(config, defaults_are_the_embedded_single_node_setup) {
  int code = -1;
  auto c = run({}, code);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->storage, "sqlite");
  EXPECT_EQ(c->gw.max_text_bytes, 16u * 1024);
}

TEST(config, flags_environment_and_file_with_flags_winning) {
  auto dir = std::filesystem::temp_directory_path() / "confab-config-test";
  std::filesystem::create_directories(dir);
  auto file = (dir / "confab.conf").string();
  std::ofstream(file) << "max-text-bytes = 100\nrate-per-sec = 7\nlog-level = debug\n";
  ::setenv("CONFAB_MAX_TEXT_BYTES", "200", 1);
  ::setenv("CONFAB_LOG_LEVEL", "warn", 1);
  int code = -1;
  auto c = run({"--config", file, "--max-text-bytes", "300"}, code);
  ::unsetenv("CONFAB_MAX_TEXT_BYTES");
  ::unsetenv("CONFAB_LOG_LEVEL");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->gw.max_text_bytes, 300u);  // flag beats environment and file
  EXPECT_EQ(c->log_level, "warn");         // environment beats file
  EXPECT_EQ(c->gw.rate_per_sec, 7);        // file fills the rest
}

TEST(config, bad_settings_are_refused_with_exit_code_2) {
  for (std::vector<std::string> bad : {std::vector<std::string>{"--storage", "mysql"},
                                       {"--storage", "postgres"},  // no DSN
                                       {"--max-frame-bytes", "10"},
                                       {"--threads", "0"},
                                       {"--max-group-members", "10001"},
                                       {"--shutdown-grace-ms", "-1"},
                                       {"--broker", "kafka"},
                                       {"--broker", "redis"},  // no --redis
                                       {"--broker", "redis", "--redis", "127.0.0.1"},
                                       {"--broker", "redis", "--redis", "127.0.0.1:0"},
                                       {"--broker", "redis", "--redis", "127.0.0.1:7000,:7001"},
                                       {"--presence-ttl-ms", "10"},
                                       {"--max-text-bytes", "abc"},
                                       {"--no-such-flag"},
                                       {"--config", "/nonexistent/confab.conf"}}) {
    int code = -1;
    EXPECT_FALSE(run(bad, code)) << bad[0];
    EXPECT_EQ(code, 2) << bad[0];
  }
}

TEST(config, redis_seeds_are_parsed) {
  int code = -1;
  auto c = run({"--broker", "redis", "--redis", "localhost:7000,127.0.0.2:7001"}, code);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->redis_seeds.size(), 2u);
  EXPECT_EQ(c->redis_seeds[0], (std::pair<std::string, std::uint16_t>{"127.0.0.1", 7000}));
  EXPECT_EQ(c->redis_seeds[1], (std::pair<std::string, std::uint16_t>{"127.0.0.2", 7001}));
}

TEST(config, help_exits_zero) {
  int code = -1;
  testing::internal::CaptureStdout();
  EXPECT_FALSE(run({"--help"}, code));
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("--pg-dsn"), std::string::npos);
  EXPECT_NE(out.find("CONFAB_"), std::string::npos);
}
