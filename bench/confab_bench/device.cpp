#include "device.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace confab::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

void thread_stats::merge(const thread_stats& o) {
  ack.merge(o.ack);
  deliver.merge(o.deliver);
  sends += o.sends;
  acks += o.acks;
  send_errors += o.send_errors;
  deliveries += o.deliveries;
  checks.duplicates += o.checks.duplicates;
  checks.gaps += o.checks.gaps;
  checks.reorders += o.checks.reorders;
  protocol_errors += o.protocol_errors;
  connected += o.connected;
  connect_failures += o.connect_failures;
  closed_unexpectedly += o.closed_unexpectedly;
}

device::device(asio::io_context& ioc, thread_stats& st, account a) : ioc_(ioc), st_(st), acct_(std::move(a)) {}

asio::awaitable<bool> device::open(tcp::endpoint server, asio::ip::address source, std::optional<std::int64_t> since) {
  auto self = shared_from_this();
  ws_ = std::make_shared<websocket::stream<beast::tcp_stream>>(ioc_);
  hello_done_ = hello_ok_ = synced_ = dropping_ = false;
  buf_.clear();
  out_.clear();
  writing_ = false;
  pending_.clear();
  requests_.clear();
  auto& sock = beast::get_lowest_layer(*ws_).socket();
  boost::system::error_code ec;
  sock.open(tcp::v4(), ec);
  if (!ec) sock.bind(tcp::endpoint(source, 0), ec);  // spread over 127.0.0.x to widen the port range
  if (ec) {
    ++st_.connect_failures;
    co_return false;
  }
  beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(30));
  auto [cec] = co_await beast::get_lowest_layer(*ws_).async_connect(server, tuple_awaitable);
  if (cec) {
    ++st_.connect_failures;
    co_return false;
  }
  const char* path = proto == protocol::confab     ? "/v1/ws"
                     : proto == protocol::socketio ? "/socket.io/?EIO=4&transport=websocket"
                                                   : "/";
  auto [hec] = co_await ws_->async_handshake("127.0.0.1", path, tuple_awaitable);
  if (hec) {
    ++st_.connect_failures;
    co_return false;
  }
  beast::get_lowest_layer(*ws_).expires_never();
  ws_->read_message_max(64 * 1024 * 1024);
  open_ = true;
  if (proto != protocol::confab) {
    peer_start();
  } else {
    if (since) check_.start_at(*since);
    json::object hello{{"op", "hello"}, {"id", 0}, {"token", acct_.token}, {"batch", use_batch}};
    if (since) hello["since"] = *since;
    write(json::serialize(hello));
  }
  asio::co_spawn(ioc_, read_loop(), asio::detached);
  asio::steady_timer t(ioc_);
  for (int i = 0; i < 3000 && !hello_done_ && open_; ++i) {  // bounded: 30 s
    t.expires_after(std::chrono::milliseconds(10));
    co_await t.async_wait(tuple_awaitable);
  }
  if (!hello_ok_) ++st_.connect_failures;
  else ++st_.connected;
  co_return hello_ok_;
}

asio::awaitable<void> device::read_loop() {
  auto self = shared_from_this();
  auto ws = ws_;  // this connection's stream; a reconnect replaces ws_
  while (ws == ws_ && open_) {
    auto [ec, n] = co_await ws->async_read(buf_, tuple_awaitable);
    if (ws != ws_) break;  // an old connection's read ending after a reconnect
    if (ec) {
      if (!dropping_) ++st_.closed_unexpectedly;
      open_ = false;
      break;
    }
    const auto data = buf_.cdata();
    on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buf_.consume(buf_.size());
  }
}

void device::on_frame(std::string_view text) {
  if (proto != protocol::confab) return on_peer_frame(text);
  // Parse into a stack buffer: no heap allocation for ordinary frames.
  unsigned char scratch[8192];
  json::monotonic_resource mr(scratch, sizeof scratch);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, &mr);
  if (ec || !v.is_object()) {
    ++st_.protocol_errors;
    return;
  }
  on_object(v.get_object());
}

