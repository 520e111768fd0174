#include "gateway/ws_session.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"
#include "core/time.hpp"
#include "protocol/codec.hpp"
#include "storage/executor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/json/serialize.hpp>

#include <netinet/tcp.h>

#include <algorithm>
#include <thread>

namespace confab::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::use_awaitable;

namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);
constexpr int catch_up_page = 256;
constexpr std::size_t max_batch_frames = 256;
constexpr std::size_t max_batch_bytes = 256 * 1024;

// A spin lock for the inbox: held for a vector push or swap only (a std::mutex would cost 40 bytes
// on every connection).
struct spin_guard {
  std::atomic_flag& f;
  explicit spin_guard(std::atomic_flag& flag) : f(flag) {
    while (f.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  }
  ~spin_guard() { f.clear(std::memory_order_release); }
  spin_guard(const spin_guard&) = delete;
  spin_guard& operator=(const spin_guard&) = delete;
};
}  // namespace

ws_session::ws_session(beast::tcp_stream&& stream, api& api, std::shared_ptr<hub> hub, std::shared_ptr<void> slot)
    // The plain socket: the WebSocket's own timeouts apply, and tcp_stream's timers would cost
    // memory on every idle connection.
    : ws_(stream.release_socket()),
      api_(api),
      hub_(std::move(hub)),
      slot_(std::move(slot)),
      connected_ms_(now_ms()) {}

ws_session::~ws_session() {
  if (!watched_.empty()) hub_->unwatch(this, watched_);
  if (attached_) hub_->detach(who_->user_id, who_->device_id, this);
  metrics::node().outbox_bytes.sub(static_cast<double>(outbox_bytes_));
}

auto ws_session::on_exit(const char* what) {
  return [self = shared_from_this(), what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("websocket session failed",
                 "\"in\":\"" + std::string(what) + "\",\"error\":" + json::serialize(json::string(ex.what())));
    }
    // Wake the writer and catch-up so they end (and the session detaches), then drop the socket:
    // a close frame cannot be trusted to go out after a bug.
    self->close_later(1011, "internal error");
    beast::error_code ec;
    self->ws_.next_layer().close(ec);
  };
}

void ws_session::start(beast::http::request<beast::http::string_body> req) {
  websocket::stream_base::timeout t{};
  t.handshake_timeout = api_.opts().handshake_timeout;
  t.idle_timeout = api_.opts().idle_timeout;
  t.keep_alive_pings = true;
  ws_.set_option(t);
  // Until hello succeeds, nothing larger than a request is accepted (closed with 1009).
  ws_.read_message_max(api_.opts().max_frame_bytes);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "confabd"); }));
  // issue 17: behind a trusted proxy, the client is the address the proxy appended: the end of the
  // last X-Forwarded-For field (a client may send fields of its own before it).
  if (const auto& trusted = api_.opts().trusted_proxies; !trusted.empty()) {
    beast::error_code ec;
    const auto peer = ws_.next_layer().remote_endpoint(ec);
    std::string_view xff;
    for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) xff = it->value();
    if (auto c = ec ? std::nullopt : core::client_behind_proxy(trusted, peer.address(), xff)) {
      via_ = std::move(c->via);
      forwarded_for_ = std::move(c->client);
    }
  }
  // The upgrade request lives only until the handshake completes.
  auto r = std::make_unique<beast::http::request<beast::http::string_body>>(std::move(req));
  auto& ref = *r;
  ws_.async_accept(ref, [self = shared_from_this(), r = std::move(r)](beast::error_code ec) { self->on_accepted(ec); });
}

void ws_session::on_accepted(beast::error_code ec) {
  if (ec) return;
  accepted_ = true;
  if (closing_) {
    write_next();  // closed during the handshake: send the close frame now
    return;
  }
  hello_timer_ = std::make_unique<asio::steady_timer>(ws_.get_executor());
  hello_timer_->expires_after(api_.opts().handshake_timeout);
  hello_timer_->async_wait([w = weak_from_this()](beast::error_code tec) {
    auto s = w.lock();
    if (!tec && s && !s->who_) s->close_later(1008, "no hello within the handshake timeout");
  });
  read_next();
}

