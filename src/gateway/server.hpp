// The gateway of one confabd node: listener, hub and API on one io_context; the connections on it
// or spread over several (set_connection_contexts).
//
// Lifetime: construct, start(), then run the io_context. shutdown() stops accepting, closes every
// WebSocket with 1001, answers every request already read, and completes when that work is done;
// the caller races it with a deadline and then stops the io_context.
#pragma once

#include "gateway/api.hpp"
#include "gateway/http_session.hpp"
#include "gateway/hub.hpp"
#include "gateway/options.hpp"
#include "core/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace confab::gateway {

class server {
 public:
  // The hub routes through broker (inproc for a single node, redis for many).
  server(boost::asio::io_context& ioc, storage::store& store, options opts, std::shared_ptr<broker::broker> broker,
         hub_options hopts = {});

  // The io_contexts that accepted connections run on, each connection on the next one in turn
  // (round robin), e.g. one io_context per network thread: a connection's handlers then never
  // wake another network thread. Empty (the default): every connection runs on ioc. Call before
  // start(); every context must outlive the connections on it.
  void set_connection_contexts(std::vector<boost::asio::io_context*> ctxs) { conn_ctxs_ = std::move(ctxs); }
  // Binds and listens; errors (address in use ...) are returned, not thrown.
  boost::system::error_code start(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Stops accepting, closes every WebSocket with 1001 and refuses new requests (503), then
  // completes once every request already read has had its response written and every WebSocket
  // session has ended (http_gates). Call once, from a coroutine on the io_context. Not bounded in
  // time and not cancellable: the caller bounds it (confabd: --shutdown-grace-ms).
  boost::asio::awaitable<void> shutdown();
  // Stops the hub and the broker (their timers and connections); after the sessions closed.
  void stop_hub() { hub_->stop(); }
  hub& the_hub() { return *hub_; }

 private:
  boost::asio::awaitable<void> accept_loop();

  boost::asio::io_context& ioc_;
  options opts_;
  boost::asio::thread_pool blocking_{2};
  std::shared_ptr<hub> hub_;
  api api_;
  boost::asio::ip::tcp::acceptor acceptor_;  // on its own strand; shutdown() posts there
  std::vector<boost::asio::io_context*> conn_ctxs_;
  std::size_t next_ctx_ = 0;  // on the acceptor's strand
  std::shared_ptr<std::atomic<std::size_t>> open_ = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<http_gates> gates_ = std::make_shared<http_gates>();
  // confab_connections, confab_websocket_sessions, confab_sessions read from this server on scrape
  // (declared last: removed before what they read is destroyed).
  std::vector<metrics::callback_family::handle> metric_sources_;
};

}  // namespace confab::gateway
