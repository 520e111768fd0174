#include "gateway/node_link.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>

namespace confab::gateway {
namespace asio = boost::asio;
namespace relay = protocol::relay;

namespace {

std::string conv_channel(id_t conv) { return "c:" + std::to_string(conv); }
std::string user_channel(id_t user) { return "u:" + std::to_string(user); }
std::string presence_channel(id_t user) { return "p:" + std::to_string(user); }
const std::string all_channel = "confab:all";
std::string node_channel(const std::string& node) { return "n:" + node; }

std::vector<std::string> channels(const std::vector<id_t>& ids, std::string (*name)(id_t)) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (auto id : ids) out.push_back(name(id));
  return out;
}

}  // namespace

node_link::node_link(asio::any_io_executor ex, std::shared_ptr<broker::broker> b)
    : strand_(asio::make_strand(ex)), broker_(std::move(b)) {}

template <class F>
void node_link::ordered(F&& f) {
  asio::post(strand_, std::forward<F>(f));
}

void node_link::start(link_handlers h) {
  broker::handlers bh;
  // Owns copies of what it needs: a message may arrive while the hub is being destroyed (the hub's
  // own handlers hold it weakly).
  bh.on_message = [on_note = std::move(h.on_note), id = node_id(), bad = std::make_shared<std::atomic<std::uint64_t>>(0)](
                      std::string_view, std::string_view payload) { receive(payload, id, *bad, on_note); };
  bh.on_reset = std::move(h.on_reset);
  bh.on_orphaned_offline = std::move(h.on_orphaned_offline);
  bh.on_presence_lost = std::move(h.on_presence_lost);
  broker_->start(std::move(bh));
  broker_->subscribe({all_channel, node_channel(node_id())}, nullptr);
}

void node_link::stop() { broker_->stop(); }

void node_link::receive(std::string_view payload, const std::string& self, std::atomic<std::uint64_t>& bad,
                        const std::function<void(const relay::note&)>& on_note) {
  if (relay::sender_of(payload) == self) return;  // our own
  auto n = relay::decode(payload);
  if (!n) {
    // Another process wrote to our channels, or a node of another version: never fatal. The
    // first and then every 1000th is logged, so that a flood cannot flood the log too.
    const auto count = bad.fetch_add(1) + 1;
    if (count % 1000 == 1)
      log::warn("dropped a bad relay payload",
                "\"error\":" + log::quote(n.error().message) + ",\"count\":" + std::to_string(count));
    return;
  }
  if (on_note) on_note(*n);
}

void node_link::follow_user(id_t user, std::function<void()> ready) {
  ordered([b = broker_, user, ready = std::move(ready)]() mutable { b->subscribe({user_channel(user)}, std::move(ready)); });
}

void node_link::unfollow_user(id_t user) {
  ordered([b = broker_, user] { b->unsubscribe({user_channel(user)}); });
}

void node_link::follow_convs(const std::vector<id_t>& convs, std::function<void()> ready) {
  ordered([b = broker_, chs = channels(convs, conv_channel), ready = std::move(ready)]() mutable {
    b->subscribe(std::move(chs), std::move(ready));
  });
}

void node_link::unfollow_conv(id_t conv) {
  ordered([b = broker_, conv] { b->unsubscribe({conv_channel(conv)}); });
}

void node_link::watch_presence(const std::vector<id_t>& users) {
  if (users.empty()) return;
  ordered([b = broker_, chs = channels(users, presence_channel)]() mutable { b->subscribe(std::move(chs), nullptr); });
}

void node_link::unwatch_presence(const std::vector<id_t>& users) {
  if (users.empty()) return;
  ordered([b = broker_, chs = channels(users, presence_channel)]() mutable { b->unsubscribe(std::move(chs)); });
}

void node_link::join(id_t user, std::function<void(bool)> cb) {
  ordered([b = broker_, user, cb = std::move(cb)]() mutable { b->presence_join(user, std::move(cb)); });
}

void node_link::leave(id_t user, std::function<void(bool)> cb) {
  ordered([b = broker_, user, cb = std::move(cb)]() mutable { b->presence_leave(user, std::move(cb)); });
}

void node_link::publish_event(relay::event_note n) {
  if (broker_->alone()) return;
  n.node = node_id();
  auto payload = relay::encode(n);
  for (auto u : n.added) broker_->publish(user_channel(u), payload);
  for (auto u : n.removed) broker_->publish(user_channel(u), payload);
  broker_->publish(conv_channel(n.conv), std::move(payload));
}

void node_link::publish_typing(relay::typing_note n) {
  n.node = node_id();
  broker_->publish(conv_channel(n.conv), relay::encode(n));
}

void node_link::publish_receipt(relay::receipt_note n) {
  n.node = node_id();
  broker_->publish(conv_channel(n.conv), relay::encode(n));
}

void node_link::publish_presence(relay::presence_note n) {
  n.node = node_id();
  broker_->publish(presence_channel(n.user), relay::encode(n));
}

void node_link::publish_resync() { broker_->publish(all_channel, relay::encode(relay::resync_note{node_id()})); }

void node_link::publish_kick(id_t user, id_t device) {
  broker_->publish(user_channel(user), relay::encode(relay::kick_note{node_id(), device}));
}

void node_link::publish_query(relay::query_note n) {
  if (broker_->alone()) return;
  n.node = node_id();
  broker_->publish(all_channel, relay::encode(n));
}

void node_link::publish_answer(relay::answer_note n) {
  n.node = node_id();
  auto ch = node_channel(n.to);
  broker_->publish(std::move(ch), relay::encode(n));
}

void node_link::presence_query(std::vector<id_t> users, std::function<void(std::vector<bool>)> cb) {
  broker_->presence_query(std::move(users), std::move(cb));
}

}  // namespace confab::gateway
