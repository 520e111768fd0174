#include "gateway/hub.hpp"

#include "protocol/codec.hpp"

#include <algorithm>

namespace confab::gateway {

bool hub::attach(id_t user, id_t device, const std::shared_ptr<session_base>& s) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  by_user_[user].push_back(s);
  by_device_[device].push_back(s);
  return true;
}

bool hub::stopping() const { return stopping_.load(std::memory_order_relaxed); }

void hub::remove(list& l, const session_base* s) {
  std::erase_if(l, [s](const std::weak_ptr<session_base>& w) {
    auto p = w.lock();
    return !p || p.get() == s;
  });
}

void hub::detach(id_t user, id_t device, const session_base* s) {
  std::lock_guard lock(mu_);
  if (auto it = by_user_.find(user); it != by_user_.end()) {
    remove(it->second, s);
    if (it->second.empty()) by_user_.erase(it);
  }
  if (auto it = by_device_.find(device); it != by_device_.end()) {
    remove(it->second, s);
    if (it->second.empty()) by_device_.erase(it);
  }
}

void hub::on_committed(const event& ev, std::span<const recipient> to) {
  std::vector<std::pair<std::shared_ptr<session_base>, std::int64_t>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : to) {
      auto it = by_user_.find(r.user_id);
      if (it == by_user_.end()) continue;
      for (auto& w : it->second)
        if (auto s = w.lock()) targets.emplace_back(std::move(s), r.pos);
    }
  }
  if (targets.empty()) return;
  try {
    auto text = std::make_shared<const std::string>(protocol::event_json(ev));
    for (auto& [s, pos] : targets) s->deliver(pos, text);
  } catch (const std::exception&) {
    // Out of memory: the event is committed, so sessions repair the gap from storage.
    for (auto& [s, pos] : targets) s->resync();
  }
}

void hub::on_uncertain() {
  for (auto& s : all_sessions()) s->resync();
}

std::vector<std::shared_ptr<session_base>> hub::all_sessions() const {
  std::vector<std::shared_ptr<session_base>> out;
  std::lock_guard lock(mu_);
  for (auto& [d, l] : by_device_)
    for (auto& w : l)
      if (auto s = w.lock()) out.push_back(std::move(s));
  return out;
}

void hub::disconnect_device(id_t device, std::uint16_t code, const std::string& reason) {
  std::vector<std::shared_ptr<session_base>> targets;
  {
    std::lock_guard lock(mu_);
    if (auto it = by_device_.find(device); it != by_device_.end())
      for (auto& w : it->second)
        if (auto s = w.lock()) targets.push_back(std::move(s));
  }
  for (auto& s : targets) s->kick(code, reason);
}

void hub::close_all(std::uint16_t code, const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  for (auto& s : all_sessions()) s->kick(code, reason);
}

std::size_t hub::session_count() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [d, l] : by_device_) n += l.size();
  return n;
}

}  // namespace confab::gateway
