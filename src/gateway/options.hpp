// The gateway's tunables; filled from file, flags and environment by src/server (confabd --help).
#pragma once

#include "auth/auth.hpp"
#include "chat/push_options.hpp"
#include "core/net.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace confab::gateway {

struct options {
  std::size_t max_text_bytes = 16 * 1024;     // message text limit
  std::size_t max_frame_bytes = 64 * 1024;    // WebSocket frame / HTTP body limit (typed error above it)
  std::size_t hard_frame_bytes = 1024 * 1024; // above this the connection is closed (1009)
  std::size_t max_outbox_bytes = 4 * 1024 * 1024;  // per connection; a slower client is disconnected
  std::size_t max_group_members = 1000;
  std::size_t max_connections = 10000;  // open HTTP + WebSocket connections per node; more are refused
  double rate_per_sec = 20;  // requests per device per second (token bucket) ...
  double rate_burst = 60;    // ... and its burst
  std::chrono::seconds handshake_timeout{10};  // HTTP request / WebSocket upgrade / hello
  std::chrono::seconds idle_timeout{60};       // a WebSocket with no traffic for this long is closed; pings at half
  std::chrono::seconds http_idle_timeout{30};
  auth::argon2_cost argon2;
  std::string web_root = "web/dist";  // the browser client's built files, served at "/" (empty: none)
  bool web_source_maps = false;       // whether web_root's *.map files are served
  std::size_t max_reactions_per_message = 20;  // distinct emoji on one message
  std::chrono::seconds edit_window{0};         // how long after sending a message may be edited (0: always)
  // @all/@here: above this many members, owners and admins only (conversations that set no limit)
  std::int64_t wildcard_mention_limit = 15;
  std::chrono::milliseconds search_time_limit{2000};  // issue 13: a search statement gives up after this
  // issue 17: usernames of the server administrators (--admin), and the effective configuration as
  // config-file lines with secrets redacted (what --check-config prints), for admin_server.
  std::vector<std::string> admins;
  std::string effective_config;
  chat::push_options push;  // issue 15: the push operations' view of the push configuration
  double trace_sample = 0.0001;  // issue 17: the share of sends traced without asking
  // issue 17: peers whose X-Forwarded-For is believed (load balancers, --trusted-proxy): the
  // admin view shows the client's address and the proxy a session came through.
  std::vector<core::cidr> trusted_proxies;
};

}  // namespace confab::gateway
