// One simulated device of confab-bench: a WebSocket client that says hello, reads its user stream
// and checks it as it goes, and sends messages stamped with their send time.
//
// Threads: a device lives on one single-threaded io_context; nothing here is thread-safe.
// Checks: stream positions must rise by exactly one (a repeat is a duplicate, a jump a gap) and
// each conversation's seq must rise by exactly one after the first event seen of it (a lower seq
// is a reorder). Message texts are "b:<send ns>", so every delivery yields a latency.
#pragma once

#include "checker.hpp"
#include "stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>

#include <deque>
#include <functional>
#include <string_view>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::bench {

// Everything one thread's devices record.
struct thread_stats {
  histogram ack, deliver;
  std::uint64_t sends = 0, acks = 0, send_errors = 0, deliveries = 0;
  check_counts checks;
  std::uint64_t protocol_errors = 0;
  std::uint64_t connected = 0, connect_failures = 0, closed_unexpectedly = 0;
  bool record_latency = true;
  void merge(const thread_stats& o);
};

struct account {
  std::int64_t user_id = 0;
  std::string token;
  std::vector<std::int64_t> rooms;  // peer protocols only: the rooms joined at open (peer.hpp)
};

// Which server the devices talk to: confabd, or one of the in-memory relays of bench/peers/
// through the peer adapter (peer.hpp, peer.cpp).
enum class protocol { confab, ws_relay, socketio };

class device : public std::enable_shared_from_this<device> {
 public:
  device(boost::asio::io_context& ioc, thread_stats& st, account a);
  // Ask the server to batch queued frames into one message (hello "batch":true). Default on.
  static inline bool use_batch = true;
  // The server's protocol, for every device of the process. Default confab.
  static inline protocol proto = protocol::confab;

  // Connects from source to server, upgrades, says hello (with since if given) and starts reading.
  // Completes once the hello result arrived (true) or anything failed (false).
  boost::asio::awaitable<bool> open(boost::asio::ip::tcp::endpoint server, boost::asio::ip::address source,
                                    std::optional<std::int64_t> since);
  // Queues a message to conv; its ack and deliveries are recorded.
  void send_message(std::int64_t conv);
  // Queues any operation: fields is the frame's JSON members after "op" and "id" (e.g.
  // R"("conv":3,"seq":9)"), with a leading comma if not empty. Its ack is recorded like a send's.
  void send_op(std::string_view op, std::string_view fields);
  // Called with every event of the stream that passed the check (not duplicates), if set.
  std::function<void(const boost::json::object&)> on_event;
  // issue 12: a request whose reply is handed to done (ok = a result, data = its data or the
  // error object), not recorded as a send. Fields as in send_op.
  using reply_handler = std::function<void(bool ok, const boost::json::object& data)>;
  void request(std::string_view op, std::string_view fields, reply_handler done);
  // Called at every `synced` frame, if set.
  std::function<void()> on_synced;
  // issue 12, channels: channel_event frames. With on_channel_event set, every frame goes there
  // (the caller keeps the cursors: channel.cpp's resume); without, the device checks each tracked
  // channel itself: seq must be cursor + 1 (equal: a duplicate, lower: a reorder, higher: a gap),
  // and each message is a delivery with its latency. Frames of untracked channels are ignored.
  std::function<void(std::int64_t conv, std::int64_t seq, const boost::json::object& event)> on_channel_event;
  void track_channel(std::int64_t conv, std::int64_t cursor) { channels_[conv] = cursor; }
  std::int64_t channel_cursor(std::int64_t conv) const {
    auto it = channels_.find(conv);
    return it == channels_.end() ? -1 : it->second;
  }
  // Drops the TCP connection (no close handshake): the device's cursor survives for a resume.
  void drop();

  std::int64_t pos() const { return check_.pos(); }
  bool synced() const { return synced_; }
  bool open_now() const { return open_; }
  std::uint64_t messages_received() const { return messages_; }
  std::size_t in_flight() const { return pending_.size(); }
  const account& who() const { return acct_; }

 private:
  boost::asio::awaitable<void> read_loop();
  void on_frame(std::string_view text);
  void on_object(const boost::json::object& o);
  void on_channel_frame(const boost::json::object& o);
  void count_message(const boost::json::object& e);
  void write(std::string frame);
  void write_next();
  // The peer adapter (peer.cpp): the join after the upgrade, frames in, a message out.
  void peer_start();
  void on_peer_frame(std::string_view text);
  void on_peer_object(std::string_view type, const boost::json::object& o);
  void peer_send(std::int64_t room);

  boost::asio::io_context& ioc_;
  thread_stats& st_;
  account acct_;
  std::shared_ptr<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;  // replaced per connection
  boost::beast::flat_buffer buf_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool open_ = false;
  bool hello_done_ = false;
  bool hello_ok_ = false;
  bool synced_ = false;
  bool dropping_ = false;
  stream_checker check_;
  std::uint64_t messages_ = 0;
  std::int64_t next_id_ = 1;
  std::unordered_map<std::int64_t, std::int64_t> pending_;   // request id -> send ns
  std::unordered_map<std::int64_t, reply_handler> requests_;  // request id -> its reply's handler
  std::unordered_map<std::int64_t, std::int64_t> channels_;   // tracked channel -> cursor (issue 12)
  std::unordered_map<std::int64_t, std::int64_t> peer_sent_;  // peer protocols: room -> messages sent into it
};

}  // namespace confab::bench
