// confabd's configuration, read once: command line, then environment (CONFAB_*), then a config
// file. Every module's options live in this one structure, in the types those modules take
// (gateway::options, storage::executor::options, broker::redis_options), so main() hands them
// over without copying field by field. Only hub_options is built in main() (from typing_ttl),
// because hub.hpp would pull the whole gateway into this header's users.
#pragma once

#include "broker/redis_broker.hpp"
#include "core/log.hpp"
#include "gateway/options.hpp"
#include "storage/executor.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace confab::server {

enum class storage_kind { sqlite, postgres };
enum class broker_kind { inproc, redis };

struct config {
  std::string listen = "127.0.0.1:8080";  // as written (logged)
  boost::asio::ip::tcp::endpoint endpoint;  // parsed from listen
  std::string metrics_listen;  // as written; empty: /metrics is not served
  std::optional<boost::asio::ip::tcp::endpoint> metrics_endpoint;  // parsed from metrics_listen
  storage_kind storage = storage_kind::sqlite;
  std::string sqlite_path = "data/confab.db";
  std::string pg_dsn;
  storage::executor::options executor{4, 256};  // --db-readers, --max-batch
  broker_kind broker = broker_kind::inproc;
  broker::redis_options redis;  // seeds from --redis, presence_ttl from --presence-ttl-ms
  std::chrono::milliseconds typing_ttl{6000};
  int threads = 2;
  log::level log_level = log::level::info;
  std::string port_file;  // if set, the bound port is written here once listening
  std::chrono::milliseconds shutdown_grace{5000};
  std::string feed_file;  // if set, the built-in "file" feed consumer appends every event here
  bool no_search_index = false;  // issue 13: the built-in feed consumer "search" keeps the search index
  bool reindex = false;          // issue 13: rebuild the search index and exit (server/reindex.hpp)
  int reindex_batch = 500;       // events per rebuild transaction
  std::chrono::milliseconds feed_poll{500};  // how often a caught-up feed consumer reads again
  gateway::options gw;
};

struct parse_result {
  std::optional<config> cfg;        // set when confabd should run
  int exit_code = 0;                // without cfg: 0 after --help or --check-config, 2 for bad options
  std::string output;               // for stdout: the help, or the effective configuration
  std::vector<std::string> errors;  // for stderr: one message per bad value, each naming its option
};

// Reads argv, the environment and the file named by --config. Never prints and never throws.
// Every value is checked (type, range, choice); all bad values are reported, not only the first.
// Structural errors (an unknown option, an option given twice on one level, an unreadable config
// file) are reported alone, since the rest cannot be read reliably after them.
parse_result parse(int argc, char** argv);

}  // namespace confab::server
