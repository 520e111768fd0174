#include "gateway/rate_limiter.hpp"

#include <algorithm>

namespace confab::gateway {

bool rate_limiter::allow(std::int64_t key, clock::time_point now) {
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    // A bucket idle long enough to be full again carries no state: drop it.
    const auto full_after = std::chrono::duration<double>(burst_ / std::max(rate_, 1e-9));
    std::erase_if(buckets_, [&](auto& kv) { return now - kv.second.last > full_after; });
    last_sweep_ = now;
  }
  auto [it, fresh] = buckets_.try_emplace(key, bucket{burst_, now});
  auto& b = it->second;
  if (!fresh) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + dt * rate_);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace confab::gateway
