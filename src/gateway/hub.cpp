#include "gateway/hub.hpp"

#include "broker/redis_connection.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace confab::gateway {
namespace asio = boost::asio;
namespace relay = protocol::relay;

namespace {
// issue 12: {"type":"channel_event","conv":C,"seq":S,"event":<event JSON>} (docs/protocol.md
// section 10, Channels), spliced around the event's JSON as it was written once.
std::shared_ptr<const std::string> channel_event_frame(id_t conv, std::int64_t seq, const std::string& event_json) {
  std::string f = "{\"type\":\"channel_event\",\"conv\":" + std::to_string(conv) + ",\"seq\":" + std::to_string(seq) + ",\"event\":";
  f.reserve(f.size() + event_json.size() + 1);
  f += event_json;
  f += '}';
  return std::make_shared<const std::string>(std::move(f));
}
}  // namespace

hub::hub(asio::any_io_executor ex, storage::store& store, std::shared_ptr<broker::broker> b, hub_options o)
    : ex_(ex),
      strand_(asio::make_strand(ex)),
      store_(store),
      opts_(o),
      clock_(o.clock ? *o.clock : real_clock::instance()),
      link_(ex, std::move(b)),
      cluster_(std::make_shared<cluster_query>(ex, link_, std::chrono::milliseconds(2000))),
      started_ms_(now_ms()),
      interest_(link_),
      typing_(clock_, o.typing_ttl, o.typing_throttle),
      presence_(link_),
      sweep_timer_(strand_),
      flush_timer_(strand_) {}

hub::~hub() = default;

void hub::start() {
  add_admin_responders();
  std::weak_ptr<hub> w = weak_from_this();
  interest_.set_on_live([w](id_t user) {
    if (auto h = w.lock())
      for (auto& s : h->sessions_.of_user(user)) s->resync();
  });
  link_handlers lh;
  lh.on_note = [w](const relay::note& n) {
    if (auto h = w.lock()) h->on_note(n);
  };
  lh.on_reset = [w] {
    if (auto h = w.lock()) h->on_reset();
  };
  lh.on_orphaned_offline = [w](id_t user) {
    if (auto h = w.lock()) h->went_offline(user, h->clock_.system_ms());
  };
  lh.on_presence_lost = [w] {
    if (auto h = w.lock()) h->rejoin_presence();
  };
  link_.start(std::move(lh));
  asio::post(strand_, [self = shared_from_this()] { self->sweep_typing(); });
}

void hub::stop() {
  link_.stop();
  asio::post(strand_, [self = shared_from_this()] {
    self->sweep_timer_.cancel();
    self->flush_timer_.cancel();
  });
}

// --- sessions

bool hub::attach(id_t user, id_t device, const std::shared_ptr<session_base>& s, std::function<void()> ready) {
  lock_guard lock(lifecycle_mu_);
  auto first = sessions_.add(user, device, s);
  if (!first) return false;
  if (*first) interest_.begin(user);
  // Subscriptions are sets: for a second session this only waits until the channel is live.
  link_.follow_user(user, std::move(ready));
  if (*first) join_presence(user);
  return true;
}

void hub::detach(id_t user, id_t device, const session_base* s) {
  std::vector<session_ptr> graveyard;  // released after the lock
  lock_guard lock(lifecycle_mu_);
  if (!sessions_.remove(user, device, s, graveyard)) return;
  interest_.end(user);
  link_.unfollow_user(user);
  std::weak_ptr<hub> w = weak_from_this();
  link_.leave(user, [w, user](bool became) {
    if (auto h = w.lock(); h && became) h->went_offline(user, h->clock_.system_ms());
  });
}

bool hub::stopping() const { return sessions_.closed(); }

void hub::load_conversations(id_t user, const std::vector<id_t>& convs) { interest_.loaded(user, convs); }

std::size_t hub::session_count() const { return sessions_.count(); }

std::optional<bool> hub::local_member(id_t user, id_t conv) const { return interest_.member(user, conv); }

void hub::close_all(std::uint16_t code, const std::string& reason) {
  sessions_.close();
  for (auto& s : sessions_.all()) s->kick(code, reason);
}

void hub::kick_local(id_t device, std::uint16_t code, const std::string& reason) {
  for (auto& s : sessions_.of_device(device)) s->kick(code, reason);
}

void hub::disconnect_device(id_t user, id_t device, std::uint16_t code, const std::string& reason) {
  kick_local(device, code, reason);
  link_.publish_kick(user, device);
}

// --- committed events