void device::on_object(const json::object& o) {
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) {
    ++st_.protocol_errors;
    return;
  }
  const auto t = type->get_string();
  if (t == "batch") {
    for (const auto& f : o.at("frames").as_array())
      if (f.is_object()) on_object(f.get_object());
    return;
  }
  if (t == "event") {
    const auto& e = o.at("event").get_object();
    if (!check_.on_event(o.at("pos").to_number<std::int64_t>(), e.at("conv").to_number<std::int64_t>(),
                         e.at("seq").to_number<std::int64_t>(), st_.checks))
      return;
    if (on_event) on_event(e);
    count_message(e);
    return;
  }
  if (t == "channel_event") return on_channel_frame(o);
  if (t == "result" || t == "error") {
    const auto id = o.at("id").is_int64() ? o.at("id").get_int64() : -1;
    if (id == 0) {
      hello_done_ = true;
      hello_ok_ = t == "result";
      if (hello_ok_) check_.start_at(o.at("data").at("since").to_number<std::int64_t>());
      return;
    }
    if (auto r = requests_.find(id); r != requests_.end()) {
      auto done = std::move(r->second);
      requests_.erase(r);
      const auto& data = o.at(t == "result" ? "data" : "error");
      static const json::object none;
      done(t == "result", data.is_object() ? data.get_object() : none);
      return;
    }
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (t == "result") {
      ++st_.acks;
      if (st_.record_latency) st_.ack.record((now_ns() - it->second) / 1000);
    } else {
      ++st_.send_errors;
    }
    pending_.erase(it);
    return;
  }
  if (t == "synced") {
    synced_ = true;
    if (on_synced) on_synced();
  }
  // typing / receipt / presence: not used by the benchmark
}

// A message event (stream or channel): a delivery, with its latency if the text is "b:<send ns>".
void device::count_message(const json::object& e) {
  if (e.at("kind").get_string() != "message") return;
  ++messages_;
  ++st_.deliveries;
  const auto& body = e.at("text").get_string();
  std::int64_t sent = 0;
  if (st_.record_latency && body.size() > 2 && body[0] == 'b' && body[1] == ':' &&
      std::from_chars(body.data() + 2, body.data() + body.size(), sent).ec == std::errc{})
    st_.deliver.record((now_ns() - sent) / 1000);
}

void device::on_channel_frame(const json::object& o) {
  const auto conv = o.at("conv").to_number<std::int64_t>();
  const auto seq = o.at("seq").to_number<std::int64_t>();
  const auto& e = o.at("event").get_object();
  if (on_channel_event) return on_channel_event(conv, seq, e);
  auto it = channels_.find(conv);
  if (it == channels_.end()) return;
  if (seq <= it->second) {
    ++(seq == it->second ? st_.checks.duplicates : st_.checks.reorders);
    return;
  }
  if (seq != it->second + 1) ++st_.checks.gaps;
  it->second = seq;
  count_message(e);
}

namespace {
// {"op":"<op>","id":<id><fields>} (fields: ",\"key\":value..." or empty).
std::string op_frame(std::string_view op, std::int64_t id, std::string_view fields) {
  std::string f;
  f.reserve(64 + fields.size());
  f += R"({"op":")";
  f += op;
  f += R"(","id":)";
  f += std::to_string(id);
  f += fields;
  f += '}';
  return f;
}
}  // namespace

void device::request(std::string_view op, std::string_view fields, reply_handler done) {
  if (!open_) return;
  const auto id = next_id_++;
  requests_.emplace(id, std::move(done));
  write(op_frame(op, id, fields));
}

void device::send_message(std::int64_t conv) {
  if (!open_) return;
  if (proto != protocol::confab) return peer_send(conv);
  const auto id = next_id_++;
  const auto t = now_ns();
  pending_.emplace(id, t);
  ++st_.sends;
  std::string f;
  f.reserve(128);
  f += R"({"op":"send","id":)";
  f += std::to_string(id);
  f += R"(,"conv":)";
  f += std::to_string(conv);
  f += R"(,"client_id":"c)";
  f += std::to_string(id);
  f += '-';
  f += std::to_string(t);
  f += R"(","text":"b:)";
  f += std::to_string(t);
  f += R"("})";
  write(std::move(f));
}

void device::send_op(std::string_view op, std::string_view fields) {
  if (!open_) return;
  const auto id = next_id_++;
  pending_.emplace(id, now_ns());
  ++st_.sends;
  write(op_frame(op, id, fields));
}

void device::write(std::string frame) {
  out_.push_back(std::move(frame));
  if (!writing_) write_next();
}

void device::write_next() {
  if (out_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_->text(true);
  ws_->async_write(asio::buffer(out_.front()), [self = shared_from_this(), ws = ws_](beast::error_code ec, std::size_t) {
    if (ws != self->ws_) return;  // a previous connection's write
    self->out_.pop_front();
    if (ec) {
      self->writing_ = false;
      return;
    }
    self->write_next();
  });
}

void device::drop() {
  if (!ws_) return;
  dropping_ = true;
  open_ = false;
  boost::system::error_code ec;
  beast::get_lowest_layer(*ws_).socket().close(ec);
}

}  // namespace confab::bench
