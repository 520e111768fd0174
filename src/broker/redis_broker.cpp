#include "broker/redis_broker.hpp"

#include "core/log.hpp"
#include "core/node_metrics.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace confab::broker {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_failed_per_channel = 16;
constexpr std::size_t max_failed_channels = 100000;
constexpr std::size_t max_failed_bytes = 64 * 1024 * 1024;

bool is_array_of(const redisReply& r, std::string_view kind, std::size_t n) {
  return r.type == REDIS_REPLY_ARRAY && r.elements == n && r.element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(r.element[0]->str, r.element[0]->len) == kind;
}

}  // namespace

struct redis_broker::node {
  std::string host;
  std::uint16_t port = 0;
  std::shared_ptr<redis_connection> cmd, sub;
  bool cmd_connecting = false, sub_connecting = false;
  std::optional<std::chrono::steady_clock::time_point> cmd_ping, sub_ping;  // an unanswered PING since
  bool cmd_was_up = false, sub_was_up = false;
  std::chrono::milliseconds cmd_backoff{100}, sub_backoff{100};
  std::unique_ptr<asio::steady_timer> cmd_timer, sub_timer;
  bool cmd_up() const { return cmd && cmd->connected(); }
  bool sub_up() const { return sub && sub->connected(); }
};

redis_broker::redis_broker(asio::any_io_executor ex, redis_options opts)
    : strand_(asio::make_strand(ex)),
      opts_(std::move(opts)),
      id_(make_node_id()),
      reset_timer_(strand_),
      retry_timer_(strand_),
      heartbeat_timer_(strand_),
      reap_timer_(strand_),
      topo_timer_(strand_),
      ping_timer_(strand_) {}

redis_broker::~redis_broker() = default;

void redis_broker::start(handlers h) {
  asio::post(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
    self->h_ = std::move(h);
    for (auto& [host, port] : self->opts_.seeds) self->ensure_node(host + ":" + std::to_string(port));
    self->heartbeat();
    self->keepalive();
    self->reap_timer_.expires_after(self->opts_.presence_ttl / 2);
    self->reap_timer_.async_wait([self](boost::system::error_code e) {
      if (!e) self->reap();
    });
  });
}

void redis_broker::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    for (auto* t : {&self->reset_timer_, &self->retry_timer_, &self->heartbeat_timer_, &self->reap_timer_, &self->topo_timer_,
                    &self->ping_timer_})
      t->cancel();
    for (auto& [a, n] : self->nodes_) {
      if (n->cmd_timer) n->cmd_timer->cancel();
      if (n->sub_timer) n->sub_timer->cancel();
      if (n->cmd) n->cmd->close();
      if (n->sub) n->sub->close();
    }
    self->h_ = {};
    self->deferred_.clear();
  });
}

// --- connections

void redis_broker::ensure_node(const std::string& addr) {
  if (nodes_.contains(addr)) return;
  auto colon = addr.rfind(':');
  auto n = std::make_unique<node>();
  n->host = addr.substr(0, colon);
  std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), n->port);
  n->cmd_timer = std::make_unique<asio::steady_timer>(strand_);
  n->sub_timer = std::make_unique<asio::steady_timer>(strand_);
  nodes_.emplace(addr, std::move(n));
  connect_cmd(addr);
  connect_sub(addr);
}

void redis_broker::connect_cmd(const std::string& addr) {
  auto& n = *nodes_.at(addr);
  if (stopped_ || n.cmd_connecting || n.cmd_up()) return;
  n.cmd_connecting = true;
  n.cmd = std::make_shared<redis_connection>(strand_, n.host, n.port);
  auto self = shared_from_this();
  n.cmd->set_on_closed([self, addr] {
    metrics::node().broker_disconnects.labels({"command"}).inc();
    log::warn("redis connection lost", "\"address\":" + log::quote(addr));
    self->schedule_reconnect(addr, false);
    if (self->cluster_) self->refresh_topology();
  });
  n.cmd->connect(opts_.connect_timeout, [self, addr](bool ok) {
    auto& nn = *self->nodes_.at(addr);
    nn.cmd_connecting = false;
    if (self->stopped_) return;
    if (!ok) {
      self->schedule_reconnect(addr, false);
      return;
    }
    nn.cmd_backoff = 100ms;
    nn.cmd_ping.reset();
    if (nn.cmd_was_up) {
      metrics::node().broker_reconnects.labels({"command"}).inc();
      self->heartbeat();       // before anyone could reap this node
      self->schedule_reset();  // Redis may have lost presence keys: re-announce
    } else if (!self->registered_) {
      self->heartbeat();  // presence waits for registration: do not wait for the next beat
    }
    nn.cmd_was_up = true;
    if (!self->topology_known_ || self->cluster_) self->refresh_topology();
    self->retry_failed();
  });
}