void hub::route(event_kind kind, id_t conv, id_t sender, const std::vector<id_t>& added,
                const std::vector<id_t>& removed, std::span<const recipient> to,
                const std::shared_ptr<const std::string>& text, std::int64_t channel_seq, std::int64_t trace) {
  auto targets = sessions_.of_recipients(to);
  interest_.apply(conv, added, removed);
  for (auto& [s, pos] : targets) s->deliver(pos, text, trace);
  if (trace)  // issue 17: after the hand-offs, so that tracing does not delay them
    for (auto& [s, pos] : targets) traces_.hop(trace, "queued", {{"device", s->device_id()}, {"pos", pos}});
  if (channel_seq > 0) {
    // issue 12: one frame for every local member's sessions (the interest's users of conv, kept
    // from the membership events above), built once.
    framed out;
    sessions_.add_frames(interest_.locals(conv), channel_event_frame(conv, channel_seq, *text), out);
    for (auto& [s, f] : out) s->deliver_channel(f);
  }
  if (kind != event_kind::message) return;
  if (auto name = typing_.stop(conv, sender, false)) {
    // After the event itself: the strand runs it once the deliveries above are queued.
    asio::post(strand_, [self = shared_from_this(), conv, sender, name = std::move(*name)] {
      self->show_typing_stop(conv, sender, name);
    });
  }
}

void hub::on_committed(const event& ev, std::span<const recipient> to) {
  try {
    relay::event_note n;
    auto [added, removed] = membership_change(ev);
    n.added = std::move(added);
    n.removed = std::move(removed);
    auto text = std::make_shared<const std::string>(protocol::event_json(ev));
    n.channel_seq = ev.channel ? ev.seq : 0;  // issue 12
    if (traces_.active() && ev.kind == event_kind::message && !ev.client_id.empty())  // issue 17
      n.trace = traces_.claim(ev.device, ev.client_id, ev.conv, ev.seq);
    if (n.trace) trace_commit(n.trace, ev, to.size());
    route(ev.kind, ev.conv, ev.sender, n.added, n.removed, to, text, n.channel_seq, n.trace);
    if (link_.alone()) return;
    n.conv = ev.conv;
    n.kind = ev.kind;
    n.sender = ev.sender;
    n.to.assign(to.begin(), to.end());
    n.event_json = *text;
    const auto trace = n.trace;
    link_.publish_event(std::move(n));
    if (trace) {
      const auto channel = "c:" + std::to_string(ev.conv);
      traces_.hop(trace, "published", {{"channel", channel}, {"slot", broker::key_slot(channel)}});
    }
  } catch (const std::exception&) {
    // Out of memory: the event is committed, so sessions repair the gap from storage.
    resync_everywhere();
  }
}

void hub::on_uncertain() { resync_everywhere(); }

void hub::resync_everywhere() {
  for (auto& s : sessions_.all()) s->resync();
  link_.publish_resync();
}

// --- typing and receipts

framed hub::to_conv(id_t conv, id_t except_user, const std::shared_ptr<const std::string>& frame) const {
  auto users = interest_.locals(conv);
  std::erase(users, except_user);
  framed out;
  sessions_.add_frames(users, frame, out);
  return out;
}

void hub::show_typing_stop(id_t conv, id_t user, const std::string& username) {
  send_all(to_conv(conv, user, typing_frame(conv, user, username, false, typing_.ttl())));
}

void hub::typing(id_t user, const std::string& username, id_t conv, bool active, std::optional<std::int64_t> thread) {
  if (active) {
    if (!typing_.local_start(conv, user, username, thread)) return;  // throttled
    send_all(to_conv(conv, user, typing_frame(conv, user, username, true, typing_.ttl(), thread)));
  } else if (auto name = typing_.stop(conv, user, true)) {
    show_typing_stop(conv, user, *name);
  }
  link_.publish_typing({{}, conv, user, active, username, active ? thread : std::nullopt});
}

void hub::sweep_typing() {
  if (stopping()) return;
  for (auto& e : typing_.expire()) show_typing_stop(e.conv, e.user, e.username);
  sweep_timer_.expires_after(std::chrono::milliseconds(250));
  sweep_timer_.async_wait([w = weak_from_this()](boost::system::error_code e) {
    if (auto h = w.lock(); h && !e) h->sweep_typing();
  });
}

void hub::receipt(id_t conv, const receipt_record& r) {
  if (traces_.active()) trace_receipt(conv, r);  // issue 17
  auto frame = receipt_frame(conv, r);
  send_all(to_conv(conv, 0, frame));
  link_.publish_receipt({{}, conv, *frame});
}

// --- presence

void hub::watch(const std::shared_ptr<session_base>& s, const std::vector<id_t>& before, const std::vector<id_t>& after) {
  presence_.watch(s, before, after);
}

void hub::unwatch(const session_base* s, const std::vector<id_t>& users) { presence_.unwatch(s, users); }

void hub::presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb) {
  link_.presence_query(std::move(users), std::move(cb));
}

