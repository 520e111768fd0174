// confabd's configuration: command line, then environment (CONFAB_*), then a config file.
#pragma once

#include "gateway/options.hpp"

#include <optional>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace confab::server {

struct config {
  std::string listen = "127.0.0.1:8080";
  std::string storage = "sqlite";  // "sqlite" | "postgres"
  std::string sqlite_path = "data/confab.db";
  std::string pg_dsn;
  int db_readers = 4;
  int max_batch = 256;
  int threads = 2;
  std::string log_level = "info";
  std::string port_file;  // if set, the bound port is written here once listening
  int shutdown_grace_ms = 5000;
  std::string broker = "inproc";  // "inproc" (single node) | "redis"
  std::string redis;              // seeds: host:port[,host:port...]
  std::vector<std::pair<std::string, std::uint16_t>> redis_seeds;  // parsed from redis
  int presence_ttl_ms = 10000;
  int typing_ttl_ms = 6000;
  gateway::options gw;
};

// Parses argv/env/file. Returns nullopt after printing help or an error (exit_code set).
std::optional<config> parse(int argc, char** argv, int& exit_code);

}  // namespace confab::server
