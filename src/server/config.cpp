#include "server/config.hpp"

#include "chat/accounts.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <type_traits>

namespace confab::server {
namespace po = boost::program_options;
namespace {

constexpr long long no_limit = std::numeric_limits<long long>::max();

std::optional<long long> to_integer(std::string_view s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> to_real(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

template <class T>
long long count_of(const T& v) {
  if constexpr (requires { v.count(); })
    return static_cast<long long>(v.count());
  else
    return static_cast<long long>(v);
}

template <class T>
void set_count(T& field, long long v) {
  if constexpr (requires { field.count(); })
    field = T(v);
  else
    field = static_cast<T>(v);
}

std::optional<boost::asio::ip::tcp::endpoint> to_endpoint(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  auto port = to_integer(std::string_view(s).substr(colon + 1));
  if (ec || !port || *port < 0 || *port > 65535) return std::nullopt;
  return boost::asio::ip::tcp::endpoint{addr, static_cast<unsigned short>(*port)};
}

// The DSN without its password (key=value "password=..." or a URI's "user:password@"), so that
// --check-config can be pasted into a ticket.
std::string redact_password(std::string dsn) {
  if (auto scheme = dsn.find("://"); scheme != std::string::npos) {
    auto at = dsn.find('@', scheme + 3);
    auto colon = dsn.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) dsn.replace(colon + 1, at - colon - 1, "***");
  }
  for (std::size_t at = dsn.find("password="); at != std::string::npos; at = dsn.find("password=", at + 1)) {
    auto begin = at + 9;
    auto end = begin;
    if (end < dsn.size() && dsn[end] == '\'') {
      for (++end; end < dsn.size() && dsn[end] != '\''; ++end)
        if (dsn[end] == '\\') ++end;
      if (end < dsn.size()) ++end;
    } else {
      while (end < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[end]))) ++end;
    }
    dsn.replace(begin, end - begin, "***");
  }
  return dsn;
}

// Every option is declared once here: its name, help, default, how its text becomes the field
// (with its own message when it cannot) and how the effective value is shown (--check-config).
// Values are read as text and converted here rather than by program_options, so that each bad
// value gets a message naming the option, and all of them are reported.
class option_table {
 public:
  explicit option_table(po::options_description& desc) : desc_(desc) {}

  // apply returns an error message, or "" when the text was accepted.
  using apply_fn = std::function<std::string(const std::string&)>;

  void add(const char* name, std::string def, const char* help, apply_fn apply, std::function<std::string()> show) {
    desc_.add_options()(name, po::value<std::string>()->default_value(def), help);
    entries_.push_back({name, std::move(apply), std::move(show)});
  }

  // A switch: given alone on the command line it means true; a value (from the command line, the
  // environment or the file) must be true/false, on/off, yes/no or 1/0.
  void flag(const char* name, bool& field, const char* help) {
    desc_.add_options()(name, po::value<std::string>()->default_value(field ? "true" : "false")->implicit_value("true"), help);
    entries_.push_back({name,
                        [&field, name](const std::string& v) {
                          if (v == "true" || v == "on" || v == "yes" || v == "1") field = true;
                          else if (v == "false" || v == "off" || v == "no" || v == "0") field = false;
                          else return "--" + std::string(name) + " must be true or false (got '" + v + "')";
                          return std::string{};
                        },
                        [&field] { return std::string(field ? "true" : "false"); }});
  }

  void text(const char* name, std::string& field, const char* help, bool non_empty = false) {
    add(name, field, help,
        [&field, name, non_empty](const std::string& v) {
          if (non_empty && v.empty()) return "--" + std::string(name) + " must not be empty";
          field = v;
          return std::string{};
        },
        [&field] { return field; });
  }

  // An integer option in [lo, hi], stored as field = value * unit. Parsed as a signed 64-bit
  // number first, so "-1" for an unsigned field is refused rather than wrapped.
  template <class T>
  void integer(const char* name, T& field, long long lo, long long hi, const char* help, long long unit = 1) {
    add(name, std::to_string(count_of(field) / unit), help,
        [&field, name, lo, hi, unit](const std::string& v) {
          auto n = to_integer(v);
          std::string opt = "--" + std::string(name);
          if (!n) return opt + " must be an integer (got '" + v + "')";
          if (*n < lo || *n > hi)
            return opt + (hi == no_limit ? " must be at least " + std::to_string(lo)
                                         : " must be between " + std::to_string(lo) + " and " + std::to_string(hi)) +
                   " (got " + v + ")";
          set_count(field, *n * unit);
          return std::string{};
        },
        [&field, unit] { return std::to_string(count_of(field) / unit); });
  }

