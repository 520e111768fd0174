#include "engine.hpp"

namespace confab::bench {

engine::engine(int threads) : stats_(static_cast<std::size_t>(threads)) {
  for (int i = 0; i < threads; ++i) {
    iocs_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*iocs_.back()));
  }
  for (auto& io : iocs_) threads_.emplace_back([p = io.get()] { p->run(); });
}

engine::~engine() {
  for (auto& io : iocs_) io->stop();
  for (auto& t : threads_) t.join();
}

void engine::run_on(std::size_t i, const std::function<void()>& f) {
  std::promise<void> done;
  boost::asio::post(ctx(i), [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

thread_stats engine::collect(bool reset) {
  thread_stats total;
  for (std::size_t i = 0; i < stats_.size(); ++i)
    run_on(i, [&] {
      total.merge(stats_[i]);
      if (reset) {
        const bool rec = stats_[i].record_latency;
        stats_[i] = thread_stats{};
        stats_[i].record_latency = rec;
      }
    });
  return total;
}

void engine::record_latency(bool on) {
  for (std::size_t i = 0; i < stats_.size(); ++i) run_on(i, [&] { stats_[i].record_latency = on; });
}

}  // namespace confab::bench