void ws_session::read_next() {
  // Into the small inline buffer: a pending read reserves no heap (Beast's async_read would
  // prepare ~1.5 KiB of the dynamic buffer before any byte arrives).
  ws_.async_read_some(asio::buffer(rsmall_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read_some(ec, n); });
}

void ws_session::on_read_some(beast::error_code ec, std::size_t n) {
  if (!ec) rmsg_.append(rsmall_.data(), n);
  if (ec || ws_.is_message_done()) {
    on_read(ec);
    return;
  }
  // The rest of a longer message in one go.
  rdyn_.emplace(rmsg_);
  ws_.async_read(*rdyn_, [self = shared_from_this()](beast::error_code ec2, std::size_t) { self->on_read(ec2); });
}

void ws_session::cancel_timers() {
  if (wake_catch_up_) wake_catch_up_->cancel();
  if (hello_timer_) hello_timer_->cancel();
}

void ws_session::on_read(beast::error_code ec) {
  if (ec) {
    if (ec == websocket::error::message_too_big)
      log::info("websocket frame over hard limit", "\"limit\":" + std::to_string(api_.opts().hard_frame_bytes));
    end_reading();
    return;
  }
  if (closing_) {  // kicked (revoked, shutting down) while the frame was arriving
    end_reading();
    return;
  }
  const bool text_frame = ws_.got_text();
  rdyn_.reset();
  std::string text;
  if (text_frame) text.swap(rmsg_);
  std::string().swap(rmsg_);  // an idle connection keeps no read buffer
  if (!text_frame) {
    enqueue(protocol::error_frame(nullptr, make_error(errc::malformed, "frames must be text (JSON)")));
    read_next();
    return;
  }
  // One request at a time: the next read starts once this one is handled.
  in_request_ = true;
  auto task = handle(std::move(text));
  asio::co_spawn(ws_.get_executor(), std::move(task), [self = shared_from_this(), exit = on_exit("reader")](std::exception_ptr e) {
    self->in_request_ = false;
    if (e) {
      exit(e);
      return;
    }
    if (self->closing_)
      self->end_reading();
    else
      self->read_next();
  });
}

void ws_session::end_reading() {
  if (!closing_) closing_ = std::make_unique<std::pair<std::uint16_t, std::string>>(1000, "");  // no further frames; the writer closes and ends
  if (!writing_) write_next();
  cancel_timers();
}

void ws_session::drain_inbox() {
  std::vector<std::pair<std::int64_t, frame>> batch;
  std::vector<std::pair<std::int64_t, std::int64_t>> traced;
  std::chrono::steady_clock::time_point committed;
  {
    spin_guard lock(inbox_lock_);
    batch.swap(inbox_);
    traced.swap(inbox_traced_);
    committed = inbox_committed_;
  }
  if (!traced.empty()) traced_queued(traced);
  if (committed != std::chrono::steady_clock::time_point{})
    metrics::node().live_delivery.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - committed).count(), batch.size());
  // While a request is in flight (usually a send), its result is likely queued on the strand right
  // behind this drain: the publisher posts a commit's results just after its events. Writing the
  // events one strand turn later lets the sender's own copy and its ack leave in one write (one
  // message with "batch", else one corked burst) instead of two (issue 18).
  const bool hold = in_request_ && !writing_ && !flush_posted_;
  if (hold) flush_posted_ = true;
  for (auto& [pos, ev] : batch) on_live(pos, ev);
  if (hold)
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->write_next();
    });
}

void ws_session::resync() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    if (!self->who_ || self->closing_) return;
    self->reread_ = true;  // a catch-up already running reads once more before it finishes
    self->start_catch_up();
  });
}

void ws_session::recheck_device() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    if (!self->who_ || self->closing_) return;
    asio::co_spawn(self->ws_.get_executor(), [](std::shared_ptr<ws_session> s) -> asio::awaitable<void> {
      auto active = co_await s->api_.store().device_active(s->who_->device_id);
      if (active && !*active) s->close_later(4001, "device revoked");
    }(self), asio::detached);
  });
}