  void real(const char* name, double& field, double lo, const char* help) {
    std::ostringstream def;
    def << field;
    add(name, def.str(), help,
        [&field, name, lo](const std::string& v) {
          auto n = to_real(v);
          std::string opt = "--" + std::string(name);
          if (!n) return opt + " must be a number (got '" + v + "')";
          std::ostringstream min;
          min << lo;
          if (!(*n >= lo) || *n > 1e9) return opt + " must be between " + min.str() + " and 1e9 (got " + v + ")";
          field = *n;
          return std::string{};
        },
        [&field] {
          std::ostringstream o;
          o << field;
          return o.str();
        });
  }

  // One of a fixed set of words.
  template <class E>
  void choice(const char* name, E& field, std::vector<std::pair<std::string, E>> words, const char* help) {
    std::string def, list;
    for (auto& [w, e] : words) {
      if (e == field) def = w;
      list += (list.empty() ? "" : ", ") + w;
    }
    auto show = [&field, words] {
      for (auto& [w, e] : words)
        if (e == field) return w;
      return std::string{};
    };
    add(name, def, help,
        [&field, name, words, list](const std::string& v) {
          for (auto& [w, e] : words)
            if (w == v) {
              field = e;
              return std::string{};
            }
          return "--" + std::string(name) + " must be one of " + list + " (got '" + v + "')";
        },
        show);
  }

  // Applies every option's text; returns one message per bad value.
  std::vector<std::string> apply(const po::variables_map& vm) const {
    std::vector<std::string> errors;
    for (const auto& e : entries_) {
      if (!vm.count(e.name)) continue;
      if (auto m = e.apply(vm[e.name].as<std::string>()); !m.empty()) errors.push_back(std::move(m));
    }
    return errors;
  }

  // The effective configuration as config-file lines.
  std::string describe() const {
    std::string out;
    for (const auto& e : entries_) out += e.name + " = " + e.show() + "\n";
    return out;
  }

 private:
  struct entry {
    std::string name;
    apply_fn apply;
    std::function<std::string()> show;
  };
  po::options_description& desc_;
  std::vector<entry> entries_;
};

// The items of a comma-separated list, in order ("" gives none; "a,,b" gives an empty item).
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Parses "host:port[,host:port...]" into seeds, one message per bad item.
void parse_seeds(const std::string& text, std::vector<std::pair<std::string, std::uint16_t>>& seeds,
                 std::vector<std::string>& errors) {
  seeds.clear();
  for (const auto item : split_list(text)) {
    auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      errors.push_back("--redis: want host:port, got '" + std::string(item) + "'");
    } else {
      auto port = to_integer(item.substr(colon + 1));
      std::string host(item.substr(0, colon));
      if (host == "localhost") host = "127.0.0.1";
      if (!port || *port < 1 || *port > 65535)
        errors.push_back("--redis: bad port in '" + std::string(item) + "'");
      else
        seeds.emplace_back(host, static_cast<std::uint16_t>(*port));
    }
  }
}

// "alice,bob" into usernames (chat's username rules); a message if one is not.
std::string parse_admins(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  for (const auto name : split_list(text)) {
    if (!chat::check_username(name)) return "--admin: '" + std::string(name) + "' is not a username (1 to 32 of A-Z a-z 0-9 _ . -)";
    out.emplace_back(name);
  }
  return {};
}

// "127.0.0.1,10.0.0.0/8" into address ranges; a message if one is not.
std::string parse_trusted_proxies(const std::string& text, std::vector<core::cidr>& out) {
  out.clear();
  for (const auto item : split_list(text)) {
    auto r = core::parse_cidr(item);
    if (!r) return "--trusted-proxy: '" + std::string(item) + "' is not an IP address or CIDR range (e.g. 10.0.0.0/8)";
    out.push_back(*r);
  }
  return {};
}

// --push-allow-origin: origins "scheme://host[:port]" (http or https, no path), comma-separated.
std::string parse_origins(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  for (const auto o : split_list(text)) {
    const auto scheme = o.find("://");
    const bool ok = (o.starts_with("https://") || o.starts_with("http://")) && o.size() > scheme + 3 &&
                    o.find('/', scheme + 3) == std::string_view::npos;
    if (!ok) return "--push-allow-origin: '" + std::string(o) + "' is not an origin (https://host[:port])";
    out.emplace_back(o);
  }
  return {};
}

