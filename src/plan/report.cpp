#include "plan/report.hpp"

#include <boost/json/object.hpp>

#include <cmath>
#include <iomanip>
#include <sstream>
#include <utility>

namespace confab::plan {
namespace json = boost::json;

namespace {

// 1234567 → "1.2 M", 12345 → "12.3 k", 12.3 → "12.3".
std::string human(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  const double a = std::abs(v);
  if (a >= 1e9) o << std::setprecision(1) << v / 1e9 << " G";
  else if (a >= 1e6) o << std::setprecision(1) << v / 1e6 << " M";
  else if (a >= 1e4) o << std::setprecision(1) << v / 1e3 << " k";
  else o << std::setprecision(a >= 100 || v == std::floor(v) ? 0 : 1) << v;
  return o.str();
}

std::string fixed(double v, int decimals) { return decimal(v, decimals); }

}  // namespace

std::string mermaid(const topology& t, const requirements& r, const figures& f) {
  const int cores = r.node_cores > 0 ? r.node_cores : f.cores;
  std::ostringstream o;
  o << "flowchart LR\n";
  o << "  clients[\"" << human(t.connected_devices) << " connected devices\"]\n";
  o << "  nodes[\"" << t.nodes << " confabd node" << (t.nodes > 1 ? "s" : "") << ", " << cores << " cores each\"]\n";
  if (t.nodes > 1) {
    o << "  lb[\"load balancer\"]\n";
    o << "  clients -->|" << human(t.mbit_in) << " Mbit/s in| lb\n";
    o << "  lb --> nodes\n";
    o << "  redis[(\"" << t.redis_shards << " Redis shard" << (t.redis_shards > 1 ? "s" : "") << "\")]\n";
    o << "  nodes <-->|" << human(t.broker_publishes_per_sec) << " publishes/s| redis\n";
  } else {
    o << "  clients -->|" << human(t.mbit_in) << " Mbit/s in| nodes\n";
  }
  const bool sqlite = t.nodes == 1 && f.backend == "sqlite";
  o << "  db[(\"" << (sqlite ? std::string("SQLite") : std::to_string(t.db_primaries) + " PostgreSQL primar" +
                                                           (t.db_primaries > 1 ? "ies" : "y"))
    << ", " << human(t.db_gib) << " GiB\")]\n";
  o << "  nodes -->|" << human(t.messages_per_sec) << " msgs/s| db\n";
  return o.str();
}

std::string markdown(const std::vector<topology>& plans, const requirements& r, const figures& f) {
  std::ostringstream o;
  o << "| Users | Connected devices | Messages/s | Deliveries/s | Pushes/s | Nodes (bound by) | Redis shards | "
       "Database primaries | Database size | DB writes | DB connections | Bandwidth out |\n";
  o << "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& t : plans)
    o << "| " << human(t.users) << " | " << human(t.connected_devices) << " | " << human(t.messages_per_sec) << " | "
      << human(t.deliveries_per_sec) << " | " << human(t.pushes_per_sec) << " | " << t.nodes << " (" << t.nodes_bound_by
      << ") | " << t.redis_shards << " | " << t.db_primaries << " | " << human(t.db_gib) << " GiB | "
      << human(t.db_write_iops) << " IOPS, " << fixed(t.db_write_mib_per_sec, 1) << " MiB/s | " << t.db_connections << " | "
      << human(t.mbit_out) << " Mbit/s |\n";
  o << "\nMeasured figures (" << f.results_dir << ", " << f.cores << " cores, " << f.measured_on << "):\n\n";
  const std::pair<const char*, const figure*> named[] = {
      {"KiB per idle connection", &f.kib_per_connection},
      {"connections per node", &f.connections_per_node},
      {"confabd µs per message", &f.node_us_per_message},
      {"confabd µs per live delivery", &f.node_us_per_delivery},
      {"confabd µs per message relayed to another node", &f.node_relay_us},
      {"database µs per direct message", &f.db_us_per_message},
      {"durable sends/s of one database", &f.db_messages_per_sec},
      {"database bytes per message", &f.db_bytes_per_message},
      {"Redis publishes/s per shard", &f.redis_publishes_per_sec}};
  for (const auto& [name, x] : named) o << "- " << name << ": **" << fixed(x->value, 2) << "** (" << x->source << ")\n";
  for (const auto& t : plans) {
    o << "\n### " << human(t.users) << " users\n\n";
    for (const auto& line : t.reasoning) o << "- " << line << "\n";
    o << "\n```mermaid\n" << mermaid(t, r, f) << "```\n";
  }
  return o.str();
}

json::value to_json(const std::vector<topology>& plans, const figures& f) {
  json::array out;
  for (const auto& t : plans) {
    json::array why;
    for (const auto& l : t.reasoning) why.push_back(json::string(l));
    out.push_back(json::object{{"users", t.users},
                               {"connected_devices", t.connected_devices},
                               {"messages_per_sec", t.messages_per_sec},
                               {"deliveries_per_sec", t.deliveries_per_sec},
                               {"pushes_per_sec", t.pushes_per_sec},
                               {"nodes", t.nodes},
                               {"nodes_bound_by", t.nodes_bound_by},
                               {"node_cpu_cores", t.node_cpu_cores},
                               {"redis_shards", t.redis_shards},
                               {"db_primaries", t.db_primaries},
                               {"db_gib", t.db_gib},
                               {"db_write_iops", t.db_write_iops},
                               {"db_connections", t.db_connections},
                               {"mbit_out", t.mbit_out},
                               {"mbit_in", t.mbit_in},
                               {"reasoning", std::move(why)}});
  }
  return json::object{{"results", f.results_dir}, {"cores", f.cores}, {"plans", std::move(out)}};
}

std::string markdown(const colocated_prediction& p, double measured, const std::string& measured_source) {
  std::ostringstream o;
  for (const auto& l : p.reasoning) o << "- " << l << "\n";
  if (measured > 0) {
    const double diff = (p.messages_per_sec - measured) / measured * 100;
    o << "- measured: " << fixed(measured, 0) << " msgs/s [" << measured_source << "]; prediction "
      << (diff >= 0 ? "+" : "") << fixed(diff, 1) << " %\n";
  } else {
    o << "- measured: none in the results (" << measured_source << ")\n";
  }
  return o.str();
}

}  // namespace confab::plan
