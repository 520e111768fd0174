#include "gateway/session_registry.hpp"

#include <algorithm>

namespace confab::gateway {

const std::string& session_base::via() const {
  static const std::string none;
  return none;
}

void send_all(const framed& out) {
  for (auto& [s, f] : out) s->deliver_ephemeral(f);
}

std::optional<bool> session_registry::add(id_t user, id_t device, const session_ptr& s) {
  lock_guard lock(mu_);
  if (closed_) return std::nullopt;
  auto& l = by_user_[user];
  const bool first = l.empty();
  l.push_back(s);
  by_device_[device].push_back(s);
  return first;
}

void session_registry::remove_from(list& l, const session_base* s, std::vector<session_ptr>& graveyard) {
  std::erase_if(l, [&](const std::weak_ptr<session_base>& w) {
    auto p = w.lock();
    const bool gone = !p || p.get() == s;
    if (p) graveyard.push_back(std::move(p));
    return gone;
  });
}

void session_registry::lock_all(const list& l, std::vector<session_ptr>& out) {
  for (auto& w : l)
    if (auto s = w.lock()) out.push_back(std::move(s));
}

bool session_registry::remove(id_t user, id_t device, const session_base* s, std::vector<session_ptr>& graveyard) {
  bool last = false;
  lock_guard lock(mu_);
  if (auto it = by_user_.find(user); it != by_user_.end()) {
    remove_from(it->second, s, graveyard);
    if (it->second.empty()) {
      by_user_.erase(it);
      last = true;
    }
  }
  if (auto it = by_device_.find(device); it != by_device_.end()) {
    remove_from(it->second, s, graveyard);
    if (it->second.empty()) by_device_.erase(it);
  }
  return last;
}

std::vector<session_ptr> session_registry::of_user(id_t user) const {
  std::vector<session_ptr> out;
  lock_guard lock(mu_);
  if (auto it = by_user_.find(user); it != by_user_.end()) lock_all(it->second, out);
  return out;
}

std::vector<session_ptr> session_registry::of_device(id_t device) const {
  std::vector<session_ptr> out;
  lock_guard lock(mu_);
  if (auto it = by_device_.find(device); it != by_device_.end()) lock_all(it->second, out);
  return out;
}

std::vector<session_ptr> session_registry::all() const {
  std::vector<session_ptr> out;
  lock_guard lock(mu_);
  for (auto& [d, l] : by_device_) lock_all(l, out);
  return out;
}

positioned session_registry::of_recipients(std::span<const recipient> to) const {
  positioned out;
  lock_guard lock(mu_);
  for (const auto& r : to) {
    auto it = by_user_.find(r.user_id);
    if (it == by_user_.end()) continue;
    for (auto& w : it->second)
      if (auto s = w.lock()) out.emplace_back(std::move(s), r.pos);
  }
  return out;
}

void session_registry::add_frames(const std::vector<id_t>& users, const std::shared_ptr<const std::string>& frame,
                                  framed& out) const {
  lock_guard lock(mu_);
  for (auto u : users) {
    auto it = by_user_.find(u);
    if (it == by_user_.end()) continue;
    for (auto& w : it->second)
      if (auto s = w.lock()) out.emplace_back(std::move(s), frame);
  }
}

std::vector<id_t> session_registry::users() const {
  std::vector<id_t> out;
  lock_guard lock(mu_);
  out.reserve(by_user_.size());
  for (auto& [u, l] : by_user_) out.push_back(u);
  return out;
}

std::size_t session_registry::count() const {
  lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [d, l] : by_device_) n += l.size();
  return n;
}

void session_registry::close() {
  lock_guard lock(mu_);
  closed_ = true;
}

}  // namespace confab::gateway
