// The capacity model (issue 17): from requirements and measured figures (plan/figures.hpp) to a
// topology with its reasoning. Pure arithmetic; docs/scaling.md explains each step.
#pragma once

#include "plan/figures.hpp"

#include <string>
#include <vector>

namespace confab::plan {

// What the deployment must carry. Defaults are a typical team messenger; every one is a flag of
// `confab plan`.
struct requirements {
  double users = 10000;
  double online_share = 0.2;               // of users connected at the busiest hour
  double devices_per_online_user = 1.2;    // connected devices of a connected user
  double messages_per_user_per_day = 40;
  double peak_factor = 3;                  // the busiest hour's rate over the day's average
  double direct_share = 0.7, group_share = 0.25, channel_share = 0.05;  // of messages; sum 1
  double group_size = 10, channel_size = 1000;
  double media_share = 0.1;                // of messages carrying a file
  double media_kib = 400;                  // its average size
  double push_share = 0.5;                 // offline recipients of direct/group messages with a push target
  double retention_days = 365;
  double frame_bytes = 400;                // one delivered event on the wire
  double receipts_per_message = 2;         // broker publishes besides the message (delivered, read)
  double cpu_target = 0.6;                 // planned busy share of each host's cores
  double connection_target = 0.8;          // planned share of the measured connections per node
  int node_cores = 0;                      // 0: the measuring host's
  double node_ram_gib = 24;
  int db_cores = 8;                        // one database primary's cores
  int db_connections_per_node = 3;         // the writer and --db-readers 2
};

// Checks the requirements: "" or what is wrong with them (a share outside 0..1, a mix not
// summing to 1, a size under 2, ...).
std::string check(const requirements& r);

struct topology {
  double users = 0;
  // The load at the busiest hour.
  double connected_devices = 0, messages_per_sec = 0, deliveries_per_sec = 0, stream_rows_per_sec = 0;
  double pushes_per_sec = 0, broker_publishes_per_sec = 0, broker_copies_per_sec = 0;
  // confabd nodes: the largest of the three needs, plus one spare above one node.
  int nodes = 0, nodes_for_connections = 0, nodes_for_cpu = 0, nodes_for_memory = 0;
  std::string nodes_bound_by;
  double node_cpu_cores = 0;  // busy cores over all nodes
  int redis_shards = 0;
  int db_primaries = 0;
  double db_cpu_cores = 0, db_gib = 0, db_write_mib_per_sec = 0, db_write_iops = 0;
  int db_connections = 0;
  double media_tib = 0;
  double mbit_out = 0, mbit_in = 0;  // client-facing, media included
  std::vector<std::string> reasoning;  // one line per step, each naming its figures
};

topology plan_for(const requirements& r, const figures& f);

// The validation deployment (docs/scaling.md): n nodes, the database, Redis and the load
// generator all on the measuring host, one-to-one chat with the two members of each pair on
// different nodes. Predicts the highest rate it keeps up with (its CPU is the limit: see
// docs/scaling.md for why not the rate with p99 send→deliver < 50 ms).
struct colocated_prediction {
  int nodes = 0;
  double messages_per_sec = 0;
  std::vector<std::string> reasoning;
};
colocated_prediction predict_colocated(int nodes, const figures& f);

}  // namespace confab::plan
