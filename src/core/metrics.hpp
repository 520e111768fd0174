// Metrics: counters, gauges and fixed-bucket histograms, rendered in the Prometheus text
// exposition format (version 0.0.4) on scrape.
//
// Ownership: a registry owns its families and a family owns its children (one per set of label
// values); both live as long as the registry, so a reference returned by get() or labels() may be
// kept and used without further lookups (the hot path: one relaxed atomic add). confabd uses the
// process-wide registry global() (one node per process); tests may build their own.
//
// Threads: every method may be called from any thread. Updating a counter, gauge or histogram is
// lock-free (relaxed atomics; a scrape may see one update of a histogram before another, never a
// torn value). Creating a family or a new label set takes the registry's or family's mutex, so
// look children up once and keep them. render() takes the mutexes briefly and calls the
// callbacks (see callback_family) on the scraping thread.
//
// Errors: a bad metric or label name, a counter name without "_total", a second family with the
// same name or a wrong number of label values are bugs: they throw std::invalid_argument.
// Label values must come from small fixed sets (operation names, error codes, consumer names):
// never user, device or conversation ids.
#pragma once

#include "core/thread_annotations.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confab::metrics {

// Whether counters, histograms and gauge additions are recorded: confabd --no-metrics switches it
// off at start-up to measure what recording costs (docs/performance.md); /metrics then shows what
// was recorded before. One relaxed load per update.
inline std::atomic<bool> recording{true};
inline bool recording_on() noexcept { return recording.load(std::memory_order_relaxed); }

// A monotonically increasing count (a name ending in _total).
class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept {
    if (recording_on()) v_.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// A value that goes up and down (connections, bytes queued, lag in seconds).
class gauge {
 public:
  void add(double n) noexcept {
    if (recording_on()) v_.fetch_add(n, std::memory_order_relaxed);
  }
  void sub(double n) noexcept {
    if (recording_on()) v_.fetch_sub(n, std::memory_order_relaxed);
  }
  void set(double n) noexcept { v_.store(n, std::memory_order_relaxed); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Counts of observations at or below each of a fixed list of upper bounds, plus their sum.
class histogram {
 public:
  // bounds: ascending, finite (the +Inf bucket is implicit).
  explicit histogram(std::vector<double> bounds);
  // Records n observations of value v (n > 1: a batch of equal values, one add).
  void observe(double v, std::uint64_t n = 1) noexcept;
  const std::vector<double>& bounds() const { return bounds_; }
  struct snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (= count)
    double sum = 0;
  };
  snapshot read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for latencies from 100 µs to 10 s.
std::vector<double> latency_buckets();
// Powers of two from 1 to max (sizes: jobs in a batch).
std::vector<double> power_of_two_buckets(double max);

enum class kind { counter, gauge, histogram };

class family_base {
 public:
  family_base(std::string name, std::string help, kind k, std::vector<std::string> label_names);
  virtual ~family_base() = default;
  const std::string& name() const { return name_; }
  // Appends the family's HELP, TYPE and samples.
  virtual void render(std::string& out) const = 0;

 protected:
  void check_arity(std::size_t n) const;
  void header(std::string& out) const;
  // name{l1="v1",...,extra} value (label values escaped).
  void sample(std::string& out, std::string_view suffix, const std::vector<std::string>& values,
              std::string_view extra_label, std::string_view value) const;

  std::string name_, help_;
  kind kind_;
  std::vector<std::string> label_names_;
};

// A metric with a fixed list of label names and one child per set of label values.
template <class T>
class family final : public family_base {
 public:
  family(std::string name, std::string help, kind k, std::vector<std::string> label_names, std::vector<double> bounds = {})
      : family_base(std::move(name), std::move(help), k, std::move(label_names)), bounds_(std::move(bounds)) {}
  // The child for these label values (in label-name order), created at first use.
  T& labels(std::initializer_list<std::string_view> values) EXCLUDES(mu_);
  // The only child of a family without labels.
  T& get() { return labels({}); }
  void render(std::string& out) const override EXCLUDES(mu_);

 private:
  std::vector<double> bounds_;  // histograms
  mutable mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_ GUARDED_BY(mu_);
};

// A metric whose values are computed on scrape (connections open, process memory). Several
// sources may report the same label values: their values are summed.
class callback_family final : public family_base {
 public:
  using source = std::function<double()>;
  callback_family(std::string name, std::string help, kind k, std::vector<std::string> label_names)
      : family_base(std::move(name), std::move(help), k, std::move(label_names)) {}
  // Removes its source when destroyed (destroy it before what the source reads).
  class handle {
   public:
    handle() = default;
    handle(callback_family* f, std::uint64_t id) : f_(f), id_(id) {}
    handle(handle&& o) noexcept : f_(o.f_), id_(o.id_) { o.f_ = nullptr; }
    handle& operator=(handle&& o) noexcept;
    ~handle();

   private:
    callback_family* f_ = nullptr;
    std::uint64_t id_ = 0;
  };
  // fn runs on the scraping thread, without the family's mutex held; it must be cheap.
  [[nodiscard]] handle add(std::initializer_list<std::string_view> values, source fn) EXCLUDES(mu_);
  void render(std::string& out) const override EXCLUDES(mu_);

 private:
  void remove(std::uint64_t id) EXCLUDES(mu_);
  mutable mutex mu_;
  std::uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<std::uint64_t, std::pair<std::vector<std::string>, source>> sources_ GUARDED_BY(mu_);
};

class registry {
 public:
  family<counter>& counters(std::string name, std::string help, std::vector<std::string> label_names = {}) EXCLUDES(mu_);
  family<gauge>& gauges(std::string name, std::string help, std::vector<std::string> label_names = {}) EXCLUDES(mu_);
  family<histogram>& histograms(std::string name, std::string help, std::vector<double> bounds,
                                std::vector<std::string> label_names = {}) EXCLUDES(mu_);
  callback_family& callbacks(std::string name, std::string help, kind k, std::vector<std::string> label_names = {})
      EXCLUDES(mu_);
  // The whole registry in the text format, families in the order they were added.
  std::string render() const EXCLUDES(mu_);

 private:
  template <class F>
  F& add(std::unique_ptr<F> f) EXCLUDES(mu_);
  mutable mutex mu_;
  std::vector<std::unique_ptr<family_base>> families_ GUARDED_BY(mu_);
};

// The process-wide registry confabd exposes at /metrics.
registry& global();

// The Content-Type of render()'s output.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// Escapes a label value for the text format (backslash, double quote, line feed).
std::string escape_label_value(std::string_view v);
// A sample value as the text format writes it: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string format_value(double v);

// issue 17: each metric's samples of an exposition (render()'s output) summed over their label
// sets, by sample name (histograms give name_sum and name_count; their _bucket lines are left out).
// Lines that do not parse are skipped. Pure; for the admin view of a node's load.
std::map<std::string, double> totals(std::string_view exposition);

}  // namespace confab::metrics
