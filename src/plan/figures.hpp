// The capacity planner's measured inputs (issue 17): read from the JSON results bench/run.sh
// writes (bench/results/<mode>/), never typed into the code. Each figure
// keeps the file, the step and the arithmetic it came from, for the plan's reasoning.
//
// Errors: read_figures throws plan_error naming the missing or malformed file and the bench
// command that writes it. Pure apart from reading the files; thread-compatible.
#pragma once

#include <stdexcept>
#include <string>

namespace confab::plan {

struct plan_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct figure {
  double value = 0;
  std::string source;  // "chat_postgres.json, step 8000/s: 28.5 µs × 1.93 deliveries"
};

// Per-process costs on the measuring host (cores: its core count), in CPU microseconds.
struct figures {
  std::string results_dir;
  int cores = 0;           // of the host the benchmarks ran on
  std::string measured_on;  // its date
  std::string backend;      // the storage the per-message figures were measured on

  figure kib_per_connection;    // marginal resident memory of one more idle WebSocket
  figure connections_per_node;  // the most idle connections one node was measured holding
  figure node_base_rss_kib;     // a node's resident memory before any connection
  // confabd: a message costs node_us_per_message + node_us_per_delivery per live delivery (a
  // line through the one-to-one and the 100-member fan-out measurements at their best rates).
  figure node_us_per_message;
  figure node_us_per_delivery;
  figure node_relay_us;        // confabd, per message whose recipient is on another node (scale-out)
  figure db_us_per_message;    // the database's processes, one-to-one message (2 stream rows)
  figure db_messages_per_sec;  // durable sends one database on the host took (saturated)
  figure db_bytes_per_message; // database size per stored message (events, streams, indexes)
  figure redis_publishes_per_sec;  // one Redis process (one core), pipelined
  // The validation deployment's calibration: one node on the database and Redis, one-to-one, with
  // the load generator on the same host. The host's CPU (every process) is a line against the
  // rate: a fixed part, which each further node raises (from the runs on two nodes), and a part
  // per message; at the highest rate one node kept up with, its cores were this busy.
  figure one_node_sustained_rate;
  figure colocated_fixed_cores;
  figure colocated_fixed_cores_per_extra_node;
  figure colocated_us_per_message;
  figure colocated_busy_cores;
};

// v with this many decimals ("12.3"): how the planner writes numbers for people.
std::string decimal(double v, int decimals);

// Reads the figures from results_dir (e.g. bench/results/full) for backend "postgres" or
// "sqlite" (the storage the one-to-one and persist figures were measured on; the scale-out runs
// are always on PostgreSQL).
figures read_figures(const std::string& results_dir, const std::string& backend);

// The measured capacity of the validation deployment with this many nodes: the highest rate it
// kept up with (95 % of the target sent, nothing lost), the median over the runs
// scaleout_chat_<nodes>_r*.json. source: which runs and step.
double measured_sustained_rate(const std::string& results_dir, int nodes, std::string& source);

}  // namespace confab::plan