void ws_session::describe(std::function<void(json::object)> done) {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this(), done = std::move(done)] {
    json::object o;
    if (self->who_) {
      o["user"] = self->who_->user_id;
      o["device"] = self->who_->device_id;
    }
    beast::error_code ec;
    auto ep = self->ws_.next_layer().remote_endpoint(ec);
    if (!self->forwarded_for_.empty())
      o["remote"] = self->forwarded_for_;  // the client, as the trusted proxy saw it
    else if (!ec)
      o["remote"] = ep.address().to_string() + ":" + std::to_string(ep.port());
    if (!self->via_.empty()) o["via"] = self->via_;
    o["connected_at_ms"] = self->connected_ms_;
    o["outbox_bytes"] = self->outbox_bytes_;
    o["catching_up"] = self->syncing_;
    o["closing"] = self->closing_ != nullptr;
    done(std::move(o));
  });
}

void ws_session::deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json, std::int64_t trace) {
  bool first = false;
  {
    spin_guard lock(inbox_lock_);
    first = inbox_.empty();
    if (first) inbox_committed_ = storage::executor::committed_at();
    inbox_.emplace_back(pos, std::move(event_json));
    if (trace) inbox_traced_.emplace_back(pos, trace);
  }
  // One drain per burst: events that arrive before it runs ride along, in order.
  if (first) asio::post(ws_.get_executor(), [self = shared_from_this()] { self->drain_inbox(); });
}

void ws_session::deliver_ephemeral(std::shared_ptr<const std::string> text) {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this(), f = std::move(text)]() mutable {
    // Ephemeral: dropped rather than growing a queue the client is not draining.
    if (!self->who_ || self->closing_ || self->outbox_bytes_ > self->api_.opts().max_outbox_bytes / 2) return;
    self->enqueue(std::move(f));
  });
}

// issue 12: while catching up (syncing_) the frame is dropped: the catch-up ends with synced, and
// the client then reads the channels' heads, which cover it (docs/protocol.md section 10).
void ws_session::deliver_channel(std::shared_ptr<const std::string> text) {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this(), f = std::move(text)]() mutable {
    if (!self->who_ || self->closing_ || self->syncing_) return;
    self->enqueue(std::move(f));
  });
}

void ws_session::kick(std::uint16_t code, std::string reason) {
  // post, not dispatch: a result the current request is about to queue (logout) goes out first.
  asio::post(ws_.get_executor(), [self = shared_from_this(), code, r = std::move(reason)]() mutable {
    self->close_later(code, std::move(r));
  });
}

void ws_session::on_live(std::int64_t pos, const std::shared_ptr<const std::string>& event_json) {
  if (closing_) return;
  max_hint_ = std::max(max_hint_, pos);
  if (syncing_ || pos <= pos_) return;  // catch-up will read it from storage, or it is a duplicate
  if (pos == pos_ + 1) {
    pos_ = pos;
    out_frame f;
    f.body = event_json;
    f.head_len = static_cast<std::uint8_t>(protocol::event_frame_head(pos, f.head.data()));
    f.pos = pos;
    enqueue(std::move(f));
    return;
  }
  start_catch_up();  // a gap: fill it from storage
}

void ws_session::enqueue(std::string s) { enqueue(std::make_shared<const std::string>(std::move(s))); }

void ws_session::enqueue(frame f) {
  out_frame o;
  o.body = std::move(f);
  enqueue(std::move(o));
}

void ws_session::enqueue(out_frame f) {
  if (closing_) return;
  outbox_bytes_ += f.size();
  metrics::node().outbox_bytes.add(static_cast<double>(f.size()));
  outbox_.push_back(std::move(f));
  // One frame always fits (an event may be larger than a small bound); more than that over the
  // bound means the client is not keeping up. The frame being written is not counted: the socket
  // has taken it, and its completion may simply not have run yet (regression: a client reading
  // every event was cut off when the next event was queued before the last write's completion
  // handler ran, which a busy io thread makes likely).
  if (outbox_bytes_ - inflight_bytes_ > api_.opts().max_outbox_bytes && outbox_.size() - out_head_ > 1) {
    metrics::node().slow_consumer_disconnects.inc();
    log::warn("slow consumer disconnected", "\"device\":" + std::to_string(who_ ? who_->device_id : 0));
    close_later(1008, "outbound queue overflow");
    return;
  }
  if (!writing_ && !flush_posted_) write_next();
}

