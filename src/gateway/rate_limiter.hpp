// Per-key token buckets (key = device id). Thread-safe; memory bounded by evicting idle buckets.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace confab::gateway {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  rate_limiter(double per_sec, double burst) : rate_(per_sec), burst_(burst) {}

  // Takes one token for key; false if the bucket is empty (the caller answers rate_limited).
  bool allow(std::int64_t key, clock::time_point now = clock::now());

 private:
  struct bucket {
    double tokens;
    clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::int64_t, bucket> buckets_;
  clock::time_point last_sweep_{};
};

}  // namespace confab::gateway