// Declares every option of confabd against c (whose initial values are the defaults).
void declare(option_table& t, config& c, std::string& redis) {
  t.add("listen", c.listen, "HTTP + WebSocket listen address host:port (port 0 = any free port)",
        [&c](const std::string& v) {
          auto ep = to_endpoint(v);
          if (!ep) return "--listen must be host:port with an IP address or localhost (got '" + v + "')";
          c.listen = v;
          c.endpoint = *ep;
          return std::string{};
        },
        [&c] { return c.listen; });
  t.flag("no-metrics", c.no_metrics,
         "record no metrics (counters and histograms stay at zero): for measuring what recording them costs");
  t.add("metrics-listen", "",
        "serve GET /metrics (Prometheus text format) on this separate host:port, for the monitoring network only; "
        "empty (the default): not served. The API listener never serves it",
        [&c](const std::string& v) {
          if (v.empty()) {
            c.metrics_listen.clear();
            c.metrics_endpoint.reset();
            return std::string{};
          }
          auto ep = to_endpoint(v);
          if (!ep) return "--metrics-listen must be host:port with an IP address or localhost (got '" + v + "')";
          c.metrics_listen = v;
          c.metrics_endpoint = *ep;
          return std::string{};
        },
        [&c] { return c.metrics_listen; });
  t.choice("storage", c.storage, {{"sqlite", storage_kind::sqlite}, {"postgres", storage_kind::postgres}},
           "storage backend: sqlite (embedded) or postgres");
  t.text("sqlite-path", c.sqlite_path, "SQLite database file (its folder is created)", true);
  t.add("pg-dsn", "", "PostgreSQL connection string (libpq), for --storage postgres",
        [&c](const std::string& v) {
          c.pg_dsn = v;
          return std::string{};
        },
        [&c] { return redact_password(c.pg_dsn); });
  t.integer("db-readers", c.executor.readers, 1, 256, "database reader connections/threads");
  t.integer("max-batch", c.executor.max_batch, 1, 100000, "most writes committed in one transaction (group commit)");
  t.integer("threads", c.threads, 1, 256, "network threads");
  t.choice("log-level", c.log_level,
           {{"debug", log::level::debug}, {"info", log::level::info}, {"warn", log::level::warn}, {"error", log::level::error}},
           "debug, info, warn or error");
  t.text("web-root", c.gw.web_root,
         "folder of the browser client's built files (web/dist), served at /; without an index.html there, / shows a plain status page");
  t.flag("web-source-maps", c.gw.web_source_maps, "also serve the client's source maps (*.map); off by default");
  t.text("port-file", c.port_file, "write the bound port to this file once listening");
  t.integer("shutdown-grace-ms", c.shutdown_grace, 0, 3600000,
            "on SIGTERM/SIGINT, how long open connections and requests in progress get to finish");
  t.text("feed-file", c.feed_file,
         "run the built-in feed consumer 'file': append every committed event to this file as a JSON line, "
         "exactly once per event across restarts and crashes (storage/feed.hpp)");
  t.flag("no-search-index", c.no_search_index,
         "do not run the built-in feed consumer 'search', which keeps the index the search operation reads "
         "(searches then find only what was indexed before)");
  t.flag("reindex", c.reindex,
         "rebuild the search index from the stored messages, online (running nodes hand the index over and take it "
         "back after), showing progress and an ETA, then exit; an interrupted rebuild resumes at the next --reindex");
  t.integer("reindex-batch", c.reindex_batch, 1, 10000, "events the rebuild of --reindex indexes per transaction");
  t.integer("feed-poll-ms", c.feed_poll, 10, 60000, "how often a caught-up feed consumer looks for new events");
  t.choice("broker", c.broker, {{"inproc", broker_kind::inproc}, {"redis", broker_kind::redis}},
           "how nodes talk: inproc (a single node) or redis (many nodes)");
  t.text("redis", redis, "Redis seed addresses host:port[,host:port...] for --broker redis (standalone or any Cluster master)");
  t.integer("presence-ttl-ms", c.redis.presence_ttl, 300, 3600000,
            "with --broker redis: a node that stops heartbeating is declared dead (its users offline) within about 1.5x this");
  t.integer("typing-ttl-ms", c.typing_ttl, 500, 3600000, "a typing indicator expires after this long without a refresh");
  t.integer("max-text-bytes", c.gw.max_text_bytes, 1, no_limit, "longest message text, in bytes of UTF-8");
  t.integer("max-frame-bytes", c.gw.max_frame_bytes, 256, 64LL << 20,
            "largest request (WebSocket frame or HTTP body); larger gets error too_large");
  t.integer("max-outbox-bytes", c.gw.max_outbox_bytes, 4096, no_limit,
            "per-connection outbound queue; a client that falls further behind is disconnected");
  t.integer("max-connections", c.gw.max_connections, 1, no_limit,
            "open connections per node; more are refused (keep below the process's file limit)");
  // One SQL parameter per user in a membership change: stay far below SQLite's and PostgreSQL's
  // parameter limits (32766 / 65535).
  t.integer("max-group-members", c.gw.max_group_members, 1, 10000, "most users in one create_group/add_members request");
  t.real("rate-per-sec", c.gw.rate_per_sec, 0.001, "requests per second per device (token bucket rate)");
  t.real("rate-burst", c.gw.rate_burst, 1, "token bucket burst per device");
  t.integer("handshake-timeout", c.gw.handshake_timeout, 1, 3600,
            "seconds for the WebSocket upgrade and for the hello that must follow it");
  t.integer("idle-timeout", c.gw.idle_timeout, 2, 86400, "seconds of WebSocket silence before close (pings at half)");
  t.integer("argon2-ops", c.gw.argon2.ops, 1, 100, "Argon2id passes for password hashing");
  t.integer("argon2-mem-kib", c.gw.argon2.mem_bytes, 8, 4LL << 20, "Argon2id memory in KiB", 1024);
  // issue 11
  t.integer("max-reactions-per-message", c.gw.max_reactions_per_message, 1, 1000,
            "most different emoji reactions on one message; another new one gets error conflict");
  t.integer("edit-window-s", c.gw.edit_window, 0, 100LL * 365 * 86400,
            "seconds after sending during which a message may be edited (0: no limit)");
  t.integer("wildcard-mention-limit", c.gw.wildcard_mention_limit, 0, 100000,
            "conversations with more members than this allow @all/@here to owners and admins only, unless their settings say otherwise");
  t.integer("search-time-limit-ms", c.gw.search_time_limit, 10, 600000,
            "a search that runs longer than this in the database is stopped and gets error limit_reached");
  // issue 17
  t.add("trace-sample", "0.0001",
        "the share of sends traced without asking (0 to 1; a send with \"trace\":true is always traced); "
        "admins read traces with admin_trace",
        [&c](const std::string& v) {
          auto x = to_real(v);
          if (!x || !(*x >= 0 && *x <= 1)) return "--trace-sample must be a number from 0 to 1 (got '" + v + "')";
          c.gw.trace_sample = *x;
          return std::string{};
        },
        [&c] { return std::to_string(c.gw.trace_sample); });
  t.add("trusted-proxy", "",
        "load balancers whose X-Forwarded-For is believed, as addresses or CIDR ranges, comma-separated "
        "(e.g. 127.0.0.1,10.0.0.0/8): the admin view shows a session's client address and the proxy it came through",
        [&c](const std::string& v) { return parse_trusted_proxies(v, c.gw.trusted_proxies); },
        [&c] {
          std::string out;
          for (const auto& r : c.gw.trusted_proxies) out += (out.empty() ? "" : ",") + r.to_string();
          return out;
        });
  // issue 15
  t.flag("no-push", c.push.disabled, "do not queue or send pushes on this node (devices can still register targets)");
  t.integer("push-grace-ms", c.push.grace, 0, 3600000,
            "a device that has not received a message this long after its commit gets a push");
  t.flag("push-previews", c.push.previews, "pushes carry the sender's name and a preview of the text (off: ids and counts only)");
  t.text("push-vapid-key", c.push.vapid_key_file, "Web Push: the VAPID private key, a PEM P-256 key file (unset: no Web Push)");
  t.text("push-vapid-subject", c.push.vapid_subject, "Web Push: the VAPID subject, a mailto: or https: URL to reach the operator");
  t.text("push-fcm-account", c.push.fcm_account_file, "FCM: the service account's JSON key file (unset: no FCM)");
  t.text("push-fcm-url", c.push.fcm_url, "FCM: the HTTP v1 API's base URL (default https://fcm.googleapis.com)");
  t.text("push-fcm-token-url", c.push.fcm_token_url, "FCM: the OAuth 2.0 token URL (default: the service account's token_uri)");
  t.text("push-apns-key", c.push.apns_key_file, "APNs: the token-signing key, a PEM (.p8) P-256 key file (unset: no APNs)");
  t.text("push-apns-key-id", c.push.apns_key_id, "APNs: the key's id (kid)");
  t.text("push-apns-team-id", c.push.apns_team_id, "APNs: the team id (iss)");
  t.text("push-apns-url", c.push.apns_url, "APNs: the base URL for both environments (default: Apple's hosts)");
  // At most 25 s: an FCM send can take two requests (the access token, then the send), and both
  // must end within the 60 s lease of the push's claim (docs/push.md, "Claims and several nodes").
  t.integer("push-timeout-ms", c.push.timeout, 100, 25000,
            "each HTTP request to a push provider (connection included) gives up after this long; the push is retried");
  t.text("push-ca-file", c.push.ca_file, "trust only the CA certificates in this PEM file for push providers (default: the system's)");
  t.add("push-allow-origin", "",
        "Web Push endpoints allowed whatever their address: a comma-separated list of origins (https://host[:port]); "
        "others must be https URLs on public addresses",
        [&c](const std::string& v) { return parse_origins(v, c.gw.push.endpoints.allowed_origins); },
        [&c] {
          std::string out;
          for (const auto& o : c.gw.push.endpoints.allowed_origins) out += (out.empty() ? "" : ",") + o;
          return out;
        });
  t.add("admin", "",
        "server administrators: a comma-separated list of usernames, who may use the admin_* operations "
        "(give every node the same list)",
        [&c](const std::string& v) { return parse_admins(v, c.gw.admins); },
        [&c] {
          std::string out;
          for (const auto& a : c.gw.admins) out += (out.empty() ? "" : ",") + a;
          return out;
        });
}