void redis_broker::connect_sub(const std::string& addr) {
  auto& n = *nodes_.at(addr);
  if (stopped_ || n.sub_connecting || n.sub_up()) return;
  n.sub_connecting = true;
  n.sub = std::make_shared<redis_connection>(strand_, n.host, n.port);
  auto self = shared_from_this();
  n.sub->set_push(
      [](const redisReply& r, const std::vector<std::string>* front) {
        if (is_array_of(r, "smessage", 3)) return true;
        if (is_array_of(r, "sunsubscribe", 3)) {
          // Ours if it answers the oldest pending SUNSUBSCRIBE of that channel; else the server
          // dropped the subscription (its slot moved).
          std::string_view ch(r.element[1]->str, r.element[1]->len);
          return !(front && front->size() == 2 && (*front)[0] == "SUNSUBSCRIBE" && (*front)[1] == ch);
        }
        return false;
      },
      [self, addr](const redisReply& r) { self->on_push(addr, r); });
  n.sub->set_on_closed([self, addr] {
    metrics::node().broker_disconnects.labels({"subscriber"}).inc();
    log::warn("redis subscriber connection lost", "\"address\":" + log::quote(addr));
    for (auto& [ch, st] : self->channels_)
      if (st.node == addr) {
        st.confirmed = false;
        st.node.clear();
        st.owed_reset = true;  // messages may have been missed: re-read once subscribed again
      }
    self->schedule_reconnect(addr, true);
    if (self->cluster_) self->refresh_topology();
  });
  n.sub->connect(opts_.connect_timeout, [self, addr](bool ok) {
    auto& nn = *self->nodes_.at(addr);
    nn.sub_connecting = false;
    if (self->stopped_) return;
    if (!ok) {
      self->schedule_reconnect(addr, true);
      return;
    }
    nn.sub_backoff = 100ms;
    nn.sub_ping.reset();
    if (nn.sub_was_up) metrics::node().broker_reconnects.labels({"subscriber"}).inc();
    nn.sub_was_up = true;
    if (!self->topology_known_) return;
    for (auto& [ch, st] : self->channels_)
      if (st.node.empty()) self->assign(ch);
  });
}

void redis_broker::schedule_reconnect(const std::string& addr, bool sub) {
  if (stopped_) return;
  auto& n = *nodes_.at(addr);
  auto& timer = sub ? *n.sub_timer : *n.cmd_timer;
  auto& backoff = sub ? n.sub_backoff : n.cmd_backoff;
  timer.expires_after(backoff);
  backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
  timer.async_wait([self = shared_from_this(), addr, sub](boost::system::error_code e) {
    if (e || self->stopped_) return;
    if (sub)
      self->connect_sub(addr);
    else
      self->connect_cmd(addr);
  });
}

void redis_broker::schedule_reset() {
  if (reset_scheduled_ || stopped_) return;
  reset_scheduled_ = true;
  // Give the other connections a moment to come back, so one incident is one reset.
  reset_timer_.expires_after(200ms);
  reset_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
    self->reset_scheduled_ = false;
    if (e || self->stopped_) return;
    // Wait for subscriptions in flight; unreachable channels owe their own reset for later.
    bool pending = false;
    for (auto& [ch, st] : self->channels_) pending = pending || (!st.confirmed && !st.node.empty());
    if (pending) {
      self->schedule_reset();
      return;
    }
    log::info("broker reset: re-reading storage for live sessions");
    if (self->h_.on_reset) self->h_.on_reset();
  });
}

// --- topology

