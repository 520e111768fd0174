// Latency histograms and server resource sampling for confab-bench.
#pragma once

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace confab::bench {

// A log-linear histogram of microseconds: 64 sub-buckets per power of two, so every recorded
// value is kept within ~1.6%; constant memory, no allocation when recording. Not thread-safe:
// one per thread, merged at the end.
class histogram {
 public:
  void record(std::int64_t us);
  void merge(const histogram& o);
  std::uint64_t count() const { return count_; }
  std::int64_t percentile(double p) const;  // p in [0, 100]
  std::int64_t max() const { return max_; }
  // {"count":…, "p50_ms":…, "p90_ms":…, "p99_ms":…, "p999_ms":…, "max_ms":…}
  boost::json::object to_json() const;

 private:
  static constexpr int sub = 64;
  static constexpr int majors = 40;
  static std::size_t index(std::int64_t us);
  static std::int64_t value_at(std::size_t i);
  std::array<std::uint64_t, sub * majors> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

// CPU time (user + system) and resident memory of a process, from /proc.
struct proc_sample {
  double cpu_s = 0;
  long rss_kib = 0;
  bool ok = false;
};
proc_sample sample_proc(int pid);
// CPU seconds of each thread of pid (tid -> seconds), from /proc/<pid>/task/*/stat.
std::map<int, double> thread_cpu(int pid);
// CPU seconds of pid and its children: its own, its waited-for children's (cutime, cstime) and
// every live child's (e.g. a PostgreSQL postmaster and its backends).
double tree_cpu(int pid);

std::int64_t now_ns();  // CLOCK_MONOTONIC: comparable across processes on one machine

}  // namespace confab::bench
