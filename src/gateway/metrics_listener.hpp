// The metrics endpoint: a listener of its own (--metrics-listen) that answers GET /metrics with
// metrics::global() in the Prometheus text format, and nothing else (404). It is separate from the
// API listener so that an operator binds it where only the monitoring network reaches it: the
// public API port never serves metrics.
//
// Threads: the acceptor and every connection run on strands of the io_context given; render()
// runs there too (it takes the registry's mutexes briefly). Each connection is keep-alive, one
// request at a time, each read bounded by an idle timeout (30 s) and 16 KiB of headers.
// Lifetime: start() once; stop() (from any thread) closes the acceptor; open connections end at
// their next idle timeout or when the io_context is stopped. The listener must outlive the
// io_context's run.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace confab::gateway {

// Opens acceptor on ep (address reuse on) and listens: the API listener and this one bind alike.
boost::system::error_code bind_and_listen(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& ep);

class metrics_listener {
 public:
  explicit metrics_listener(boost::asio::io_context& ioc);
  // Binds and listens on ep; errors (address in use ...) are returned, not thrown.
  boost::system::error_code start(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void stop();

 private:
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace confab::gateway
