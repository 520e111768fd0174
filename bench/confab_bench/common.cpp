#include "common.hpp"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <thread>

namespace confab::bench {
namespace asio = boost::asio;
namespace json = boost::json;
using clk = std::chrono::steady_clock;
using namespace std::chrono_literals;

server_usage usage(const options& o) {
  server_usage u;
  for (int pid : o.pids) {
    auto s = sample_proc(pid);
    u.cpu_s += s.cpu_s;
    u.rss_kib += s.rss_kib;
    for (auto [tid, c] : thread_cpu(pid)) u.threads[{pid, tid}] = c;
  }
  for (int pid : o.aux_pids) u.aux_cpu_s += tree_cpu(pid);
  return u;
}

double self_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double busiest_thread_cpu(const server_usage& before, const server_usage& after) {
  double best = 0;
  for (auto& [k, c] : after.threads) {
    auto it = before.threads.find(k);
    best = std::max(best, c - (it == before.threads.end() ? 0.0 : it->second));
  }
  return best;
}

json::object violations(const thread_stats& s) {
  return {{"duplicates", s.checks.duplicates}, {"gaps", s.checks.gaps}, {"reorders", s.checks.reorders}, {"protocol_errors", s.protocol_errors},
          {"send_errors", s.send_errors}, {"closed_unexpectedly", s.closed_unexpectedly}};
}
bool violated(const thread_stats& s) {
  return s.checks.duplicates || s.checks.gaps || s.checks.reorders || s.protocol_errors || s.send_errors;
}

void fleet::add(const std::vector<account>& accts) {
  for (auto& a : accts) {
    const auto i = devs.size();
    devs.push_back(std::make_shared<device>(eng.ctx(thread_of(i)), eng.stats(thread_of(i)), a));
  }
}

std::size_t fleet::open(std::size_t from, std::size_t to, bool resume) {
  std::size_t ok = 0;
  for (std::size_t b = from; b < to; b += 256) {
    std::vector<std::future<bool>> fs;
    for (std::size_t i = b; i < std::min(to, b + 256); ++i) {
      const auto& server = opt.targets[i % opt.targets.size()];
      const auto src = asio::ip::make_address_v4(0x7f000001u + static_cast<unsigned>(i % static_cast<std::size_t>(opt.sources)));
      std::optional<std::int64_t> since;
      if (resume) since = devs[i]->pos();
      else since = 0;
      fs.push_back(asio::co_spawn(eng.ctx(thread_of(i)), devs[i]->open(server, src, since), asio::use_future));
    }
    for (auto& f : fs) ok += f.get() ? 1 : 0;
  }
  return ok;
}

void fleet::drop_all() {
  for (std::size_t i = 0; i < devs.size(); ++i) eng.run_on(thread_of(i), [&] { devs[i]->drop(); });
}

bool fleet::wait_messages(std::size_t from, std::size_t to, const std::function<std::uint64_t(std::size_t)>& want,
                          std::chrono::seconds limit) {
  const auto deadline = clk::now() + limit;
  while (clk::now() < deadline) {
    bool all = true;
    for (std::size_t t = 0; t < static_cast<std::size_t>(eng.threads()) && all; ++t)
      eng.run_on(t, [&] {
        for (std::size_t i = from + (t + eng.threads() - from % eng.threads()) % eng.threads(); i < to; i += eng.threads())
          if (devs[i]->messages_received() < want(i)) {
            all = false;
            return;
          }
      });
    if (all) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::uint64_t fleet::in_flight() {
  std::uint64_t n = 0;
  for (std::size_t t = 0; t < static_cast<std::size_t>(eng.threads()); ++t)
    eng.run_on(t, [&] {
      for (std::size_t i = t; i < devs.size(); i += eng.threads()) n += devs[i]->in_flight();
    });
  return n;
}

}  // namespace confab::bench
