#include "server/config.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>

namespace confab::server {
namespace po = boost::program_options;

std::optional<config> parse(int argc, char** argv, int& exit_code) {
  config c;
  std::string config_file;
  long long text = 0, frame = 0, outbox = 0, group = 0, conns = 0, handshake = 0, idle = 0, ops = 0, mem_kib = 0;
  double rate = 0, burst = 0;
  po::options_description desc(
      "confabd — the Confab chat server\n\n"
      "Every option can also be given in the environment as CONFAB_<NAME> (upper case, '-' as '_',\n"
      "e.g. CONFAB_STORAGE=postgres) or in a config file of 'name = value' lines (--config).\n"
      "Precedence: command line, then environment, then config file.\n\nOptions");
  desc.add_options()
      ("help,h", "print this help and exit")
      ("config", po::value(&config_file), "read options from this file ('name = value' per line)")
      ("listen", po::value(&c.listen)->default_value(c.listen), "HTTP + WebSocket listen address host:port (port 0 = any free port)")
      ("storage", po::value(&c.storage)->default_value(c.storage), "storage backend: sqlite (embedded) or postgres")
      ("sqlite-path", po::value(&c.sqlite_path)->default_value(c.sqlite_path), "SQLite database file (its folder is created)")
      ("pg-dsn", po::value(&c.pg_dsn), "PostgreSQL connection string (libpq), for --storage postgres")
      ("db-readers", po::value(&c.db_readers)->default_value(c.db_readers), "database reader connections/threads")
      ("max-batch", po::value(&c.max_batch)->default_value(c.max_batch), "most writes committed in one transaction (group commit)")
      ("threads", po::value(&c.threads)->default_value(c.threads), "network threads")
      ("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, warn or error")
      ("web-root", po::value(&c.gw.web_root)->default_value(c.gw.web_root), "folder of the browser client's built files (web/dist), served at /; without an index.html there, / shows a plain status page")
      ("web-source-maps", po::bool_switch(&c.gw.web_source_maps), "also serve the client's source maps (*.map); off by default")
      ("port-file", po::value(&c.port_file), "write the bound port to this file once listening")
      ("shutdown-grace-ms", po::value(&c.shutdown_grace_ms)->default_value(c.shutdown_grace_ms), "on SIGTERM/SIGINT, how long open connections get to close")
      ("broker", po::value(&c.broker)->default_value(c.broker), "how nodes talk: inproc (a single node) or redis (many nodes)")
      ("redis", po::value(&c.redis), "Redis seed addresses host:port[,host:port...] for --broker redis (standalone or any Cluster master)")
      ("presence-ttl-ms", po::value(&c.presence_ttl_ms)->default_value(c.presence_ttl_ms), "with --broker redis: a node that stops heartbeating is declared dead (its users offline) within about 1.5x this")
      ("typing-ttl-ms", po::value(&c.typing_ttl_ms)->default_value(c.typing_ttl_ms), "a typing indicator expires after this long without a refresh")
      ("max-text-bytes", po::value(&text)->default_value(static_cast<long long>(c.gw.max_text_bytes)), "longest message text, in bytes of UTF-8")
      ("max-frame-bytes", po::value(&frame)->default_value(static_cast<long long>(c.gw.max_frame_bytes)), "largest request (WebSocket frame or HTTP body); larger gets error too_large")
      ("max-outbox-bytes", po::value(&outbox)->default_value(static_cast<long long>(c.gw.max_outbox_bytes)), "per-connection outbound queue; a client that falls further behind is disconnected")
      ("max-connections", po::value(&conns)->default_value(static_cast<long long>(c.gw.max_connections)), "open connections per node; more are refused (keep below the process's file limit)")
      ("max-group-members", po::value(&group)->default_value(static_cast<long long>(c.gw.max_group_members)), "most users in one create_group/add_members request")
      ("rate-per-sec", po::value(&rate)->default_value(c.gw.rate_per_sec), "requests per second per device (token bucket rate)")
      ("rate-burst", po::value(&burst)->default_value(c.gw.rate_burst), "token bucket burst per device")
      ("handshake-timeout", po::value(&handshake)->default_value(c.gw.handshake_timeout.count()), "seconds for the WebSocket upgrade and for the hello that must follow it")
      ("idle-timeout", po::value(&idle)->default_value(c.gw.idle_timeout.count()), "seconds of WebSocket silence before close (pings at half)")
      ("argon2-ops", po::value(&ops)->default_value(static_cast<long long>(c.gw.argon2.ops)), "Argon2id passes for password hashing")
      ("argon2-mem-kib", po::value(&mem_kib)->default_value(static_cast<long long>(c.gw.argon2.mem_bytes / 1024)), "Argon2id memory in KiB");

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::store(po::parse_environment(desc,
                                    [&](const std::string& env) -> std::string {
                                      if (env.rfind("CONFAB_", 0) != 0) return {};
                                      std::string name = env.substr(7);
                                      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) {
                                        return ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
                                      });
                                      return desc.find_nothrow(name, false) ? name : std::string{};
                                    }),
              vm);
    if (vm.count("config")) {
      std::ifstream f(vm["config"].as<std::string>());
      if (!f) throw po::error("cannot read config file " + vm["config"].as<std::string>());
      po::store(po::parse_config_file(f, desc), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "confabd: " << e.what() << "\n(see confabd --help)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    exit_code = 0;
    return std::nullopt;
  }
  auto bad = [&](const std::string& m) {
    std::cerr << "confabd: " << m << "\n";
    exit_code = 2;
    return std::nullopt;
  };
  if (c.storage != "sqlite" && c.storage != "postgres") return bad("--storage must be sqlite or postgres");
  if (c.storage == "postgres" && c.pg_dsn.empty()) return bad("--storage postgres needs --pg-dsn");
  if (c.shutdown_grace_ms < 0) return bad("--shutdown-grace-ms must be >= 0");
  if (c.broker != "inproc" && c.broker != "redis") return bad("--broker must be inproc or redis");
  if (c.broker == "redis") {
    if (c.redis.empty()) return bad("--broker redis needs --redis host:port");
    std::string_view rest = c.redis;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      auto colon = item.rfind(':');
      unsigned port = 0;
      if (colon == std::string_view::npos || colon == 0) return bad("--redis: want host:port, got " + std::string(item));
      auto p = item.substr(colon + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      if (ec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535)
        return bad("--redis: bad port in " + std::string(item));
      std::string host(item.substr(0, colon));
      if (host == "localhost") host = "127.0.0.1";
      c.redis_seeds.emplace_back(host, static_cast<std::uint16_t>(port));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (c.presence_ttl_ms < 300 || c.typing_ttl_ms < 500) return bad("--presence-ttl-ms must be >= 300 and --typing-ttl-ms >= 500");
  // One SQL parameter per user in a membership change: stay far below SQLite's and PostgreSQL's
  // parameter limits (32766 / 65535).
  if (group > 10000) return bad("--max-group-members must be at most 10000");
  if (text < 1 || frame < 256 || conns < 1 || outbox < 4096 || group < 1 || handshake < 1 || idle < 2 || ops < 1 || mem_kib < 8 ||
      rate <= 0 || burst < 1 || c.threads < 1 || c.db_readers < 1 || c.max_batch < 1)
    return bad("a limit is out of range (see --help)");
  c.gw.max_text_bytes = static_cast<std::size_t>(text);
  c.gw.max_frame_bytes = static_cast<std::size_t>(frame);
  c.gw.hard_frame_bytes = std::max<std::size_t>(c.gw.max_frame_bytes * 4, 1024 * 1024);
  c.gw.max_outbox_bytes = static_cast<std::size_t>(outbox);
  c.gw.max_group_members = static_cast<std::size_t>(group);
  c.gw.max_connections = static_cast<std::size_t>(conns);
  c.gw.rate_per_sec = rate;
  c.gw.rate_burst = burst;
  c.gw.handshake_timeout = std::chrono::seconds(handshake);
  c.gw.idle_timeout = std::chrono::seconds(idle);
  c.gw.argon2.ops = static_cast<unsigned long long>(ops);
  c.gw.argon2.mem_bytes = static_cast<std::size_t>(mem_kib) * 1024;
  return c;
}

}  // namespace confab::server
