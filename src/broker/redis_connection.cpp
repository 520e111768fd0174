#include "broker/redis_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/crc.hpp>

namespace confab::broker {
namespace asio = boost::asio;

std::uint16_t key_slot(std::string_view key) {
  // Only the part between the first { and the next } is hashed, if that part is not empty.
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  boost::crc_optimal<16, 0x1021, 0, 0, false, false> crc;  // CRC16-CCITT (XMODEM), as Redis
  crc.process_bytes(key.data(), key.size());
  return static_cast<std::uint16_t>(crc.checksum() & 16383);
}

std::string_view reply_error(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ERROR) return {};
  return {r->str, r->len};
}

std::string reply_string(const redisReply* r) {
  if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

redis_connection::redis_connection(strand s, std::string host, std::uint16_t port)
    : strand_(std::move(s)),
      host_(std::move(host)),
      port_(port),
      address_(host_ + ":" + std::to_string(port_)),
      sock_(strand_),
      resolver_(strand_),
      timer_(strand_),
      reader_(redisReaderCreate()),
      inbuf_(64 * 1024) {}

redis_connection::~redis_connection() { redisReaderFree(reader_); }

void redis_connection::set_push(push_classifier is_push, std::function<void(const redisReply&)> on_push) {
  is_push_ = std::move(is_push);
  on_push_ = std::move(on_push);
}

void redis_connection::connect(std::chrono::milliseconds timeout, std::function<void(bool)> cb) {
  auto self = shared_from_this();
  timer_.expires_after(timeout);
  timer_.async_wait([self](boost::system::error_code e) {
    if (!e && !self->connected_) {
      boost::system::error_code ig;
      self->sock_.close(ig);
      self->resolver_.cancel();
    }
  });
  auto on_connected = [self, cb](boost::system::error_code e) {
    self->timer_.cancel();
    if (e || self->closed_) {
      self->fail();  // pending callbacks get nullptr; on_closed does not run (never connected)
      cb(false);
      return;
    }
    self->connected_ = true;
    boost::system::error_code ig;
    self->sock_.set_option(asio::ip::tcp::no_delay(true), ig);
    // A peer that vanished (host down, partition) is noticed by the broker's pings; keepalive
    // is the kernel's second line.
    self->sock_.set_option(asio::socket_base::keep_alive(true), ig);
    self->read_loop();
    self->flush();
    cb(true);
  };
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host_, ec);
  if (!ec) {
    sock_.async_connect(asio::ip::tcp::endpoint(addr, port_), on_connected);
    return;
  }
  resolver_.async_resolve(host_, std::to_string(port_),
                          [self, on_connected](boost::system::error_code e, asio::ip::tcp::resolver::results_type r) {
                            if (e) {
                              on_connected(e);
                              return;
                            }
                            asio::async_connect(self->sock_, r, [on_connected](boost::system::error_code e2, const asio::ip::tcp::endpoint&) {
                              on_connected(e2);
                            });
                          });
}

void redis_connection::command(std::vector<std::string> args, reply_cb cb) {
  if (closed_ || pending_.size() >= max_pending || outbuf_.size() >= max_buffered_bytes) {
    asio::post(strand_, [cb = std::move(cb)] { cb(nullptr); });
    return;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* out = nullptr;
  int n = redisFormatCommandArgv(&out, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (n < 0 || !out) {
    asio::post(strand_, [cb = std::move(cb)] { cb(nullptr); });
    return;
  }
  outbuf_.append(out, static_cast<std::size_t>(n));
  redisFreeCommand(out);
  pending_.push_back({is_push_ ? std::move(args) : std::vector<std::string>{}, std::move(cb)});
  if (connected_) flush();
}

void redis_connection::flush() {
  if (write_in_flight_ || outbuf_.empty() || !connected_) return;
  write_in_flight_ = true;
  writing_.swap(outbuf_);
  outbuf_.clear();
  asio::async_write(sock_, asio::buffer(writing_), [self = shared_from_this()](boost::system::error_code e, std::size_t) {
    self->write_in_flight_ = false;
    self->writing_.clear();
    if (e) {
      self->fail();
      return;
    }
    self->flush();
  });
}

void redis_connection::read_loop() {
  sock_.async_read_some(asio::buffer(inbuf_), [self = shared_from_this()](boost::system::error_code e, std::size_t n) {
    if (e || self->closed_) {
      self->fail();
      return;
    }
    if (redisReaderFeed(self->reader_, self->inbuf_.data(), n) != REDIS_OK) {
      self->fail();
      return;
    }
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(self->reader_, &raw) != REDIS_OK) {
        self->fail();  // protocol error: the stream cannot be trusted any more
        return;
      }
      if (!raw) break;
      std::unique_ptr<redisReply, void (*)(void*)> r(static_cast<redisReply*>(raw), freeReplyObject);
      if (self->is_push_ && self->is_push_(*r, self->pending_.empty() ? nullptr : &self->pending_.front().args)) {
        self->on_push_(*r);
        continue;
      }
      if (self->pending_.empty()) {
        self->fail();  // a reply nobody asked for
        return;
      }
      auto p = std::move(self->pending_.front());
      self->pending_.pop_front();
      p.cb(r.get());
      if (self->closed_) return;
    }
    self->read_loop();
  });
}

void redis_connection::close() {
  if (!closed_) fail();
  // Closed for good: nothing may call back into the owner now. Its callbacks may hold the owner
  // (the broker keeps this connection, and the callbacks keep the broker: a cycle that outlived
  // shutdown, reported by LeakSanitizer at every exit). Released on the strand, not here: close()
  // may be running inside one of them.
  boost::asio::post(strand_, [a = std::move(is_push_), b = std::move(on_push_), c = std::move(on_closed_)] {});
  is_push_ = nullptr;
  on_push_ = nullptr;
  on_closed_ = nullptr;
}

void redis_connection::fail() {
  if (closed_ && !connected_ && pending_.empty()) return;
  const bool was_connected = connected_;
  closed_ = true;
  connected_ = false;
  boost::system::error_code ig;
  sock_.close(ig);
  timer_.cancel();
  auto pend = std::move(pending_);
  pending_.clear();
  for (auto& p : pend) p.cb(nullptr);
  if (was_connected && on_closed_) {
    auto f = std::move(on_closed_);
    on_closed_ = nullptr;
    f();
  }
}

}  // namespace confab::broker
