#include "core/node_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace confab::metrics {

namespace {

// Fields of /proc/self/stat after the command name (which may hold spaces): index 0 is the
// state (field 3 in proc(5)), so proc(5)'s field n is at n - 3.
std::vector<std::string> proc_stat_fields() {
  std::ifstream f("/proc/self/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  const auto close = all.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream in(all.substr(close + 1));
  std::string x;
  while (in >> x) out.push_back(x);
  return out;
}

double stat_field(int n) {
  auto f = proc_stat_fields();
  const auto i = static_cast<std::size_t>(n - 3);
  return i < f.size() ? std::stod(f[i]) : 0;
}

double boot_time_seconds() {
  std::ifstream f("/proc/stat");
  std::string key;
  double v = 0;
  while (f >> key) {
    if (key == "btime") {
      f >> v;
      return v;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n > 0 ? n - 1 : 0;  // less the descriptor of the listing itself
}

// The process_* metrics Prometheus' client libraries export, from /proc/self.
void add_process_metrics(registry& r) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  static std::vector<callback_family::handle> handles;
  handles.push_back(r.callbacks("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", kind::counter)
                        .add({}, [] { return (stat_field(14) + stat_field(15)) / ticks; }));
  handles.push_back(r.callbacks("process_resident_memory_bytes", "Resident memory size in bytes.", kind::gauge)
                        .add({}, [] { return stat_field(24) * page; }));
  handles.push_back(r.callbacks("process_virtual_memory_bytes", "Virtual memory size in bytes.", kind::gauge)
                        .add({}, [] { return stat_field(23); }));
  handles.push_back(r.callbacks("process_open_fds", "Number of open file descriptors.", kind::gauge).add({}, [] { return open_fds(); }));
  handles.push_back(r.callbacks("process_max_fds", "Maximum number of open file descriptors.", kind::gauge).add({}, [] {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur == RLIM_INFINITY) return -1.0;
    return static_cast<double>(l.rlim_cur);
  }));
  const double start = boot_time_seconds() + stat_field(22) / ticks;
  handles.push_back(r.callbacks("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", kind::gauge)
                        .add({}, [start] { return start; }));
}

node_metrics make(registry& r) {
  const auto lat = latency_buckets();
  node_metrics m{
      r.callbacks("confab_connections", "Open TCP connections to the API listener (HTTP and WebSocket).", kind::gauge),
      r.callbacks("confab_websocket_sessions", "Open WebSocket sessions, authenticated or not.", kind::gauge),
      r.callbacks("confab_sessions", "Authenticated WebSocket sessions attached to the hub (devices online here).", kind::gauge),
      r.counters("confab_connections_refused_total", "Connections closed at accept because --max-connections was reached.").get(),
      r.counters("confab_operations_total", "API operations run, by operation and result (ok or the error code).", {"op", "result"}),
      r.histograms("confab_send_commit_seconds", "Time from a send's arrival to its committed acknowledgement, in seconds.", lat).get(),
      r.histograms("confab_live_delivery_seconds",
                   "Time from a commit on this node to its event reaching a recipient session here, in seconds.", lat)
          .get(),
      r.histograms("confab_catch_up_seconds", "Time a WebSocket session takes to catch up from storage until synced, in seconds.", lat)
          .get(),
      r.gauges("confab_outbox_bytes", "Bytes queued in WebSocket outboxes (written or waiting to be).").get(),
      r.counters("confab_slow_consumer_disconnects_total", "WebSocket sessions closed with 1008 because their outbox overflowed.").get(),
      r.histograms("confab_storage_batch_writes", "Writes per storage batch (one transaction, group commit).", power_of_two_buckets(1024))
          .get(),
      r.histograms("confab_storage_batch_seconds", "Time from a batch's BEGIN to the end of its COMMIT, in seconds.", lat).get(),
      r.histograms("confab_storage_commit_seconds", "Time of a batch's COMMIT statement (the fsync), in seconds.", lat).get(),
      r.counters("confab_storage_batch_reruns_total", "Storage batches re-run after a deadlock, serialization failure or lost connection.").get(),
      r.counters("confab_storage_batch_failures_total", "Storage batches whose every write failed (retries exhausted or COMMIT failed).").get(),
      r.counters("confab_broker_published_total", "Messages handed to the broker for publication.").get(),
      r.counters("confab_broker_publish_failures_total", "Broker publications that failed and were kept for a retry.").get(),
      r.counters("confab_broker_received_total", "Messages received from the broker's subscriptions.").get(),
      r.counters("confab_broker_disconnects_total", "Broker (Redis) connections lost, by connection kind.", {"connection"}),
      r.counters("confab_broker_reconnects_total", "Broker (Redis) connections re-established after a loss, by connection kind.",
                 {"connection"}),
      r.counters("confab_feed_events_total", "Events handled by each feed consumer of this node.", {"consumer"}),
      r.counters("confab_feed_errors_total", "Failed feed steps (read, handler or cursor commit) by consumer.", {"consumer"}),
      r.gauges("confab_feed_lag_seconds",
               "Age of the oldest event in the consumer's last batch when it was read (0 when caught up), in seconds.", {"consumer"}),
      r.counters("confab_push_queued_total", "Pushes this node's push feed queued, by kind (message, clear).", {"kind"}),
      r.counters("confab_push_outcomes_total",
                 "Pushes this node finished, by provider (fcm, apns, webpush, none) and outcome (sent, skipped, dead, rejected, retry, failed).",
                 {"provider", "outcome"}),
      r.gauges("confab_push_queue", "Pushes queued in the database, due or waiting (as this node last read it).").get(),
      r.histograms("confab_push_delay_seconds", "From a push's due time (commit plus the grace period) to the provider's answer, in seconds.",
                   lat).get(),
  };
  for (const char* c : {"command", "subscriber"}) {
    m.broker_disconnects.labels({c});
    m.broker_reconnects.labels({c});
  }
  add_process_metrics(r);
  return m;
}

}  // namespace

node_metrics& node() {
  static node_metrics m = make(global());
  return m;
}

}  // namespace confab::metrics
