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

// Issue 15: the push providers and the push worker (docs/push.md). Files are read at start-up.
struct push_config {
  bool disabled = false;                  // --no-push: no push feed, no worker (registrations still work)
  std::chrono::milliseconds grace{2000};  // a device without the message by then gets a push
  bool previews = false;                  // pushes carry the sender and a preview
  std::string vapid_key_file;             // PEM P-256 private key: Web Push is on
  std::string vapid_subject = "mailto:admin@localhost";
  std::string fcm_account_file;           // the service account's JSON: FCM is on
  std::string fcm_url;                    // default https://fcm.googleapis.com
  std::string fcm_token_url;              // default: the service account's token_uri
  std::string apns_key_file;              // PEM (.p8) P-256 key: APNs is on
  std::string apns_key_id, apns_team_id;
  std::string apns_url;                   // default: Apple's host for the target's environment
  std::string ca_file;                    // trust these CAs instead of the system's (tests)
  std::chrono::milliseconds timeout{10000};  // each provider HTTP request (connection included)
};

struct config {
  std::string listen = "127.0.0.1:8080";  // as written (logged)
  boost::asio::ip::tcp::endpoint endpoint;  // parsed from listen
  std::string metrics_listen;  // as written; empty: /metrics is not served
  bool no_metrics = false;     // --no-metrics: record no metrics (to measure their cost)
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
  push_config push;  // issue 15
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
