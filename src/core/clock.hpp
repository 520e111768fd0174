// One way to read time, so that time-dependent rules (typing expiry, presence, rate limits, edit
// windows) are tested by advancing a manual clock instead of sleeping.
//
// clock::steady() is monotonic time for durations and deadlines; clock::system_ms() is wall-clock
// milliseconds since the Unix epoch for timestamps shown to users (last seen, message times).
// real_clock reads the system; manual_clock returns what the test set and moves only when told.
// Both are thread-safe. A component takes a `const clock&` (or a pointer, nullptr meaning
// real_clock::instance()) and must not outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace confab {

class clock {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  virtual ~clock() = default;
  virtual steady_time steady() const = 0;
  virtual std::int64_t system_ms() const = 0;
};

class real_clock final : public clock {
 public:
  steady_time steady() const override { return std::chrono::steady_clock::now(); }
  std::int64_t system_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  // The process's one real clock (stateless; lives for the whole program).
  static const real_clock& instance() {
    static const real_clock c;
    return c;
  }
};

// Starts at an arbitrary fixed point; advance() moves both readings forward together.
class manual_clock final : public clock {
 public:
  explicit manual_clock(std::int64_t system_ms_start = 1'700'000'000'000) : system_ms_(system_ms_start) {}
  steady_time steady() const override { return steady_time(std::chrono::nanoseconds(steady_ns_.load())); }
  std::int64_t system_ms() const override { return system_ms_.load(); }
  void advance(std::chrono::nanoseconds d) {
    steady_ns_ += d.count();
    system_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

 private:
  std::atomic<std::int64_t> steady_ns_{1'000'000'000'000};  // far from the epoch: "now - ttl" stays valid
  std::atomic<std::int64_t> system_ms_;
};

}  // namespace confab
