#include "gateway/trace.hpp"

#include <chrono>

namespace confab::gateway {
namespace json = boost::json;

namespace {
std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

std::int64_t trace_recorder::begin(id_t user, id_t device, const std::string& client_id) {
  lock_guard lock(mu_);
  active_.store(true, std::memory_order_relaxed);
  std::int64_t id = 0;
  while (id == 0) id = static_cast<std::int64_t>(rng_() >> 11);  // 53 bits: exact in JSON numbers
  auto key = std::make_pair(device, client_id);
  if (pending_.insert_or_assign(key, id).second) pending_order_.push_back(std::move(key));
  while (pending_order_.size() > max_pending) {
    pending_.erase(pending_order_.front());
    pending_order_.pop_front();
  }
  auto by_user = std::make_pair(user, client_id);
  if (by_client_.insert_or_assign(by_user, id).second) by_client_order_.push_back(std::move(by_user));
  while (by_client_order_.size() > max_traced) {
    by_client_.erase(by_client_order_.front());
    by_client_order_.pop_front();
  }
  return id;
}

std::int64_t trace_recorder::of_client(id_t user, const std::string& client_id) const {
  lock_guard lock(mu_);
  auto it = by_client_.find(std::make_pair(user, client_id));
  return it == by_client_.end() ? 0 : it->second;
}

void trace_recorder::remember(std::int64_t trace, id_t conv, std::int64_t seq) {
  auto key = std::make_pair(conv, seq);
  if (traced_.insert_or_assign(key, trace).second) traced_order_.push_back(key);
  while (traced_order_.size() > max_traced) {
    traced_.erase(traced_order_.front());
    traced_order_.pop_front();
  }
}

std::int64_t trace_recorder::claim(id_t device, const std::string& client_id, id_t conv, std::int64_t seq) {
  lock_guard lock(mu_);
  auto it = pending_.find(std::make_pair(device, client_id));
  if (it == pending_.end()) return 0;
  const auto trace = it->second;
  // The entry stays until it ages out: pending_order_ holds each key once.
  remember(trace, conv, seq);
  return trace;
}

void trace_recorder::adopt(std::int64_t trace, id_t conv, std::int64_t seq) {
  lock_guard lock(mu_);
  active_.store(true, std::memory_order_relaxed);
  remember(trace, conv, seq);
}

std::int64_t trace_recorder::of(id_t conv, std::int64_t seq) const {
  lock_guard lock(mu_);
  auto it = traced_.find(std::make_pair(conv, seq));
  return it == traced_.end() ? 0 : it->second;
}

std::vector<std::pair<std::int64_t, std::int64_t>> trace_recorder::upto(id_t conv, std::int64_t seq) const {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  lock_guard lock(mu_);
  for (auto it = traced_.lower_bound({conv, 0}); it != traced_.end() && it->first.first == conv && it->first.second <= seq; ++it)
    out.emplace_back(it->first.second, it->second);
  return out;
}

void trace_recorder::hop(std::int64_t trace, std::string kind, json::object attrs, bool once) {
  const auto at = now_us();
  lock_guard lock(mu_);
  if (once) {
    const auto* user = attrs.if_contains("user");
    for (const auto& h : hops_)
      if (h.trace == trace && h.kind == kind && (!user || (h.attrs.if_contains("user") && *h.attrs.if_contains("user") == *user)))
        return;
  }
  hops_.push_back({trace, std::move(kind), at, std::move(attrs)});
  while (hops_.size() > max_hops) hops_.pop_front();
}

json::array trace_recorder::hops(std::int64_t trace) const {
  json::array out;
  lock_guard lock(mu_);
  for (const auto& h : hops_) {
    if (h.trace != trace) continue;
    json::object o{{"hop", h.kind}, {"at_us", h.at_us}};
    for (const auto& kv : h.attrs) o[kv.key()] = kv.value();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace confab::gateway