void redis_broker::describe(std::function<void(broker_view)> cb) {
  asio::post(strand_, [self = shared_from_this(), cb = std::move(cb)] {
    broker_view v{"redis", self->cluster_, shard_ranges(self->slots_)};
    for (auto& s : v.shards) {
      auto it = self->nodes_.find(s.address);
      s.connected = it != self->nodes_.end() && it->second->cmd_up() && it->second->sub_up();
    }
    for (const auto& [name, st] : self->channels_) {
      if (!st.confirmed) continue;
      auto it = std::lower_bound(v.shards.begin(), v.shards.end(), st.node,
                                 [](const shard_view& s, const std::string& a) { return s.address < a; });
      if (it != v.shards.end() && it->address == st.node) ++it->channels;
    }
    cb(std::move(v));
  });
}

void redis_broker::refresh_topology() {
  if (stopped_) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  node* via = nullptr;
  std::string via_addr;
  for (auto& [a, n] : nodes_)
    if (n->cmd_up()) {
      via = n.get();
      via_addr = a;
      break;
    }
  if (!via) return;  // retried when a command connection comes up
  refreshing_ = true;
  via->cmd->command({"CLUSTER", "SLOTS"}, [self = shared_from_this(), via_addr](const redisReply* r) {
    self->refreshing_ = false;
    if (self->stopped_) return;
    if (r) self->apply_slots(*r, via_addr);
    if (self->refresh_again_ || !r) {
      self->refresh_again_ = false;
      self->topo_timer_.expires_after(250ms);
      self->topo_timer_.async_wait([self](boost::system::error_code e) {
        if (!e) self->refresh_topology();
      });
    }
  });
}

void redis_broker::apply_slots(const redisReply& r, const std::string& from) {
  std::vector<std::string> slots(16384);
  if (r.type == REDIS_REPLY_ERROR) {
    std::string_view err(r.str, r.len);
    if (err.find("cluster support disabled") == std::string_view::npos) {
      log::warn("CLUSTER SLOTS failed", "\"error\":" + log::quote(std::string(err)));
      refresh_later();  // LOADING, a node still joining ...: ask again
      return;
    }
    cluster_ = false;
    std::fill(slots.begin(), slots.end(), from);
  } else if (r.type == REDIS_REPLY_ARRAY) {
    cluster_ = true;
    for (std::size_t i = 0; i < r.elements; ++i) {
      const redisReply* range = r.element[i];
      if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
      const redisReply* master = range->element[2];
      if (master->type != REDIS_REPLY_ARRAY || master->elements < 2) continue;
      std::string host = reply_string(master->element[0]);
      if (host.empty()) host = nodes_.at(from)->host;
      const std::string addr = host + ":" + std::to_string(master->element[1]->integer);
      for (long long s = range->element[0]->integer; s <= range->element[1]->integer && s < 16384; ++s)
        slots[static_cast<std::size_t>(s)] = addr;
    }
  } else {
    refresh_later();
    return;
  }
  slots_ = std::move(slots);
  const bool first = !topology_known_;
  topology_known_ = true;
  std::set<std::string> masters(slots_.begin(), slots_.end());
  masters.erase("");
  for (auto& a : masters) ensure_node(a);
  bool moved = false;
  for (auto& [ch, st] : channels_) {
    const auto& want = slots_[key_slot(ch)];
    if (st.node == want) continue;
    if (!st.node.empty()) {
      moved = true;
      if (auto it = nodes_.find(st.node); it != nodes_.end() && it->second->sub_up())
        it->second->sub->command({"SUNSUBSCRIBE", ch}, [](const redisReply*) {});
      st.node.clear();
      st.confirmed = false;
      st.owed_reset = true;
    }
    assign(ch);
  }
  (void)moved;
  // Presence waits for registration, which needed the slot map: register now, not at the next beat.
  if (first && !registered_) heartbeat();
  retry_failed();
}

redis_broker::node* redis_broker::owner(std::string_view key) {
  if (!topology_known_) return nullptr;
  const auto& a = slots_[key_slot(key)];
  auto it = nodes_.find(a);
  return it == nodes_.end() ? nullptr : it->second.get();
}

// --- subscriptions