void ws_session::close_later(std::uint16_t code, std::string reason) {
  if (closing_) return;
  if (code == 1008 && reason == "outbound queue overflow") {
    outbox_.clear();  // memory bound: the client resumes from its cursor
    out_head_ = 0;
    metrics::node().outbox_bytes.sub(static_cast<double>(outbox_bytes_ - inflight_bytes_));
    outbox_bytes_ = inflight_bytes_;
  }
  closing_ = std::make_unique<std::pair<std::uint16_t, std::string>>(code, std::move(reason));
  if (!writing_) write_next();
  cancel_timers();
}

void ws_session::start_catch_up() {
  if (syncing_) return;
  syncing_ = true;
  asio::co_spawn(ws_.get_executor(), catch_up(), on_exit("catch-up"));
}

asio::awaitable<void> ws_session::handle(std::string text) {
  auto req = protocol::parse_frame(text, api_.opts().max_frame_bytes);
  if (!req) {
    enqueue(protocol::error_frame(nullptr, req.error()));
    co_return;
  }
  chat::op_context ctx;
  ctx.who = who_ ? &*who_ : nullptr;
  ctx.via = chat::transport::ws;
  ctx.session = this;
  auto r = co_await api_.call(req->op, req->args, ctx);
  if (r)
    enqueue(protocol::result_frame(req->id, *r));
  else
    enqueue(protocol::error_frame(req->id, r.error()));
  if (auto next = std::move(after_reply_)) {
    after_reply_ = nullptr;
    next();
  }
}

error ws_session::fail_hello(error e, std::uint16_t code, std::string reason) {
  after_reply_ = [this, code, reason = std::move(reason)]() mutable { close_later(code, std::move(reason)); };
  return e;
}

chat::op_result ws_session::hello(const hello_request& req) {
  if (who_) co_return make_error(errc::invalid_field, "hello was already sent on this connection");
  auto who = co_await api_.authenticate(req.token);
  if (!who) {
    if (who.error().code == errc::unauthenticated && ++failed_hellos_ >= 3)
      co_return fail_hello(who.error(), 1008, "too many failed hellos");
    co_return who.error();
  }
  if (closing_) co_return make_error(errc::unavailable, "connection closing");
  // Subscribe before reading the head, so nothing committed after this point is missed.
  who_ = *who;
  batch_ = req.batch;
  auto on_ready = [w = weak_from_this()] {
    auto s = w.lock();
    if (!s) return;
    asio::post(s->ws_.get_executor(), [s] {
      s->user_channel_ready_ = true;
      if (s->hello_timer_) s->hello_timer_->cancel();
    });
  };
  if (!hub_->attach(who_->user_id, who_->device_id, shared_from_this(), on_ready))
    co_return fail_hello(make_error(errc::unavailable, "server shutting down"), 1001, "server shutting down");
  attached_ = true;
  hello_timer_->cancel();
  // A revocation that committed between the check above and attach found no session to close:
  // check again now that a revocation would find this one.
  auto again = co_await api_.authenticate(req.token);
  if (!again) {
    if (again.error().code == errc::unauthenticated) co_return fail_hello(again.error(), 4001, "device revoked");
    co_return fail_hello(again.error(), 1011, "storage unavailable");
  }
  if (closing_) co_return make_error(errc::unavailable, "connection closing");
  // Read the user's conversations only once membership changes reach this node (the user's
  // channel is live), so none falls between the read and the subscription. Bounded: if the broker
  // is down, its reset re-reads everything later.
  for (int i = 0; i < 50 && !user_channel_ready_ && !closing_; ++i) {
    hello_timer_->expires_after(std::chrono::milliseconds(100));
    co_await hello_timer_->async_wait(as_tuple_awaitable);
  }
  if (closing_) co_return make_error(errc::unavailable, "connection closing");
  // The node subscribes to the user's conversations; events missed before that are read below
  // (and once more when the subscriptions are live: hub::load_conversations).
  auto convs = co_await api_.store().conversation_ids(who_->user_id);
  if (!convs) co_return fail_hello(convs.error(), 1011, "storage unavailable");
  hub_->load_conversations(who_->user_id, *convs);
  if (closing_) co_return make_error(errc::unavailable, "connection closing");
  ws_.read_message_max(api_.opts().hard_frame_bytes);
  auto head = co_await api_.store().stream_head(who_->user_id);
  if (!head) co_return fail_hello(head.error(), 1011, "storage unavailable");
  if (req.since && *req.since > *head)
    co_return fail_hello(make_error(errc::invalid_field, "since is ahead of this user's stream head"), 1008, "invalid cursor");
  pos_ = req.since.value_or(*head);
  hello_timer_.reset();  // not needed again on this connection
  // The first catch-up (syncing_ is true from the start, so live events wait for it), started once
  // the hello result is queued: the client sees the result before any event.
  after_reply_ = [this] { asio::co_spawn(ws_.get_executor(), catch_up(), on_exit("catch-up")); };
  co_return json::object{{"user_id", who_->user_id},
                         {"username", who_->username},
                         {"device_id", who_->device_id},
                         {"head", *head},
                         {"since", pos_}};
}

