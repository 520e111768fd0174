// Lock annotations that clang's -Wthread-safety checks, and a mutex and lock guard that carry them.
//
// Annotate each member a mutex protects with GUARDED_BY(mu_), each function that must be called
// with it held with REQUIRES(mu_), and each that must not (it takes the lock itself, or calls out
// to code that may call back) with EXCLUDES(mu_). GCC ignores the attributes; the clang build
// (CMakePresets.json "clang", run by scripts/test.sh) turns violations into errors.
// The macro names follow clang's documentation ("Thread Safety Analysis").
#pragma once

#include <mutex>

#if defined(__clang__)
#define CONFAB_TSA(x) __attribute__((x))
#else
#define CONFAB_TSA(x)
#endif

#define CAPABILITY(x) CONFAB_TSA(capability(x))
#define SCOPED_CAPABILITY CONFAB_TSA(scoped_lockable)
#define GUARDED_BY(x) CONFAB_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) CONFAB_TSA(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) CONFAB_TSA(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) CONFAB_TSA(acquired_after(__VA_ARGS__))
#define REQUIRES(...) CONFAB_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) CONFAB_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CONFAB_TSA(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) CONFAB_TSA(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) CONFAB_TSA(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) CONFAB_TSA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS CONFAB_TSA(no_thread_safety_analysis)

namespace confab {

// std::mutex, as a capability the analysis tracks.
class CAPABILITY("mutex") mutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return m_.try_lock(); }

 private:
  std::mutex m_;
};

// Holds a confab::mutex for its scope.
class SCOPED_CAPABILITY lock_guard {
 public:
  explicit lock_guard(mutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
  ~lock_guard() RELEASE() { m_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  mutex& m_;
};

}  // namespace confab
