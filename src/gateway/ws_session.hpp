// One WebSocket connection: the real-time protocol (docs/protocol.md).
//
// Threads: everything runs on the connection's strand. Three coroutines share it: the reader
// (one request at a time, in order), the writer (one write in flight, draining a bounded outbox)
// and, while the device catches up, the catch-up loop.
// Delivery: the session tracks pos_, the last stream position it queued. A live event at pos_+1
// is queued at once; one at or below pos_ is a duplicate and dropped; one above pos_+1 reveals a
// gap, which the catch-up loop fills from storage before live delivery resumes. Live events are
// published only after commit, so storage always holds what a live event announces.
// Memory: the outbox is bounded (options::max_outbox_bytes); a client that cannot keep up is
// sent close 1008 and disconnected, and resumes from its cursor when it reconnects.
#pragma once

#include "core/model.hpp"
#include "gateway/api.hpp"
#include "gateway/hub.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/value.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace confab::gateway {

class ws_session final : public session_base, public std::enable_shared_from_this<ws_session> {
 public:
  // Shares ownership of the hub: the destructor detaches, possibly during process teardown.
  ws_session(boost::beast::tcp_stream&& stream, api& api, std::shared_ptr<hub> hub, std::shared_ptr<void> slot);
  ~ws_session() override;

  // Completes the upgrade for req and runs the session until it closes.
  void start(boost::beast::http::request<boost::beast::http::string_body> req);

  void deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json) override;
  void deliver_ephemeral(std::shared_ptr<const std::string> text) override;
  void kick(std::uint16_t code, std::string reason) override;
  void resync() override;
  void recheck_device() override;

 private:
  using frame = std::shared_ptr<const std::string>;
  boost::asio::awaitable<void> run(boost::beast::http::request<boost::beast::http::string_body> req);
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> catch_up();
  boost::asio::awaitable<void> handle(std::string text);
  boost::asio::awaitable<void> hello(const boost::json::value& id, const boost::json::object& args);
  boost::asio::awaitable<void> presence(const boost::json::value& id, const boost::json::object& args);
  boost::asio::awaitable<std::vector<bool>> presence_lookup(std::vector<id_t> users);
  void on_live(std::int64_t pos, const std::shared_ptr<const std::string>& event_json);
  void enqueue(std::string s);
  void enqueue(frame f);
  void close_later(std::uint16_t code, std::string reason);
  void start_catch_up();
  // A completion handler for the session's coroutines: logs an exception (a bug) and drops the
  // connection.
  auto on_exit(const char* what);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  api& api_;
  std::shared_ptr<hub> hub_;
  std::shared_ptr<void> slot_;  // the connection-count slot, released when the session ends
  const options& opts_;
  boost::asio::steady_timer wake_writer_;
  boost::asio::steady_timer wake_catch_up_;
  boost::asio::steady_timer hello_timer_;
  std::deque<frame> outbox_;
  std::size_t outbox_bytes_ = 0;
  std::optional<std::pair<std::uint16_t, std::string>> closing_;
  bool writer_done_ = false;
  std::optional<principal> who_;
  bool attached_ = false;
  int failed_hellos_ = 0;
  bool syncing_ = true;    // while true, live events only raise max_hint_
  std::int64_t pos_ = 0;   // last stream position queued to the client
  std::int64_t max_hint_ = 0;
  bool reread_ = false;    // resync() asked for one more storage read
  bool batch_ = false;  // hello "batch":true: queued frames may go out together in one message
  bool user_channel_ready_ = false;  // set by the hub's attach callback
  std::vector<id_t> watched_;  // users whose presence this session watches (op presence)
};

}  // namespace confab::gateway
