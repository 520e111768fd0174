// One WebSocket connection: the real-time protocol (docs/protocol.md).
//
// Threads: everything runs on the connection's strand. The reader and the writer are completion
// handlers, not coroutines: an idle connection holds one pending WebSocket read and nothing else
// (no coroutine frame, no armed timer of its own, no buffer capacity). The reader reads one
// request at a time and runs it (a coroutine spawned per request) before reading the next; the
// writer runs only while the outbox holds frames (one write in flight). While the device catches
// up, a catch-up coroutine runs as well.
// Live events arrive from other threads through an inbox (a short mutex): the first event into an
// empty inbox posts one drain to the strand, so a commit batch costs one strand hop per session,
// not one per event.
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
#include "protocol/codec.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <functional>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace confab::gateway {

class ws_session final : public session_base, public chat::session_port, public std::enable_shared_from_this<ws_session> {
 public:
  // Shares ownership of the hub: the destructor detaches, possibly during process teardown.
  ws_session(boost::beast::tcp_stream&& stream, api& api, std::shared_ptr<hub> hub, std::shared_ptr<void> slot);
  ~ws_session() override;

  // Completes the upgrade for req and runs the session until it closes.
  void start(boost::beast::http::request<boost::beast::http::string_body> req);

  void deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json, std::int64_t trace) override;
  void deliver_ephemeral(std::shared_ptr<const std::string> text) override;
  void deliver_channel(std::shared_ptr<const std::string> text) override;  // issue 12
  void kick(std::uint16_t code, std::string reason) override;
  void resync() override;
  void recheck_device() override;
  void describe(std::function<void(boost::json::object)> done) override;  // issue 17
  // Set by hello before the session is attached, never changed after: safe to read once attached.
  id_t device_id() const override { return who_ ? who_->device_id : 0; }
  const std::string& via() const override { return via_; }

 private:
  using frame = std::shared_ptr<const std::string>;
  // One queued frame: text, or an event frame spliced from a per-recipient head ({"type":"event",
  // "pos":N,"event":), the shared event JSON and a closing brace (no per-recipient copy of the event).
  struct out_frame {
    frame body;
    std::array<char, protocol::event_frame_head_max> head{};
    std::uint8_t head_len = 0;  // 0: body is the whole frame
    std::int64_t pos = 0;        // an event frame's stream position (0: not an event)
    std::size_t size() const { return body->size() + (head_len ? head_len + 1u : 0u); }
  };
  using socket_ws = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

  void on_accepted(boost::beast::error_code ec);
  void read_next();
  void on_read_some(boost::beast::error_code ec, std::size_t n);
  void on_read(boost::beast::error_code ec);
  void cancel_timers();
  void end_reading();
  void write_next();
  void on_written(boost::beast::error_code ec);
  void cork(bool on);
  void drain_inbox();
  boost::asio::awaitable<void> catch_up();
  boost::asio::awaitable<void> handle(std::string text);
  // The session's own operations (declared in chat/session_ops.cpp and chat/live.cpp, dispatched
  // through the operation table like every other).
  chat::op_result hello(const hello_request& req) override;
  boost::asio::awaitable<std::vector<bool>> watch_presence(const std::vector<id_t>& users) override;
  boost::asio::awaitable<std::vector<bool>> presence_lookup(std::vector<id_t> users);
  // Fails the hello being handled: its error reply goes out, then the connection closes.
  error fail_hello(error e, std::uint16_t code, std::string reason);
  void on_live(std::int64_t pos, const std::shared_ptr<const std::string>& event_json);
  void enqueue(std::string s);
  void enqueue(frame f);
  void enqueue(out_frame f);
  // issue 17 (ws_session_trace.cpp): traced events handed over, and those the last write carried.
  void traced_queued(const std::vector<std::pair<std::int64_t, std::int64_t>>& traced);
  void traced_written();
  void close_later(std::uint16_t code, std::string reason);
  void start_catch_up();
  // A completion handler for the session's coroutines: logs an exception (a bug) and drops the
  // connection.
  auto on_exit(const char* what);

  socket_ws ws_;
  api& api_;
  std::shared_ptr<hub> hub_;
  std::shared_ptr<void> slot_;  // the connection-count slot, released when the session ends
  // Timers exist only while needed: the hello deadline (and the wait for the user's channel) until
  // hello succeeds, the catch-up wake-up while catching up.
  std::unique_ptr<boost::asio::steady_timer> hello_timer_;
  std::unique_ptr<boost::asio::steady_timer> wake_catch_up_;
  // Reading: the pending read of an idle connection targets rsmall_ only; the rest of a longer
  // message is appended to rmsg_.
  std::array<char, 32> rsmall_;
  std::string rmsg_;  // the message being read; released after every message
  std::optional<boost::asio::dynamic_string_buffer<char, std::char_traits<char>, std::allocator<char>>> rdyn_;
  std::vector<out_frame> outbox_;   // frames [out_head_, end) wait; released when drained
  std::size_t out_head_ = 0;
  std::size_t outbox_bytes_ = 0;    // queued + in flight
  std::size_t inflight_bytes_ = 0;
  frame inflight_;                  // the frame being written ...
  std::string combined_;            // ... after this event head, or the batch being written
  bool accepted_ = false;          // the handshake completed: frames (and a close) may be written
  bool writing_ = false;
  bool close_sent_ = false;
  bool inflight_event_ = false;
  bool corked_ = false;             // TCP_CORK set: a burst of frames leaves in as few segments as possible     // inflight_ is an event: combined_ holds its head
  bool in_request_ = false;         // a request is being handled (its result is still to come)
  bool flush_posted_ = false;       // a write_next is posted: frames queued meanwhile wait for it
  std::atomic_flag inbox_lock_ = ATOMIC_FLAG_INIT;  // guards inbox_ (tiny critical sections)
  std::vector<std::pair<std::int64_t, frame>> inbox_;  // live events from other threads
  std::vector<std::pair<std::int64_t, std::int64_t>> inbox_traced_;  // (pos, trace) of inbox_'s traced events
  // issue 17: (pos, trace) of traced events not yet written, at most 64 (older ones are dropped);
  // the session's strand only.
  std::vector<std::pair<std::int64_t, std::int64_t>> trace_pending_;
  std::int64_t inflight_pos_ = 0;  // the highest event position in the write in flight
  std::chrono::steady_clock::time_point inbox_committed_;  // under inbox_lock_: the first event's commit (or zero)
  std::unique_ptr<std::pair<std::uint16_t, std::string>> closing_;
  std::optional<principal> who_;
  std::int64_t connected_ms_;  // issue 17: when the connection was accepted (admin view)
  // issue 17: set by start() from a trusted proxy's X-Forwarded-For: the proxy's address and the
  // client's as the proxy saw it (both "" for a direct connection).
  std::string via_, forwarded_for_;
  bool attached_ = false;
  int failed_hellos_ = 0;
  // Runs after the reply to the current request is queued (hello: start catch-up, or close).
  std::function<void()> after_reply_;
  bool syncing_ = true;    // while true, live events only raise max_hint_
  std::int64_t pos_ = 0;   // last stream position queued to the client
  std::int64_t max_hint_ = 0;
  bool reread_ = false;    // resync() asked for one more storage read
  bool batch_ = false;  // hello "batch":true: queued frames may go out together in one message
  bool user_channel_ready_ = false;  // set by the hub's attach callback
  std::vector<id_t> watched_;  // users whose presence this session watches (op presence)
};

}  // namespace confab::gateway
