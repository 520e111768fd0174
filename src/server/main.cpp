// confabd: the one place that wires storage backends, the gateway and the process lifecycle.
#include "auth/auth.hpp"
#include "broker/inproc_broker.hpp"
#include "broker/redis_broker.hpp"
#include "core/log.hpp"
#include "gateway/server.hpp"
#include "server/config.hpp"
#include "storage/migrate.hpp"
#include "storage/postgres/pg_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace confab;
namespace asio = boost::asio;

namespace {

bool parse_endpoint(const std::string& s, asio::ip::tcp::endpoint& ep) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return false;
  const std::string p = s.substr(colon + 1);
  unsigned port = 0;
  auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (perr != std::errc{} || end != p.data() + p.size() || p.empty() || port > 65535) return false;
  ep = {addr, static_cast<unsigned short>(port)};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  auto cfg = server::parse(argc, argv, code);
  if (!cfg) return code;
  log::level lvl;
  if (!log::parse_level(cfg->log_level, lvl)) {
    log::error("bad --log-level");
    return 2;
  }
  log::set_level(lvl);
  if (!auth::init()) {
    log::error("libsodium failed to initialise");
    return 1;
  }
  asio::ip::tcp::endpoint ep;
  if (!parse_endpoint(cfg->listen, ep)) {
    log::error("bad --listen address (want host:port)");
    return 2;
  }

  storage::connection_factory factory;
  std::span<const std::string_view> steps;
  if (cfg->storage == "sqlite") {
    std::error_code fec;
    auto dir = std::filesystem::path(cfg->sqlite_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, fec);
    factory = storage::sqlite::make_factory(cfg->sqlite_path);
    steps = storage::sqlite::migrations();
  } else {
    factory = storage::postgres::make_factory(cfg->pg_dsn);
    steps = storage::postgres::migrations();
  }
  auto ex = std::make_unique<storage::executor>(factory, storage::executor::options{cfg->db_readers, cfg->max_batch});
  if (auto r = ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, steps); }); !r) {
    log::error("storage start-up failed", "\"error\":" + log::quote(r.error().message));
    return 1;
  }
  storage::store store(std::move(ex));

  asio::io_context ioc;
  std::shared_ptr<broker::broker> brk;
  if (cfg->broker == "redis") {
    broker::redis_options ro;
    ro.seeds = cfg->redis_seeds;
    ro.presence_ttl = std::chrono::milliseconds(cfg->presence_ttl_ms);
    brk = std::make_shared<broker::redis_broker>(ioc.get_executor(), ro);
  } else {
    brk = std::make_shared<broker::inproc_broker>(ioc.get_executor(), std::make_shared<broker::inproc_bus>());
  }
  gateway::hub_options ho;
  ho.typing_ttl = std::chrono::milliseconds(cfg->typing_ttl_ms);
  gateway::server srv(ioc, store, cfg->gw, brk, ho);
  if (auto ec = srv.start(ep)) {
    log::error("cannot listen", "\"address\":" + log::quote(cfg->listen) + ",\"error\":" + log::quote(ec.message()));
    return 1;
  }
  const auto port = srv.local_endpoint().port();
  log::info("listening", "\"address\":\"" + srv.local_endpoint().address().to_string() + "\",\"port\":" +
                             std::to_string(port) + ",\"storage\":\"" + cfg->storage + "\",\"broker\":\"" + cfg->broker +
                             "\",\"node\":\"" + brk->node_id() + "\"");
  if (!cfg->port_file.empty()) {
    auto tmp = cfg->port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::error_code fec;
    std::filesystem::rename(tmp, cfg->port_file, fec);
    if (fec) log::warn("cannot write --port-file", "\"error\":" + log::quote(fec.message()));
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer deadline(ioc);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log::info("shutting down", "\"signal\":" + std::to_string(sig));
    srv.shutdown();
    deadline.expires_after(std::chrono::milliseconds(cfg->shutdown_grace_ms));
    deadline.async_wait([&](boost::system::error_code) { ioc.stop(); });
    // Finish early once every WebSocket has closed.
    auto poll = std::make_shared<asio::steady_timer>(ioc);
    auto check = std::make_shared<std::function<void()>>();
    *check = [&, poll, check] {
      poll->expires_after(std::chrono::milliseconds(50));
      poll->async_wait([&, poll, check](boost::system::error_code e) {
        if (e) return;
        if (srv.the_hub().session_count() == 0) {
          ioc.stop();
          *check = nullptr;
          return;
        }
        (*check)();
      });
    };
    (*check)();
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < cfg->threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  ioc.stop();
  for (auto& t : pool) t.join();
  // Close the broker's connections and timers (their handlers hold it), then let those finish.
  srv.stop_hub();
  ioc.restart();
  for (int i = 0; i < 20 && ioc.poll() > 0; ++i) {
  }
  store.stop();  // commits every write storage already accepted
  log::info("stopped");
  return 0;
}
