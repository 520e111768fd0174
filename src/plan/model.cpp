#include "plan/model.hpp"

#include <algorithm>
#include <cmath>

namespace confab::plan {

namespace {

std::string fmt(double v, int decimals = 0) { return decimal(v, decimals); }

int ceil_at_least_1(double v) { return std::max(1, static_cast<int>(std::ceil(v - 1e-9))); }

// One kind of conversation in the mix.
struct kind {
  const char* name;
  double share, members, rows;  // rows: stream rows written per message
};

// Expected number of nodes other than the sender's that hold at least one of k recipient
// devices, the devices spread evenly over n nodes.
double other_nodes_reached(int n, double k) {
  if (n <= 1 || k <= 0) return 0;
  return (n - 1) * (1 - std::pow(1 - 1.0 / n, k));
}

}  // namespace

std::string check(const requirements& r) {
  auto share = [](double v) { return v >= 0 && v <= 1; };
  if (!(r.users >= 1)) return "users must be at least 1";
  if (!share(r.online_share) || r.online_share == 0) return "online share must be above 0 and at most 1";
  if (!(r.devices_per_online_user >= 1)) return "devices per online user must be at least 1";
  if (!(r.messages_per_user_per_day >= 0)) return "messages per user per day must not be negative";
  if (!(r.peak_factor >= 1)) return "peak factor must be at least 1";
  if (!share(r.direct_share) || !share(r.group_share) || !share(r.channel_share) ||
      std::abs(r.direct_share + r.group_share + r.channel_share - 1) > 1e-6)
    return "the direct, group and channel shares must each lie in 0..1 and sum to 1";
  if (!(r.group_size >= 2) || !(r.channel_size >= 2)) return "group and channel sizes must be at least 2";
  if (!share(r.media_share) || !(r.media_kib >= 0)) return "media share must lie in 0..1 and media size be positive";
  if (!share(r.push_share)) return "push share must lie in 0..1";
  if (!(r.retention_days >= 0) || !(r.frame_bytes > 0) || !(r.receipts_per_message >= 0))
    return "retention, frame size and receipts per message must be positive";
  if (!(r.cpu_target > 0 && r.cpu_target <= 1) || !(r.connection_target > 0 && r.connection_target <= 1))
    return "CPU and connection targets must be above 0 and at most 1";
  if (r.node_cores < 0 || !(r.node_ram_gib > 0) || r.db_cores < 1 || r.db_connections_per_node < 1)
    return "node cores, node memory, database cores and connections per node must be positive";
  return {};
}

topology plan_for(const requirements& r, const figures& f) {
  topology t;
  t.users = r.users;
  auto& why = t.reasoning;
  const int cores = r.node_cores > 0 ? r.node_cores : f.cores;
  const double per_device = r.online_share * r.devices_per_online_user;  // connected devices per user
  t.connected_devices = r.users * per_device;
  t.messages_per_sec = r.users * r.messages_per_user_per_day / 86400 * r.peak_factor;
  const kind kinds[] = {{"direct", r.direct_share, 2, 2},
                        {"group", r.group_share, r.group_size, r.group_size},
                        {"channel", r.channel_share, r.channel_size, 1}};  // a channel writes its log once
  double db_rows_weight = 0, db_bytes_weight = 0;
  for (const auto& k : kinds) {
    const double online_recipients = (k.members - 1) * per_device;
    t.deliveries_per_sec += t.messages_per_sec * k.share * online_recipients;
    t.stream_rows_per_sec += t.messages_per_sec * k.share * k.rows;
    if (k.name != std::string("channel"))  // channels push mentions only by default
      t.pushes_per_sec += t.messages_per_sec * k.share * (k.members - 1) * (1 - r.online_share) * r.push_share;
    db_rows_weight += k.share * (1 + k.rows) / 3;   // the database's work grows with the rows written
    db_bytes_weight += k.share * (1 + k.rows) / 11;  // the size figure is for 10-member groups
  }
  why.push_back(fmt(r.users) + " users × " + fmt(r.online_share * 100) + " % online × " + fmt(r.devices_per_online_user, 1) +
                " devices = " + fmt(t.connected_devices) + " connected devices; " + fmt(r.messages_per_user_per_day) +
                " messages per user per day × peak " + fmt(r.peak_factor, 1) + " = " + fmt(t.messages_per_sec, 1) +
                " messages/s, " + fmt(t.deliveries_per_sec) + " live deliveries/s, " + fmt(t.stream_rows_per_sec) +
                " stream rows/s, " + fmt(t.pushes_per_sec) + " pushes/s");

  // Nodes: connections, memory, then CPU (the relay cost depends on the node count: iterate).
  const double conn_cap = f.connections_per_node.value * r.connection_target;
  t.nodes_for_connections = ceil_at_least_1(t.connected_devices / conn_cap);
  why.push_back("connections: " + fmt(t.connected_devices) + " / (" + fmt(f.connections_per_node.value) + " × " +
                fmt(r.connection_target * 100) + " %) = " + std::to_string(t.nodes_for_connections) + " node(s) [" +
                f.connections_per_node.source + "]");
  const double ram_kib = r.node_ram_gib * 1024 * 1024 * 0.8;
  const double mem_kib = t.connected_devices * f.kib_per_connection.value;
  t.nodes_for_memory = ceil_at_least_1(mem_kib / std::max(1.0, ram_kib - f.node_base_rss_kib.value));
  why.push_back("memory: " + fmt(t.connected_devices) + " × " + fmt(f.kib_per_connection.value, 2) + " KiB = " +
                fmt(mem_kib / 1048576, 2) + " GiB over 80 % of " + fmt(r.node_ram_gib) + " GiB = " +
                std::to_string(t.nodes_for_memory) + " node(s) [" + f.kib_per_connection.source + "]");
  const double budget_us = cores * 1e6 * r.cpu_target;
  const double base_us = t.messages_per_sec * f.node_us_per_message.value + t.deliveries_per_sec * f.node_us_per_delivery.value;
  int n = std::max(t.nodes_for_connections, t.nodes_for_memory);
  double relay_us = 0;
  for (int round = 0; round < 8; ++round) {
    relay_us = 0;
    for (const auto& k : kinds)
      relay_us += t.messages_per_sec * k.share * other_nodes_reached(n, (k.members - 1) * per_device) * f.node_relay_us.value;
    const int need = ceil_at_least_1((base_us + relay_us) / budget_us);
    t.nodes_for_cpu = need;
    if (need <= n) break;
    n = need;
  }
  t.node_cpu_cores = (base_us + relay_us) / 1e6;
  why.push_back("CPU: " + fmt(t.messages_per_sec, 1) + " msgs/s × " + fmt(f.node_us_per_message.value, 1) + " µs + " +
                fmt(t.deliveries_per_sec) + " deliveries/s × " + fmt(f.node_us_per_delivery.value, 2) + " µs + relays " +
                fmt(relay_us / 1e6, 2) + " core-s/s (" + fmt(f.node_relay_us.value, 1) + " µs per message per other node) = " +
                fmt(t.node_cpu_cores, 2) + " cores; at " + fmt(r.cpu_target * 100) + " % of " + std::to_string(cores) +
                " cores per node: " + std::to_string(t.nodes_for_cpu) + " node(s) [" + f.node_us_per_message.source + "; " +
                f.node_relay_us.source + "]");
  const int need = std::max({t.nodes_for_connections, t.nodes_for_memory, t.nodes_for_cpu});
  t.nodes_bound_by = need == t.nodes_for_cpu && t.nodes_for_cpu > 1 ? "CPU"
                     : need == t.nodes_for_connections && t.nodes_for_connections > 1 ? "connections"
                     : need == t.nodes_for_memory && t.nodes_for_memory > 1 ? "memory"
                                                                              : "one node is enough";
  t.nodes = need > 1 ? need + 1 : 1;
  why.push_back("nodes: " + std::to_string(need) + (need > 1 ? " + 1 spare (a node can fail at the busiest hour)" : "") +
                " = " + std::to_string(t.nodes) + ", bound by " + t.nodes_bound_by);

  // Redis: each message and receipt is published once and copied to every other node it reaches.
  t.broker_publishes_per_sec = t.nodes > 1 ? t.messages_per_sec * (1 + r.receipts_per_message) : 0;
  for (const auto& k : kinds)
    t.broker_copies_per_sec += t.nodes > 1 ? t.messages_per_sec * (1 + r.receipts_per_message) * k.share *
                                                 (1 + other_nodes_reached(t.nodes, (k.members - 1) * per_device))
                                           : 0;
  const double redis_ops = t.broker_publishes_per_sec + t.broker_copies_per_sec;
  t.redis_shards = t.nodes > 1 ? ceil_at_least_1(redis_ops / (f.redis_publishes_per_sec.value * r.cpu_target)) : 0;
  why.push_back(t.nodes > 1 ? "Redis: " + fmt(t.broker_publishes_per_sec) + " publishes/s + " + fmt(t.broker_copies_per_sec) +
                                  " copies to nodes/s over " + fmt(f.redis_publishes_per_sec.value) + " operations/s per shard at " +
                                  fmt(r.cpu_target * 100) + " % = " + std::to_string(t.redis_shards) + " shard(s) [" +
                                  f.redis_publishes_per_sec.source + "]"
                            : "Redis: none (one node uses the in-process broker)");

  // The database.
  t.db_cpu_cores = t.messages_per_sec * f.db_us_per_message.value * db_rows_weight / 1e6;
  t.db_primaries = ceil_at_least_1(t.db_cpu_cores / (r.db_cores * r.cpu_target));
  t.db_gib = r.users * r.messages_per_user_per_day * r.retention_days * f.db_bytes_per_message.value * db_bytes_weight /
             (1024.0 * 1024 * 1024);
  t.db_write_mib_per_sec = t.messages_per_sec * f.db_bytes_per_message.value * db_bytes_weight * 2 / 1048576;  // heap + WAL
  t.db_write_iops = t.db_write_mib_per_sec * 128 + std::min(t.messages_per_sec, t.nodes * 500.0);  // 8 KiB pages + WAL flushes
  t.db_connections = t.nodes * r.db_connections_per_node;
  why.push_back("database CPU: " + fmt(t.messages_per_sec, 1) + " msgs/s × " + fmt(f.db_us_per_message.value, 1) +
                " µs × " + fmt(db_rows_weight, 2) + " (rows written relative to a direct message) = " + fmt(t.db_cpu_cores, 2) +
                " cores; at " + fmt(r.cpu_target * 100) + " % of " + std::to_string(r.db_cores) + " cores: " +
                std::to_string(t.db_primaries) + " primary(ies)" + (t.db_primaries > 1 ? ", partitioned by conversation and user" : "") +
                " [" + f.db_us_per_message.source + "]");
  why.push_back("database size: " + fmt(r.users * r.messages_per_user_per_day * r.retention_days / 1e6, 1) +
                " M messages in " + fmt(r.retention_days) + " days × " + fmt(f.db_bytes_per_message.value * db_bytes_weight) +
                " bytes = " + fmt(t.db_gib, 1) + " GiB; writes " + fmt(t.db_write_mib_per_sec, 2) + " MiB/s (heap and WAL), ~" +
                fmt(t.db_write_iops) + " IOPS; " + std::to_string(t.db_connections) + " connections [" +
                f.db_bytes_per_message.source + "; " + f.db_messages_per_sec.source + "]");
  const double media_per_sec = t.messages_per_sec * r.media_share * r.media_kib * 1024;
  t.media_tib = r.users * r.messages_per_user_per_day * r.media_share * r.media_kib * r.retention_days / (1024.0 * 1024 * 1024);
  t.mbit_in = (t.messages_per_sec * r.frame_bytes + media_per_sec) * 8 / 1e6;
  t.mbit_out = (t.deliveries_per_sec * r.frame_bytes + media_per_sec * (t.deliveries_per_sec / std::max(1e-9, t.messages_per_sec))) * 8 / 1e6;
  why.push_back("bandwidth: in " + fmt(t.mbit_in, 1) + " Mbit/s, out " + fmt(t.mbit_out, 1) + " Mbit/s (frames of " +
                fmt(r.frame_bytes) + " bytes, every online recipient fetching each file once); media store " +
                fmt(t.media_tib, 2) + " TiB over the retention");
  return t;
}

colocated_prediction predict_colocated(int nodes, const figures& f) {
  colocated_prediction p;
  p.nodes = nodes;
  const double fixed = f.colocated_fixed_cores.value + (nodes - 1) * f.colocated_fixed_cores_per_extra_node.value;
  const double busy = f.colocated_busy_cores.value;
  p.messages_per_sec = std::max(0.0, (busy - fixed) / f.colocated_us_per_message.value * 1e6);
  p.reasoning.push_back("one node kept up with " + fmt(f.one_node_sustained_rate.value) + " msgs/s, its host's cores " +
                        fmt(busy, 2) + " busy [" + f.colocated_busy_cores.source + "]");
  p.reasoning.push_back("the host's CPU: " + fmt(f.colocated_fixed_cores.value, 2) + " cores fixed [" +
                        f.colocated_fixed_cores.source + "] + " + fmt(f.colocated_us_per_message.value, 1) +
                        " µs per message [" + f.colocated_us_per_message.source + "]");
  if (nodes > 1)
    p.reasoning.push_back("each further node: + " + fmt(f.colocated_fixed_cores_per_extra_node.value, 2) + " cores fixed [" +
                          f.colocated_fixed_cores_per_extra_node.source + "]; " + std::to_string(nodes) + " nodes: " +
                          fmt(fixed, 2) + " cores fixed");
  p.reasoning.push_back("predicted: (" + fmt(busy, 2) + " − " + fmt(fixed, 2) + ") cores / " +
                        fmt(f.colocated_us_per_message.value, 1) + " µs = " + fmt(p.messages_per_sec) + " msgs/s");
  return p;
}

}  // namespace confab::plan