void redis_broker::assign(const std::string& channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end() || !it->second.node.empty()) return;
  node* n = owner(channel);
  if (!n || !n->sub_up()) return;  // subscribed when that connection comes up
  it->second.node = slots_[key_slot(channel)];
  auto self = shared_from_this();
  n->sub->command({"SSUBSCRIBE", channel}, [self, channel, addr = it->second.node](const redisReply* r) {
    auto c = self->channels_.find(channel);
    if (c == self->channels_.end() || c->second.node != addr) return;  // unsubscribed or moved meanwhile
    if (r && is_array_of(*r, "ssubscribe", 3)) {
      c->second.confirmed = true;
      if (c->second.owed_reset) {
        c->second.owed_reset = false;
        self->schedule_reset();
      }
    } else {
      c->second.node.clear();
      c->second.owed_reset = true;
      if (r) {
        log::warn("SSUBSCRIBE failed", "\"channel\":" + log::quote(channel) + ",\"error\":" + log::quote(std::string(reply_error(r))));
        self->refresh_later();  // re-assigned then: at most a few attempts a second
      }
    }
    self->settle(channel);
  });
}

void redis_broker::settle(const std::string& channel) {
  auto it = waiting_.find(channel);
  if (it == waiting_.end()) return;
  auto ws = std::move(it->second);
  waiting_.erase(it);
  for (auto& w : ws)
    if (--w->remaining == 0 && w->ready) w->ready();
}

void redis_broker::subscribe(std::vector<std::string> channels, std::function<void()> ready) {
  asio::post(strand_, [self = shared_from_this(), channels = std::move(channels), ready = std::move(ready)]() mutable {
    if (self->stopped_) return;
    auto w = std::make_shared<waiter>();
    w->ready = std::move(ready);
    std::vector<std::string> fresh;
    for (auto& ch : channels) {
      auto [it, inserted] = self->channels_.try_emplace(ch);
      if (it->second.confirmed) continue;
      ++w->remaining;
      self->waiting_[ch].push_back(w);
      if (inserted) fresh.push_back(ch);
    }
    if (w->remaining == 0) {
      if (w->ready) w->ready();
      return;
    }
    for (auto& ch : fresh) self->assign(ch);
    // Channels that cannot be subscribed now (Redis down) settle at once and owe a reset: the
    // sessions re-read storage once they are live.
    for (auto& ch : channels) {
      auto it = self->channels_.find(ch);
      if (it != self->channels_.end() && !it->second.confirmed && it->second.node.empty()) {
        it->second.owed_reset = true;
        self->settle(ch);
      }
    }
  });
}

void redis_broker::unsubscribe(std::vector<std::string> channels) {
  asio::post(strand_, [self = shared_from_this(), channels = std::move(channels)] {
    for (auto& ch : channels) {
      auto it = self->channels_.find(ch);
      if (it == self->channels_.end()) continue;
      if (!it->second.node.empty())
        if (auto n = self->nodes_.find(it->second.node); n != self->nodes_.end() && n->second->sub_up())
          n->second->sub->command({"SUNSUBSCRIBE", ch}, [](const redisReply*) {});
      self->channels_.erase(it);
      self->settle(ch);
    }
  });
}

void redis_broker::on_push(const std::string& addr, const redisReply& r) {
  if (is_array_of(r, "smessage", 3)) {
    metrics::node().broker_received.inc();
    if (h_.on_message)
      h_.on_message(std::string_view(r.element[1]->str, r.element[1]->len),
                    std::string_view(r.element[2]->str, r.element[2]->len));
    return;
  }
  // The server dropped a subscription (its slot moved): subscribe where it lives now.
  std::string ch(r.element[1]->str, r.element[1]->len);
  auto it = channels_.find(ch);
  if (it == channels_.end() || it->second.node != addr) return;
  it->second.node.clear();
  it->second.confirmed = false;
  it->second.owed_reset = true;
  refresh_later();
}

void redis_broker::refresh_later() {
  if (stopped_) return;
  topo_timer_.expires_after(250ms);
  topo_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
    if (!e) self->refresh_topology();
  });
}