// Checks that involve several options; appends one message per problem.
void check_combinations(config& c, const std::string& redis, std::vector<std::string>& errors) {
  if (c.storage == storage_kind::postgres && c.pg_dsn.empty()) errors.push_back("--storage postgres needs --pg-dsn");
  if (c.broker == broker_kind::redis) {
    if (redis.empty())
      errors.push_back("--broker redis needs --redis host:port");
    else
      parse_seeds(redis, c.redis.seeds, errors);
  }
  c.gw.hard_frame_bytes = std::max<std::size_t>(c.gw.max_frame_bytes * 4, 1024 * 1024);
}

std::string env_name(const po::options_description& desc, const std::string& env) {
  if (env.rfind("CONFAB_", 0) != 0) return {};
  std::string name = env.substr(7);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return ch == '_' ? '-' : static_cast<char>(std::tolower(ch)); });
  return desc.find_nothrow(name, false) ? name : std::string{};
}

}  // namespace

parse_result parse(int argc, char** argv) {
  parse_result out;
  config c;
  c.endpoint = *to_endpoint(c.listen);
  std::string redis;
  po::options_description desc(
      "confabd — the Confab chat server\n\n"
      "Every option can also be given in the environment as CONFAB_<NAME> (upper case, '-' as '_',\n"
      "e.g. CONFAB_STORAGE=postgres) or in a config file of 'name = value' lines (--config).\n"
      "Precedence: command line, then environment, then config file.\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "check-config", "check every option, print the effective configuration as config-file lines and exit")(
      "config", po::value<std::string>(), "read options from this file ('name = value' per line)");
  option_table table(desc);
  declare(table, c, redis);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::store(po::parse_environment(desc, [&](const std::string& env) { return env_name(desc, env); }), vm);
    if (vm.count("config")) {
      const auto& file = vm["config"].as<std::string>();
      std::ifstream f(file);
      if (!f) throw po::error("cannot read config file " + file);
      po::store(po::parse_config_file(f, desc), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    out.errors.push_back(e.what());
    out.exit_code = 2;
    return out;
  }
  if (vm.count("help")) {
    std::ostringstream help;
    help << desc << "\n";
    out.output = help.str();
    return out;
  }
  out.errors = table.apply(vm);
  check_combinations(c, redis, out.errors);
  if (!out.errors.empty()) {
    out.exit_code = 2;
    return out;
  }
  c.gw.effective_config = table.describe();
  if (vm.count("check-config")) {
    out.output = c.gw.effective_config;
    return out;
  }
  out.cfg = std::move(c);
  return out;
}

}  // namespace confab::server
