// One TCP connection to one Redis server, speaking RESP2 with hiredis's reply reader and command
// formatter over an Asio socket (no hiredis I/O, no thread, nothing blocking).
//
// Threads: strand-bound. Every method must be called on the strand given at construction and
// every callback runs there.
// Replies are matched to commands in order. A reply the push classifier claims (a pub/sub
// message) goes to the push handler instead. When the connection fails or is closed, every
// pending callback runs once with nullptr and on_closed runs once; the object is then finished
// (make a new one to reconnect).
// Memory: at most max_pending commands wait for replies and max_buffered_bytes wait to be written;
// further commands fail at once (nullptr).
// Host names are resolved (asynchronously) on every connect.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/hiredis.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace confab::broker {

// A reply from Redis (owned; freed with the object).
using reply_ptr = std::shared_ptr<const redisReply>;

class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  using strand = boost::asio::strand<boost::asio::any_io_executor>;
  using reply_cb = std::function<void(const redisReply*)>;  // nullptr: no reply (connection lost)
  // Decides whether a reply is an unsolicited push; front is the oldest pending command's
  // arguments (nullptr if none).
  using push_classifier = std::function<bool(const redisReply&, const std::vector<std::string>* front)>;

  redis_connection(strand s, std::string host, std::uint16_t port);
  ~redis_connection();

  void set_push(push_classifier is_push, std::function<void(const redisReply&)> on_push);
  void set_on_closed(std::function<void()> f) { on_closed_ = std::move(f); }

  // Connects within timeout; cb(true) when connected. On failure cb(false) (on_closed does not run).
  void connect(std::chrono::milliseconds timeout, std::function<void(bool)> cb);
  void command(std::vector<std::string> args, reply_cb cb);
  void close();
  bool connected() const { return connected_; }
  const std::string& address() const { return address_; }

  static constexpr std::size_t max_pending = 200000;
  static constexpr std::size_t max_buffered_bytes = 64 * 1024 * 1024;  // unsent commands
  std::size_t pending_count() const { return pending_.size(); }

 private:
  struct pending {
    std::vector<std::string> args;  // kept only when a push classifier is set
    reply_cb cb;
  };
  void read_loop();
  void flush();
  void fail();

  strand strand_;
  std::string host_;
  std::uint16_t port_;
  std::string address_;
  boost::asio::ip::tcp::socket sock_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  redisReader* reader_;
  std::deque<pending> pending_;
  std::string outbuf_, writing_;
  bool write_in_flight_ = false;
  bool connected_ = false;
  bool closed_ = false;
  std::vector<char> inbuf_;
  push_classifier is_push_;
  std::function<void(const redisReply&)> on_push_;
  std::function<void()> on_closed_;
};

// The hash slot (0..16383) of a key or sharded channel, with Redis Cluster's {hash tag} rule.
std::uint16_t key_slot(std::string_view key);

// "ERR ..." style text of an error reply, or "" if r is not an error.
std::string_view reply_error(const redisReply* r);
// The text of a string or status reply, or "" for any other reply (or none).
std::string reply_string(const redisReply* r);

}  // namespace confab::broker
