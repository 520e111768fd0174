// The presence half of redis_broker (redis_broker.hpp describes the keys): joins and leaves,
// queries, this node's heartbeat and registration, and the reaping of dead nodes.
#include "broker/redis_broker.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>

namespace confab::broker {
namespace asio = boost::asio;

namespace {

// SADD the node; 1 when the user had no node before (became online).
constexpr const char* join_script =
    "local a = redis.call('SADD', KEYS[1], ARGV[1]) "
    "if a == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end return 0";
// SREM the node; 1 when that removed the user's last node (became offline).
constexpr const char* leave_script =
    "local r = redis.call('SREM', KEYS[1], ARGV[1]) "
    "if r == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end return 0";

const std::string nodes_key = "confab:nodes";
std::string pr_key(std::int64_t user) { return "confab:pr:" + std::to_string(user); }
std::string nu_key(const std::string& node) { return "confab:nu:" + node; }
std::string nd_key(const std::string& node) { return "confab:nd:" + node; }
std::string reap_key(const std::string& node) { return "confab:reap:" + node; }

bool is_one(const redisReply* r) { return r && r->type == REDIS_REPLY_INTEGER && r->integer == 1; }
void ignore(const redisReply*) {}

}  // namespace

void redis_broker::presence_join(std::int64_t user, std::function<void(bool)> cb) {
  asio::post(strand_, [self = shared_from_this(), user, cb = std::move(cb)]() mutable {
    if (self->stopped_) return;
    if (!self->registered_) {
      self->defer_presence(user, true, std::move(cb));
      return;
    }
    self->join_now(user, std::move(cb));
  });
}

void redis_broker::presence_leave(std::int64_t user, std::function<void(bool)> cb) {
  asio::post(strand_, [self = shared_from_this(), user, cb = std::move(cb)]() mutable {
    if (self->stopped_) return;
    if (!self->registered_) {
      self->defer_presence(user, false, std::move(cb));
      return;
    }
    self->leave_now(user, std::move(cb));
  });
}

void redis_broker::join_now(std::int64_t user, std::function<void(bool)> cb) {
  run(nu_key(id_), {"SADD", nu_key(id_), std::to_string(user)}, 20, ignore);
  run(pr_key(user), {"EVAL", join_script, "1", pr_key(user), id_}, 20,
      [cb = std::move(cb)](const redisReply* r) { cb(is_one(r)); });
}

void redis_broker::leave_now(std::int64_t user, std::function<void(bool)> cb) {
  auto self = shared_from_this();
  run(pr_key(user), {"EVAL", leave_script, "1", pr_key(user), id_}, 20, [self, user, cb = std::move(cb)](const redisReply* r) {
    cb(is_one(r));
    self->run(nu_key(self->id_), {"SREM", nu_key(self->id_), std::to_string(user)}, 20, ignore);
  });
}

// Before registration nothing of this node is in Redis, so a leave cancels the join it follows
// (the user was never announced) and only the user's last wish is kept: bounded by the users.
void redis_broker::defer_presence(std::int64_t user, bool join, std::function<void(bool)> cb) {
  auto it = deferred_.find(user);
  if (it == deferred_.end()) {
    deferred_.emplace(user, deferred_presence{join, std::move(cb)});
    return;
  }
  auto old = std::move(it->second.cb);
  if (it->second.join != join) {
    deferred_.erase(it);
    old(false);
    cb(false);
    return;
  }
  it->second.cb = std::move(cb);
  old(false);
}

void redis_broker::presence_query(std::vector<std::int64_t> users, std::function<void(std::vector<bool>)> cb) {
  asio::post(strand_, [self = shared_from_this(), users = std::move(users), cb = std::move(cb)]() mutable {
    struct state {
      std::vector<bool> out;
      std::size_t left;
      std::function<void(std::vector<bool>)> cb;
    };
    auto st = std::make_shared<state>(state{std::vector<bool>(users.size()), users.size(), std::move(cb)});
    if (users.empty()) {
      st->cb({});
      return;
    }
    for (std::size_t i = 0; i < users.size(); ++i)
      self->run(pr_key(users[i]), {"SCARD", pr_key(users[i])}, 4, [st, i](const redisReply* r) {
        st->out[i] = r && r->type == REDIS_REPLY_INTEGER && r->integer > 0;
        if (--st->left == 0) st->cb(std::move(st->out));
      });
  });
}

void redis_broker::live_nodes(std::function<void(std::vector<std::string>)> cb) {
  asio::post(strand_, [self = shared_from_this(), cb = std::move(cb)]() mutable {
    self->run(nodes_key, {"SMEMBERS", nodes_key}, 1, [cb = std::move(cb)](const redisReply* r) {
      std::vector<std::string> out;
      if (r && r->type == REDIS_REPLY_ARRAY)
        for (std::size_t i = 0; i < r->elements; ++i)
          if (auto id = reply_string(r->element[i]); !id.empty()) out.push_back(std::move(id));
      std::sort(out.begin(), out.end());
      cb(std::move(out));
    });
  });
}

// The heartbeat key first, then the entry in confab:nodes: a node in confab:nodes is reaped once
// its key is gone, whenever it dies. Each step is retried (the slot map may not be known yet).
void redis_broker::heartbeat() {
  if (stopped_) return;
  auto self = shared_from_this();
  run(nd_key(id_), {"SET", nd_key(id_), "1", "PX", std::to_string(opts_.presence_ttl.count())}, 4, [self](const redisReply* r) {
    if (reply_string(r) != "OK") {
      log::warn("presence heartbeat failed", "\"error\":" + log::quote(r ? std::string(reply_error(r)) : "no reply"));
      return;  // the next beat tries again
    }
    self->run(nodes_key, {"SADD", nodes_key, self->id_}, 4, [self](const redisReply* a) {
      if (a && a->type == REDIS_REPLY_INTEGER) self->on_registered(a->integer == 1);
    });
  });
  heartbeat_timer_.expires_after(opts_.presence_ttl / 3);
  heartbeat_timer_.async_wait([self](boost::system::error_code e) {
    if (!e) self->heartbeat();
  });
}

void redis_broker::on_registered(bool added) {
  if (stopped_) return;
  if (!registered_) {
    registered_ = true;
    auto pending = std::move(deferred_);
    deferred_.clear();
    for (auto& [user, d] : pending) {
      if (d.join)
        join_now(user, std::move(d.cb));
      else
        leave_now(user, std::move(d.cb));
    }
    return;
  }
  if (!added) return;
  // This node had been removed from confab:nodes: a peer reaped it (it was frozen or cut off for
  // longer than the TTL) or Redis lost its data. Either way its users' entries are gone.
  log::warn("this node was declared dead: announcing its users again", "\"node\":" + log::quote(id_));
  run(reap_key(id_), {"DEL", reap_key(id_)}, 4, ignore);  // so that a later death is reaped too
  if (h_.on_presence_lost) h_.on_presence_lost();
}

void redis_broker::reap() {
  if (stopped_) return;
  auto self = shared_from_this();
  run(nodes_key, {"SMEMBERS", nodes_key}, 1, [self](const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return;
    for (std::size_t i = 0; i < r->elements; ++i) {
      std::string other = reply_string(r->element[i]);
      if (other.empty() || other == self->id_) continue;
      self->run(nd_key(other), {"EXISTS", nd_key(other)}, 1, [self, other](const redisReply* e) {
        if (e && e->type == REDIS_REPLY_INTEGER && e->integer == 0) self->reap_node(other);
      });
    }
  });
  reap_timer_.expires_after(opts_.presence_ttl / 2);
  reap_timer_.async_wait([self](boost::system::error_code e) {
    if (!e) self->reap();
  });
}

// Strictly in order: every user leaves, then the node's user set goes, and only then its entry in
// confab:nodes. A reaped node that resumes learns it was reaped from that entry (on_registered),
// so it must not disappear before the removals that its users' re-announcement has to follow.
void redis_broker::reap_node(const std::string& dead) {
  auto self = shared_from_this();
  run(reap_key(dead), {"SET", reap_key(dead), id_, "NX", "PX", "60000"}, 1, [self, dead](const redisReply* r) {
    if (reply_string(r) != "OK") return;  // another node reaps it
    log::info("reaping a dead node's presence", "\"node\":" + log::quote(dead));
    self->run(nu_key(dead), {"SMEMBERS", nu_key(dead)}, 3, [self, dead](const redisReply* m) {
      if (!m || m->type != REDIS_REPLY_ARRAY) return;  // the reap key expires: reaped later
      std::vector<std::int64_t> users;
      for (std::size_t i = 0; i < m->elements; ++i) {
        std::int64_t user = 0;
        std::string u = reply_string(m->element[i]);
        if (std::from_chars(u.data(), u.data() + u.size(), user).ec == std::errc{}) users.push_back(user);
      }
      auto finish = [self, dead] {
        self->run(nu_key(dead), {"DEL", nu_key(dead)}, 3, [self, dead](const redisReply*) {
          self->run(nodes_key, {"SREM", nodes_key, dead}, 3, ignore);
        });
      };
      if (users.empty()) {
        finish();
        return;
      }
      auto left = std::make_shared<std::size_t>(users.size());
      for (auto user : users)
        self->run(pr_key(user), {"EVAL", leave_script, "1", pr_key(user), dead}, 3, [self, user, left, finish](const redisReply* x) {
          if (is_one(x) && self->h_.on_orphaned_offline) self->h_.on_orphaned_offline(user);
          if (--*left == 0) finish();
        });
    });
  });
}

}  // namespace confab::broker