void redis_broker::keepalive() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto& entry : nodes_) {
    const std::string& addr = entry.first;  // not a structured binding: lambdas capture it (clang 14)
    auto& n = entry.second;
    auto check = [&](std::shared_ptr<redis_connection>& c, std::optional<std::chrono::steady_clock::time_point>& since) {
      if (!c || !c->connected()) return;
      if (since) {
        if (now - *since > 3s) {
          log::warn("redis connection silent: closing it", "\"address\":" + log::quote(addr));
          since.reset();
          c->close();  // on_closed reconnects
        }
        return;
      }
      since = now;
      auto* slot = &since;
      c->command({"PING"}, [slot, self = shared_from_this(), conn = std::weak_ptr<redis_connection>(c)](const redisReply* r) {
        if (r && !conn.expired()) slot->reset();
      });
    };
    check(n->cmd, n->cmd_ping);
    check(n->sub, n->sub_ping);
  }
  ping_timer_.expires_after(1s);
  ping_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
    if (!e) self->keepalive();
  });
}

// --- publishing and commands

void redis_broker::run(std::string key, std::vector<std::string> args, int tries,
                       std::function<void(const redisReply*)> cb) {
  node* n = owner(key);
  auto self = shared_from_this();
  auto again = [self, key, args, tries, cb](bool refresh) mutable {
    if (refresh) self->refresh_topology();
    if (tries <= 1 || self->stopped_) {
      cb(nullptr);
      return;
    }
    auto t = std::make_shared<asio::steady_timer>(self->strand_, 250ms);
    t->async_wait([self, t, key = std::move(key), args = std::move(args), tries, cb = std::move(cb)](boost::system::error_code) mutable {
      self->run(std::move(key), std::move(args), tries - 1, std::move(cb));
    });
  };
  if (!n || !n->cmd_up()) {
    again(false);
    return;
  }
  n->cmd->command(args, [again, cb](const redisReply* r) mutable {
    auto err = reply_error(r);
    if (!r || err.starts_with("MOVED") || err.starts_with("ASK") || err.starts_with("CLUSTERDOWN") ||
        err.starts_with("TRYAGAIN") || err.starts_with("LOADING")) {
      again(r != nullptr);
      return;
    }
    cb(r);
  });
}

void redis_broker::publish(std::string channel, std::string payload) {
  metrics::node().broker_published.inc();
  asio::post(strand_, [self = shared_from_this(), channel = std::move(channel), payload = std::move(payload)]() mutable {
    if (self->stopped_) return;
    if (self->failed_.contains(channel)) {  // behind the channel's earlier ones, in order
      auto& q = self->failed_[channel];
      if (self->failed_bytes_ + payload.size() > max_failed_bytes) return;  // bounded: dropped
      self->failed_bytes_ += payload.size();
      q.push_back(std::move(payload));
      if (q.size() > max_failed_per_channel) {
        self->failed_bytes_ -= q.front().size();
        q.pop_front();
      }
      return;
    }
    self->try_publish(channel, std::move(payload));
  });
}

void redis_broker::try_publish(const std::string& channel, std::string payload) {
  auto keep = [this, channel](std::string p) {
    metrics::node().broker_publish_failures.inc();
    if (!failed_.contains(channel) && failed_.size() >= max_failed_channels) return;  // bounded: dropped
    if (failed_bytes_ + p.size() > max_failed_bytes) return;
    auto& q = failed_[channel];
    failed_bytes_ += p.size();
    q.push_back(std::move(p));
    if (q.size() > max_failed_per_channel) {
      failed_bytes_ -= q.front().size();
      q.pop_front();
    }
    if (failed_.size() == 1) {
      retry_timer_.expires_after(250ms);
      retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (!e) self->retry_failed();
      });
    }
  };
  node* n = owner(channel);
  if (!n || !n->cmd_up()) {
    keep(std::move(payload));
    return;
  }
  auto shared = std::make_shared<std::string>(std::move(payload));
  n->cmd->command({"SPUBLISH", channel, *shared}, [self = shared_from_this(), channel, shared, keep](const redisReply* r) mutable {
    if (r && r->type == REDIS_REPLY_INTEGER) return;
    if (r) self->refresh_topology();
    keep(std::move(*shared));
  });
}

void redis_broker::retry_failed() {
  if (stopped_ || failed_.empty()) return;
  auto all = std::move(failed_);
  failed_.clear();
  failed_bytes_ = 0;
  for (auto& [ch, q] : all)
    for (auto& p : q) try_publish(ch, std::move(p));
  if (!failed_.empty()) {
    retry_timer_.expires_after(250ms);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
      if (!e) self->retry_failed();
    });
  }
}

}  // namespace confab::broker