void hub::join_presence(id_t user) {
  link_.join(user, [w = weak_from_this(), user](bool became) {
    if (auto h = w.lock(); h && became) h->went_online(user);
  });
}

void hub::rejoin_presence() {
  // Under the lifecycle lock: a detach that follows queues its leave after these joins.
  lock_guard lock(lifecycle_mu_);
  for (auto u : sessions_.users()) join_presence(u);
}

void hub::went_online(id_t user) { announce(user, {true, std::nullopt}); }

void hub::went_offline(id_t user, std::int64_t ms) {
  announce(user, {false, ms});
  // Durable last seen, in the background (the announcement does not wait for it).
  asio::co_spawn(ex_, [](storage::store& st, id_t u, std::int64_t t) -> asio::awaitable<void> {
    auto r = co_await st.set_last_seen(u, t);
    if (!r) log::warn("cannot store last seen", "\"user\":" + std::to_string(u) + ",\"error\":" + log::quote(r.error().message));
  }(store_, user, ms), asio::detached);
}

void hub::announce(id_t user, presence_watch::state st) {
  queue_presence(user, st);
  link_.publish_presence({{}, user, st.online, st.last_seen});
}

void hub::queue_presence(id_t user, presence_watch::state st) {
  if (!presence_.queue(user, st)) return;
  asio::post(strand_, [w = weak_from_this()] {
    auto h = w.lock();
    if (!h) return;
    h->flush_timer_.expires_after(h->opts_.presence_coalesce);
    h->flush_timer_.async_wait([w](boost::system::error_code e) {
      if (auto hh = w.lock(); hh && !e) hh->flush_presence();
    });
  });
}

void hub::flush_presence() { send_all(presence_.flush()); }

// --- other nodes

void hub::on_reset() {
  // Redis may have restarted empty: announce this node's users again.
  rejoin_presence();
  for (auto& s : sessions_.all()) {
    s->resync();
    s->recheck_device();  // a revocation kick from another node may have been lost
  }
  // Membership events may have been lost too: re-read each local user's conversations and
  // follow exactly those (one storage read per user, in the background).
  asio::co_spawn(ex_, [](std::weak_ptr<hub> w, storage::store& st, std::vector<id_t> us) -> asio::awaitable<void> {
    for (auto u : us) {
      auto convs = co_await st.conversation_ids(u);
      auto h = w.lock();
      if (!h) co_return;
      if (convs) h->interest_.reconcile(u, *convs);
    }
  }(weak_from_this(), store_, sessions_.users()), asio::detached);
}

void hub::on_note(const relay::note& n) {
  if (auto* e = std::get_if<relay::event_note>(&n)) {
    if (e->trace) {  // issue 17
      boost::system::error_code ec;
      auto v = boost::json::parse(e->event_json, ec);
      const auto* seq = !ec && v.is_object() ? v.as_object().if_contains("seq") : nullptr;
      if (seq && seq->is_int64()) traces_.adopt(e->trace, e->conv, seq->as_int64());
      traces_.hop(e->trace, "broker_received", {{"from", e->node}});
    }
    route(e->kind, e->conv, e->sender, e->added, e->removed, e->to, std::make_shared<const std::string>(e->event_json),
          e->channel_seq, e->trace);
  } else if (auto* t = std::get_if<relay::typing_note>(&n)) {
    if (t->active) {
      typing_.remote_start(t->conv, t->user, t->username, t->thread);
      send_all(to_conv(t->conv, t->user, typing_frame(t->conv, t->user, t->username, true, typing_.ttl(), t->thread)));
    } else if (auto name = typing_.stop(t->conv, t->user, false)) {
      show_typing_stop(t->conv, t->user, *name);
    }
  } else if (auto* r = std::get_if<relay::receipt_note>(&n)) {
    send_all(to_conv(r->conv, 0, std::make_shared<const std::string>(r->frame)));
  } else if (auto* p = std::get_if<relay::presence_note>(&n)) {
    queue_presence(p->user, {p->online, p->last_seen});
  } else if (std::holds_alternative<relay::resync_note>(n)) {
    for (auto& s : sessions_.all()) s->resync();
  } else if (auto* k = std::get_if<relay::kick_note>(&n)) {
    kick_local(k->device, 4001, "device revoked");
  } else if (auto* q = std::get_if<relay::query_note>(&n)) {
    cluster_->on_query(*q);
  } else if (auto* a = std::get_if<relay::answer_note>(&n)) {
    cluster_->on_answer(*a);
  }
}

void hub::ask(std::string kind, boost::json::object args, std::function<void(result<cluster_query::answers>)> cb) {
  cluster_->ask(std::move(kind), std::move(args), std::move(cb));
}

}  // namespace confab::gateway
