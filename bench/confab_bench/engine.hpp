// confab-bench's runtime: T single-threaded io_contexts (one thread each), devices spread over
// them, and helpers to run work on them from the controlling (main) thread.
#pragma once

#include "device.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <future>
#include <thread>
#include <vector>

namespace confab::bench {

class engine {
 public:
  explicit engine(int threads);
  ~engine();
  int threads() const { return static_cast<int>(iocs_.size()); }
  boost::asio::io_context& ctx(std::size_t i) { return *iocs_[i % iocs_.size()]; }
  thread_stats& stats(std::size_t i) { return stats_[i % stats_.size()]; }

  // Runs f on thread i's io_context and waits for it.
  void run_on(std::size_t i, const std::function<void()>& f);
  // Merged statistics of every thread; reset = start a new measurement window.
  thread_stats collect(bool reset);
  void record_latency(bool on);

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<thread_stats> stats_;
  std::vector<std::thread> threads_;
};

}  // namespace confab::bench
