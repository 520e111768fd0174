#include "stats.hpp"

#include <time.h>
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace confab::bench {

std::size_t histogram::index(std::int64_t us) {
  if (us < sub) return static_cast<std::size_t>(us < 0 ? 0 : us);
  const int msb = 63 - std::countl_zero(static_cast<std::uint64_t>(us));  // >= 6
  const int shift = msb - 6;
  const std::size_t major = static_cast<std::size_t>(shift + 1);
  const std::size_t minor = static_cast<std::size_t>((us >> shift) - sub);
  std::size_t i = major * sub + minor;
  return i < sub * majors ? i : sub * majors - 1;
}

std::int64_t histogram::value_at(std::size_t i) {
  if (i < sub) return static_cast<std::int64_t>(i);
  const std::size_t major = i / sub, minor = i % sub;
  const int shift = static_cast<int>(major) - 1;
  return static_cast<std::int64_t>((sub + minor) << shift);
}

void histogram::record(std::int64_t us) {
  ++buckets_[index(us)];
  ++count_;
  if (us > max_) max_ = us;
}

void histogram::merge(const histogram& o) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  if (o.max_ > max_) max_ = o.max_;
}

std::int64_t histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto want = static_cast<std::uint64_t>(static_cast<double>(count_) * p / 100.0 + 0.5);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= (want == 0 ? 1 : want)) return std::min(value_at(i), max_);
  }
  return max_;
}

boost::json::object histogram::to_json() const {
  auto ms = [](std::int64_t us) { return static_cast<double>(us) / 1000.0; };
  return {{"count", count_},          {"p50_ms", ms(percentile(50))},   {"p90_ms", ms(percentile(90))},
          {"p99_ms", ms(percentile(99))}, {"p999_ms", ms(percentile(99.9))}, {"max_ms", ms(max_)}};
}

proc_sample sample_proc(int pid) {
  proc_sample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // fields 3.. after "(comm)"
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
  s.ok = true;
  return s;
}

std::map<int, double> thread_cpu(int pid) {
  std::map<int, double> out;
  if (pid <= 0) return out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const int tid = std::atoi(e.path().filename().c_str());
    std::ifstream stat(e.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream in(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    out[tid] = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return out;
}

namespace {
// Fields 4 (ppid) and 14..17 (utime, stime, cutime, cstime) of /proc/<pid>/stat, in seconds.
bool stat_fields(const std::string& path, int& ppid, double& own, double& children) {
  std::ifstream stat(path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  unsigned long long v[18] = {};
  for (int i = 3; i <= 17 && in >> field; ++i)
    if (i == 4 || i >= 14) v[i] = std::stoull(field);
  const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ppid = static_cast<int>(v[4]);
  own = static_cast<double>(v[14] + v[15]) / tck;
  children = static_cast<double>(v[16] + v[17]) / tck;
  return true;
}
}  // namespace

double tree_cpu(int pid) {
  int ppid = 0;
  double own = 0, children = 0, total = 0;
  if (pid <= 0 || !stat_fields("/proc/" + std::to_string(pid) + "/stat", ppid, own, children)) return 0;
  total = own + children;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const int p = std::atoi(e.path().filename().c_str());
    if (p <= 0 || p == pid) continue;
    if (stat_fields((e.path() / "stat").string(), ppid, own, children) && ppid == pid) total += own;
  }
  return total;
}

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace confab::bench
