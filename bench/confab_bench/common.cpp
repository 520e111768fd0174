#include "common.hpp"

#include <sys/resource.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
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

void run_senders(fleet& f, const std::vector<sender>& ss, double rate_each, double seconds) {
  const auto stop = clk::now() + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
  const auto interval = std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(1.0 / rate_each));
  std::vector<std::future<void>> fs;
  for (std::size_t k = 0; k < ss.size(); ++k) {
    auto d = f.devs[ss[k].dev];
    const auto conv = ss[k].conv;
    auto& ioc = f.eng.ctx(f.thread_of(ss[k].dev));
    // Stagger the senders across one interval so their sends do not all coincide.
    const auto offset = interval * static_cast<long>(k) / static_cast<long>(std::max<std::size_t>(ss.size(), 1));
    fs.push_back(asio::co_spawn(
        ioc,
        [](std::shared_ptr<device> dv, std::int64_t c, clk::time_point end, clk::duration every, clk::duration off,
           asio::io_context& io) -> asio::awaitable<void> {
          asio::steady_timer t(io);
          auto next = clk::now() + off;
          while (next < end) {
            t.expires_at(next);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            // Catch up after a stall without bursting: at most 4 sends per wake-up.
            for (int i = 0; i < 4 && next <= clk::now() && next < end; ++i) {
              dv->send_message(c);
              next += every;
            }
          }
        }(d, conv, stop, interval, offset, ioc),
        asio::use_future));
  }
  for (auto& x : fs) x.get();
}

// Runs senders over groups at total `rate` for `seconds`, then waits for every member to have
// every acked message. Returns the measured window's stats as JSON.
json::object measure_groups(fleet& f, const options& o, const std::vector<std::int64_t>& convs, int size, int senders_per_group,
                            double total_rate, double seconds, thread_stats& st_out) {
  std::vector<sender> ss;
  for (std::size_t g = 0; g < convs.size(); ++g)
    for (int k = 0; k < senders_per_group; ++k) ss.push_back({g * static_cast<std::size_t>(size) + static_cast<std::size_t>(k), convs[g]});
  f.eng.collect(true);
  const auto before = usage(o);
  const double gen_before = self_cpu_s();
  const auto t0 = clk::now();
  run_senders(f, ss, total_rate / static_cast<double>(ss.size()), seconds);
  // Drain: every ack back, then every member (the sender included) has every acked message.
  for (int i = 0; i < 3000 && f.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  const double elapsed = std::chrono::duration<double>(clk::now() - t0).count();
  thread_stats st = f.eng.collect(false);
  // A relay's ack is the sender's own copy of the message, so a send without one is a lost delivery
  // there; confabd acks separately, and what it acked must reach every member.
  const std::uint64_t expected = (device::proto == protocol::confab ? st.acks : st.sends) * static_cast<std::uint64_t>(size);
  const auto deadline = clk::now() + 60s;
  while (st.deliveries < expected && clk::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    st = f.eng.collect(false);
  }
  std::this_thread::sleep_for(300ms);
  st = f.eng.collect(false);
  const double total_elapsed = std::chrono::duration<double>(clk::now() - t0).count();
  const auto after = usage(o);
  const double gen_cpu = self_cpu_s() - gen_before;
  st_out = st;
  const double cpu = after.cpu_s - before.cpu_s;
  const double aux = after.aux_cpu_s - before.aux_cpu_s;
  auto per = [](double s, std::uint64_t n) { return n ? s * 1e6 / static_cast<double>(n) : 0.0; };
  return {{"target_rate", total_rate},
          {"seconds", seconds},
          {"sends", st.sends},
          {"acks", st.acks},
          {"sends_per_sec", static_cast<double>(st.acks) / elapsed},
          {"deliveries", st.deliveries},
          {"deliveries_expected", expected},
          {"lost", st.deliveries < expected ? expected - st.deliveries : 0},
          {"deliveries_per_sec", static_cast<double>(st.deliveries) / total_elapsed},
          {"ack_latency", st.ack.to_json()},
          {"deliver_latency", st.deliver.to_json()},
          {"server_cpu_s", cpu},
          {"server_cpu_us_per_delivery", per(cpu, st.deliveries)},
          {"server_cpu_us_per_send", per(cpu, st.acks)},
          {"aux_cpu_s", aux},  // --aux-pid (PostgreSQL): 0 without
          {"aux_cpu_us_per_delivery", per(aux, st.deliveries)},
          {"aux_cpu_us_per_send", per(aux, st.acks)},
          {"server_busiest_thread_cpu_us_per_delivery",
           st.deliveries ? busiest_thread_cpu(before, after) * 1e6 / static_cast<double>(st.deliveries) : 0.0},
          {"generator_cpu_us_per_delivery", st.deliveries ? gen_cpu * 1e6 / static_cast<double>(st.deliveries) : 0.0},
          {"server_rss_kib", after.rss_kib},
          {"violations", violations(st)}};
}

}  // namespace confab::bench