// A plain function, not a coroutine: the awaitable (and the copy of users it owns) is built outside
// any co_await expression (GCC 12 mis-destroys temporaries created inside one).
asio::awaitable<std::vector<bool>> ws_session::presence_lookup(std::vector<id_t> users) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::vector<bool>)>(
      [this, who = std::move(users)](auto handler) mutable {
        auto ex = asio::get_associated_executor(handler, ws_.get_executor());
        // std::function needs a copyable target: share the move-only completion handler.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        hub_->presence_query(std::move(who), [h, ex](std::vector<bool> r) mutable {
          asio::post(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
        });
      },
      use_awaitable);
}

asio::awaitable<std::vector<bool>> ws_session::watch_presence(const std::vector<id_t>& users) {
  if (closing_) co_return std::vector<bool>(users.size(), false);
  hub_->watch(shared_from_this(), watched_, users);
  watched_ = users;
  auto lookup = presence_lookup(users);
  co_return co_await std::move(lookup);
}

asio::awaitable<void> ws_session::catch_up() {
  auto self = shared_from_this();
  if (!wake_catch_up_) wake_catch_up_ = std::make_unique<asio::steady_timer>(ws_.get_executor());
  int empty_reads = 0;
  const auto started = std::chrono::steady_clock::now();
  while (!closing_) {
    // Backpressure: read the next page only when the client has taken most of the last one.
    while (!closing_ && outbox_bytes_ > api_.opts().max_outbox_bytes / 2) {
      wake_catch_up_->expires_after(std::chrono::seconds(5));
      co_await wake_catch_up_->async_wait(as_tuple_awaitable);
    }
    if (closing_) co_return;
    auto page = co_await api_.store().read_stream(who_->user_id, pos_, catch_up_page);
    if (closing_) co_return;
    if (!page) {
      close_later(1011, "storage unavailable during catch-up");
      co_return;
    }
    bool paused = false;
    const auto before = pos_;
    for (auto& item : page->items) {
      if (item.pos != pos_ + 1) continue;  // already queued by an earlier page
      if (outbox_bytes_ > api_.opts().max_outbox_bytes / 2) {
        // Queue no more than the bound allows; the rest is read again once the client drained.
        paused = true;
        break;
      }
      pos_ = item.pos;
      out_frame f;
      f.body = std::make_shared<const std::string>(protocol::event_frame(item.pos, protocol::event_json(item.ev)));
      f.pos = item.pos;  // a traced event that waited for the catch-up is written here
      enqueue(std::move(f));
    }
    if (paused || (static_cast<int>(page->items.size()) == catch_up_page && pos_ != before)) continue;
    if (max_hint_ > pos_) {
      // Announced but not yet seen: read again (commit precedes announcement, so it will appear).
      if (pos_ == before) {  // no progress (nothing new readable yet)
        if (++empty_reads > 50) {
          log::error("catch-up cannot find announced events", "\"pos\":" + std::to_string(pos_));
          close_later(1011, "stream inconsistency");
          co_return;
        }
        wake_catch_up_->expires_after(std::chrono::milliseconds(10));
        co_await wake_catch_up_->async_wait(as_tuple_awaitable);
      }
      continue;
    }
    if (reread_) {
      reread_ = false;
      continue;
    }
    break;
  }
  syncing_ = false;
  wake_catch_up_.reset();  // live: no timer while idle
  metrics::node().catch_up.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  enqueue(json::serialize(json::object{{"type", "synced"}, {"pos", pos_}}));
}

