#include "broker/inproc_broker.hpp"

#include "core/node_metrics.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <map>
#include <random>

namespace confab::broker {
namespace asio = boost::asio;

std::vector<shard_view> shard_ranges(const std::vector<std::string>& slot_owner) {
  std::map<std::string, std::vector<std::pair<int, int>>> by_address;
  for (std::size_t i = 0; i < slot_owner.size(); ++i) {
    if (slot_owner[i].empty()) continue;
    auto& r = by_address[slot_owner[i]];
    const int slot = static_cast<int>(i);
    if (!r.empty() && r.back().second == slot - 1)
      r.back().second = slot;
    else
      r.emplace_back(slot, slot);
  }
  std::vector<shard_view> out;
  for (auto& [address, ranges] : by_address) out.push_back(shard_view{address, std::move(ranges), false, 0});
  return out;
}

std::string make_node_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static const char* hex = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = hex[v & 15];
  return s;
}

// One broker's side of the bus: its strand, its subscriptions and its handlers.
struct inproc_bus::member {
  member(asio::any_io_executor ex, std::string node) : strand(asio::make_strand(ex)), id(std::move(node)) {}
  asio::strand<asio::any_io_executor> strand;
  const std::string id;
  mutex mu;
  std::set<std::string> channels GUARDED_BY(mu);
  std::shared_ptr<const handlers> h GUARDED_BY(mu);  // set by start
  bool started GUARDED_BY(mu) = false;
};

void inproc_bus::add(const std::shared_ptr<member>& m) {
  lock_guard lock(mu_);
  members_.push_back(m);
}

void inproc_bus::remove(const member* m) {
  lock_guard lock(mu_);
  std::erase_if(members_, [m](const std::weak_ptr<member>& w) {
    auto p = w.lock();
    return !p || p.get() == m;
  });
}

std::size_t inproc_bus::size() {
  lock_guard lock(mu_);
  return members_.size();
}

void inproc_bus::publish(const std::string& channel, const std::string& payload, const member* from) {
  std::vector<std::shared_ptr<member>> to;
  {
    lock_guard lock(mu_);
    for (auto& w : members_)
      if (auto m = w.lock(); m && m.get() != from) to.push_back(std::move(m));
  }
  auto shared = std::make_shared<const std::pair<std::string, std::string>>(channel, payload);
  for (auto& m : to) {
    std::shared_ptr<const handlers> h;
    {
      lock_guard lock(m->mu);
      if (!m->started || !m->channels.contains(channel)) continue;
      h = m->h;
    }
    asio::post(m->strand, [h = std::move(h), shared] {
      metrics::node().broker_received.inc();
      if (h->on_message) h->on_message(shared->first, shared->second);
    });
  }
}

bool inproc_bus::join(std::int64_t user, const std::string& node) {
  lock_guard lock(mu_);
  auto& s = presence_[user];
  bool was_empty = s.empty();
  s.insert(node);
  return was_empty;
}

bool inproc_bus::leave(std::int64_t user, const std::string& node) {
  lock_guard lock(mu_);
  auto it = presence_.find(user);
  if (it == presence_.end() || it->second.erase(node) == 0) return false;
  if (!it->second.empty()) return false;
  presence_.erase(it);
  return true;
}

std::vector<std::string> inproc_bus::ids() {
  std::vector<std::string> out;
  {
    lock_guard lock(mu_);
    for (auto& w : members_)
      if (auto m = w.lock()) out.push_back(m->id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool inproc_bus::online(std::int64_t user) {
  lock_guard lock(mu_);
  return presence_.contains(user);
}

inproc_broker::inproc_broker(asio::any_io_executor ex, std::shared_ptr<inproc_bus> bus)
    : bus_(std::move(bus)), id_(make_node_id()) {
  me_ = std::make_shared<inproc_bus::member>(ex, id_);
  bus_->add(me_);
}

inproc_broker::~inproc_broker() { bus_->remove(me_.get()); }

void inproc_broker::start(handlers h) {
  lock_guard lock(me_->mu);
  me_->h = std::make_shared<const handlers>(std::move(h));
  me_->started = true;
}

void inproc_broker::stop() {
  lock_guard lock(me_->mu);
  me_->started = false;
}

void inproc_broker::publish(std::string channel, std::string payload) {
  metrics::node().broker_published.inc();
  bus_->publish(channel, payload, me_.get());
}

void inproc_broker::subscribe(std::vector<std::string> channels, std::function<void()> ready) {
  {
    lock_guard lock(me_->mu);
    for (auto& c : channels) me_->channels.insert(std::move(c));
  }
  if (ready) asio::post(me_->strand, std::move(ready));
}

void inproc_broker::unsubscribe(std::vector<std::string> channels) {
  lock_guard lock(me_->mu);
  for (auto& c : channels) me_->channels.erase(c);
}

void inproc_broker::presence_join(std::int64_t user, std::function<void(bool)> cb) {
  bool r = bus_->join(user, id_);
  asio::post(me_->strand, [cb = std::move(cb), r] { cb(r); });
}

void inproc_broker::presence_leave(std::int64_t user, std::function<void(bool)> cb) {
  bool r = bus_->leave(user, id_);
  asio::post(me_->strand, [cb = std::move(cb), r] { cb(r); });
}

void inproc_broker::presence_query(std::vector<std::int64_t> users, std::function<void(std::vector<bool>)> cb) {
  std::vector<bool> out;
  out.reserve(users.size());
  for (auto u : users) out.push_back(bus_->online(u));
  asio::post(me_->strand, [cb = std::move(cb), out = std::move(out)]() mutable { cb(std::move(out)); });
}

void inproc_broker::describe(std::function<void(broker_view)> cb) {
  asio::post(me_->strand, [cb = std::move(cb)] { cb(broker_view{"inproc", false, {}}); });
}

void inproc_broker::live_nodes(std::function<void(std::vector<std::string>)> cb) {
  asio::post(me_->strand, [cb = std::move(cb), ids = bus_->ids()]() mutable { cb(std::move(ids)); });
}

}  // namespace confab::broker
