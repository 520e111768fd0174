// What confab-bench's scenarios share: the command-line options, the servers' CPU and memory,
// the fleet of simulated devices, and the guarantee violations as JSON. Used from the main
// (controlling) thread; devices run on the engine's threads (engine.hpp).
#pragma once

#include "device.hpp"
#include "engine.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confab::bench {

struct options {
  std::string scenario;
  std::vector<boost::asio::ip::tcp::endpoint> targets;
  std::vector<int> pids;
  std::vector<int> aux_pids;  // --aux-pid: a helper process tree (PostgreSQL), its CPU reported apart
  int sources = 4, threads = 1;
  std::string json_out;
  int max_seconds = 600;
  // scenario parameters
  int connections = 1000, pairs = 500, group_size = 10, groups = 10, senders = 1, inflight = 8, pending = 5,
      messages = 20000, pages = 2000, devices = 1000;
  int marginal_from = 0;  // idle: also sample the server after this many connections
  // issue 12, channel and channel_resume (channel.cpp)
  int members = 100000, channels = 1000, moved = 50, rounds = 50;
  std::string db;  // sqlite:PATH or postgres:DSN: the server's database, for members made in bulk
  double rate = 100, duration = 10;
  std::vector<double> rates;
  bool rates_given = false;  // --rates was set: fanout steps through them instead of --rate
};

// The servers' CPU seconds and resident memory, summed over --pid.
struct server_usage {
  double cpu_s = 0;
  long rss_kib = 0;
  std::map<std::pair<int, int>, double> threads;  // (pid, tid) -> CPU seconds
  double aux_cpu_s = 0;                           // --aux-pid trees
};
server_usage usage(const options& o);
// This process's CPU seconds (the generator shares the machine with the servers).
double self_cpu_s();
// The busiest server thread's CPU seconds between two samples.
double busiest_thread_cpu(const server_usage& before, const server_usage& after);

// The simulated devices of a run, spread over the engine's threads.
struct fleet {
  engine& eng;
  const options& opt;
  std::vector<std::shared_ptr<device>> devs;
  std::size_t thread_of(std::size_t i) const { return i % static_cast<std::size_t>(eng.threads()); }

  void add(const std::vector<account>& accts);
  // Opens devices [from, to) with at most 256 handshakes in flight; returns how many succeeded.
  std::size_t open(std::size_t from, std::size_t to, bool resume);
  void drop_all();
  // Waits until every device in [from, to) has at least want(i) messages, or the deadline.
  bool wait_messages(std::size_t from, std::size_t to, const std::function<std::uint64_t(std::size_t)>& want,
                     std::chrono::seconds limit);
  std::uint64_t in_flight();
};

// Senders: device index + conversation; each sends at `rate_each` messages/s (open loop) for
// `seconds`.
struct sender {
  std::size_t dev;
  std::int64_t conv;
};
void run_senders(fleet& f, const std::vector<sender>& ss, double rate_each, double seconds);
// Runs senders_per_group senders (devices g * size + k) over each group at `total_rate` for
// `seconds`, then waits for every member (devices of f, size per group) to have every acked
// message. Returns the measured window's figures as JSON; st_out gets its statistics.
boost::json::object measure_groups(fleet& f, const options& o, const std::vector<std::int64_t>& convs, int size,
                                   int senders_per_group, double total_rate, double seconds, thread_stats& st_out);

boost::json::object violations(const thread_stats& s);
// The mixed workload (mixed.cpp): messages, thread replies, reactions, edits and deletes, with
// every device's final state of every message compared with the others' and with history.
boost::json::object mixed(engine& eng, const options& o);
bool violated(const thread_stats& s);
// issue 12 (channel.cpp): a channel of --members members, --connections of them connected, --rate
// messages/s from --senders of them; and a device in --channels channels, --moved of which move
// by --pending messages while it is offline, resuming --rounds times.
boost::json::object channel(engine& eng, const options& o);
boost::json::object channel_resume(engine& eng, const options& o);

}  // namespace confab::bench