// The writer: one write in flight; runs only while frames wait. With batching on (hello
// "batch":true) every frame queued behind the first goes out in the same WebSocket message: one
// write instead of one per frame when the client falls behind. Once closing and drained, it
// sends the close frame.
void ws_session::write_next() {
  if (writing_ || !accepted_) return;
  if (out_head_ >= 64 && out_head_ * 2 >= outbox_.size()) {  // never drained under steady load: compact
    outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(out_head_));
    out_head_ = 0;
  }
  if (out_head_ == outbox_.size()) {
    if (corked_) cork(false);  // the burst is written: send what the kernel holds
    if (outbox_.capacity()) std::vector<out_frame>().swap(outbox_);  // no idle memory
    if (combined_.capacity()) std::string().swap(combined_);
    out_head_ = 0;
    if (!closing_ || close_sent_) return;
    close_sent_ = true;
    if (!ws_.is_open()) return;
    writing_ = true;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(closing_->first), closing_->second),
                    [self = shared_from_this()](beast::error_code) { self->writing_ = false; });
    return;
  }
  writing_ = true;
  ws_.text(true);
  const std::size_t queued = outbox_.size() - out_head_;
  if (batch_ && queued > 1) {
    combined_.assign(R"({"type":"batch","frames":[)");
    std::size_t n = 0;
    inflight_bytes_ = 0;
    while (n < queued && n < max_batch_frames) {
      auto& f = outbox_[out_head_];
      if (n > 0 && combined_.size() + f.size() >= max_batch_bytes) break;
      if (n > 0) combined_ += ',';
      if (f.head_len) combined_.append(f.head.data(), f.head_len);
      combined_ += *f.body;
      if (f.head_len) combined_ += '}';
      inflight_bytes_ += f.size();
      inflight_pos_ = std::max(inflight_pos_, f.pos);
      f.body.reset();
      ++out_head_;
      ++n;
    }
    combined_ += "]}";
    ws_.async_write(asio::buffer(combined_), [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_written(ec); });
    return;
  }
  // Several frames waiting: cork the socket so that they leave together (the kernel sends a full
  // segment or, at the end of the burst, what it holds) instead of one segment per frame.
  if (queued > 1 && !corked_) cork(true);
  auto& f = outbox_[out_head_++];
  inflight_bytes_ = f.size();
  inflight_pos_ = f.pos;
  inflight_event_ = f.head_len != 0;
  combined_.assign(f.head.data(), f.head_len);
  inflight_ = std::move(f.body);
  std::array<asio::const_buffer, 3> bufs{asio::buffer(combined_), asio::buffer(*inflight_), asio::buffer("}", inflight_event_ ? 1 : 0)};
  ws_.async_write(bufs, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_written(ec); });
}

void ws_session::cork(bool on) {
  corked_ = on;
  beast::error_code ignored;
  ws_.next_layer().set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_CORK>(on), ignored);
}

void ws_session::on_written(beast::error_code ec) {
  writing_ = false;
  metrics::node().outbox_bytes.sub(static_cast<double>(inflight_bytes_));
  outbox_bytes_ -= inflight_bytes_;
  inflight_bytes_ = 0;
  inflight_.reset();
  combined_.clear();
  if (!ec && !trace_pending_.empty() && inflight_pos_ > 0) traced_written();
  inflight_pos_ = 0;
  if (ec) {
    outbox_.clear();
    out_head_ = 0;
    metrics::node().outbox_bytes.sub(static_cast<double>(outbox_bytes_));
    outbox_bytes_ = 0;
    if (!closing_) closing_ = std::make_unique<std::pair<std::uint16_t, std::string>>(1006, "");
    close_sent_ = true;  // the socket failed: no close frame
    cancel_timers();
    return;
  }
  if (wake_catch_up_ && outbox_bytes_ <= api_.opts().max_outbox_bytes / 2) wake_catch_up_->cancel();
  write_next();
}

}  // namespace confab::gateway
