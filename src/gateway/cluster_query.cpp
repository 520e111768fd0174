#include "gateway/cluster_query.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace confab::gateway {
namespace asio = boost::asio;
namespace json = boost::json;
namespace relay = protocol::relay;

struct cluster_query::pending {
  explicit pending(asio::any_io_executor ex) : timer(ex) {}
  std::function<void(result<answers>)> cb;
  answers got;
  std::set<std::string> answered;
  std::optional<std::set<std::string>> expected;  // once the broker listed the live nodes
  asio::steady_timer timer;
};

namespace {
json::object error_answer(std::string what) { return json::object{{"error", std::move(what)}}; }

// The body of an answer, as an object (anything else is that node's error).
json::object parse_answer(const std::string& body) {
  if (body.size() > cluster_query::max_answer_bytes) return error_answer("answer too large");
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return error_answer("bad answer");
  return std::move(v.as_object());
}
}  // namespace

cluster_query::cluster_query(asio::any_io_executor ex, node_link& link, std::chrono::milliseconds timeout)
    : strand_(asio::make_strand(ex)), link_(link), timeout_(timeout) {}

void cluster_query::on(std::string kind, responder r) { responders_.insert_or_assign(std::move(kind), std::move(r)); }

void cluster_query::answer_locally(const std::string& kind, const json::object& args, done_fn done) {
  auto it = responders_.find(kind);
  if (it == responders_.end()) {
    done(error_answer("unknown query"));
    return;
  }
  it->second(args, std::move(done));
}

void cluster_query::ask(std::string kind, json::object args, std::function<void(result<answers>)> cb) {
  asio::post(strand_, [self = shared_from_this(), kind = std::move(kind), args = std::move(args), cb = std::move(cb)]() mutable {
    if (self->pending_.size() >= max_pending) {
      cb(make_error(errc::unavailable, "too many cluster queries in progress"));
      return;
    }
    const auto id = ++self->next_id_;
    auto p = std::make_shared<pending>(self->strand_);
    p->cb = std::move(cb);
    self->pending_.emplace(id, p);
    p->timer.expires_after(self->timeout_);
    p->timer.async_wait([self, id](boost::system::error_code ec) {
      if (!ec) self->finish(id);
    });
    self->link_.live_nodes([self, id](std::vector<std::string> nodes) {
      asio::post(self->strand_, [self, id, nodes = std::move(nodes)] {
        auto it = self->pending_.find(id);
        if (it == self->pending_.end()) return;
        it->second->expected.emplace(nodes.begin(), nodes.end());
        it->second->expected->insert(self->link_.node_id());
        self->finish_if_complete(id);
      });
    });
    self->link_.publish_query(relay::query_note{"", id, kind, json::serialize(args)});
    self->answer_locally(kind, args, [self, id](json::object body) {
      asio::post(self->strand_, [self, id, body = std::move(body)]() mutable {
        self->add_answer(id, self->link_.node_id(), std::move(body));
      });
    });
  });
}

void cluster_query::on_query(const relay::query_note& q) {
  asio::post(strand_, [self = shared_from_this(), q] {
    boost::system::error_code ec;
    auto v = json::parse(q.args, ec);
    auto reply = [self, to = q.node, id = q.id](json::object body) {
      self->link_.publish_answer(relay::answer_note{"", to, id, json::serialize(body)});
    };
    if (ec || !v.is_object()) {
      reply(error_answer("bad arguments"));
      return;
    }
    self->answer_locally(q.kind, v.as_object(), std::move(reply));
  });
}

void cluster_query::on_answer(const relay::answer_note& a) {
  if (a.to != link_.node_id()) return;
  asio::post(strand_, [self = shared_from_this(), a] { self->add_answer(a.id, a.node, parse_answer(a.body)); });
}

void cluster_query::add_answer(std::int64_t id, const std::string& node, json::object body) {
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second->answered.insert(node).second) return;  // late, or a repeat
  auto& by_node = it->second->got.by_node;
  if (node == link_.node_id())
    by_node.emplace(by_node.begin(), node, std::move(body));
  else
    by_node.emplace_back(node, std::move(body));
  finish_if_complete(id);
}

void cluster_query::finish_if_complete(std::int64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second->expected) return;
  const auto& p = *it->second;
  if (std::includes(p.answered.begin(), p.answered.end(), p.expected->begin(), p.expected->end())) finish(id);
}

void cluster_query::finish(std::int64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto p = std::move(it->second);
  pending_.erase(it);
  p->timer.cancel();
  if (p->expected)
    for (const auto& n : *p->expected)
      if (!p->answered.contains(n)) p->got.missing.push_back(n);
  if (!p->got.missing.empty()) {
    std::string list;
    for (const auto& n : p->got.missing) list += (list.empty() ? "" : ",") + n;
    log::warn("cluster query: nodes did not answer in time", "\"nodes\":" + log::quote(list));
  }
  p->cb(std::move(p->got));
}

}  // namespace confab::gateway
