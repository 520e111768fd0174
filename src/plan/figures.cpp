#include "plan/figures.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

namespace confab::plan {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string decimal(double v, int decimals) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(decimals);
  o << v;
  return o.str();
}

namespace {

std::string num(double v, int decimals = 1) { return decimal(v, decimals); }

json::object load(const fs::path& p, const std::string& made_by) {
  std::ifstream in(p);
  if (!in) throw plan_error("missing " + p.string() + " (written by " + made_by + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) throw plan_error(p.string() + " is not a JSON object: " + (ec ? ec.message() : "another type"));
  return v.as_object();
}

double number(const json::object& o, std::string_view key, const fs::path& p) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_number()) throw plan_error(p.string() + ": no number \"" + std::string(key) + "\"");
  return v->to_number<double>();
}

const json::object& object_at(const json::object& o, std::string_view key, const fs::path& p) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_object()) throw plan_error(p.string() + ": no object \"" + std::string(key) + "\"");
  return v->as_object();
}

// The step a stepped run (chat, fanout) sustained best: the highest send rate whose p99
// send→deliver stayed under 50 ms with nothing lost.
struct step {
  double sends = 0, deliveries = 0, server_us_per_delivery = 0, generator_us_per_delivery = 0, aux_us_per_send = 0;
  double target = 0, p99_ms = 0, lost = 0;
  double per_message(double per_delivery) const { return per_delivery * deliveries / sends; }
  // Every process's CPU per message: confabd, the database (aux) and the generator.
  double total_us() const { return per_message(server_us_per_delivery + generator_us_per_delivery) + aux_us_per_send; }
};

// Every step of a stepped run (chat, fanout), as measured.
std::vector<step> steps_of(const json::object& run, const fs::path& p) {
  const auto& r = object_at(run, "result", p);
  const auto* steps = r.if_contains("steps");
  if (!steps || !steps->is_array() || steps->as_array().empty()) throw plan_error(p.string() + ": no steps");
  std::vector<step> out;
  for (const auto& sv : steps->as_array()) {
    if (!sv.is_object()) throw plan_error(p.string() + ": a step is not an object");
    const auto& s = sv.as_object();
    step x{number(s, "sends_per_sec", p), number(s, "deliveries_per_sec", p), number(s, "server_cpu_us_per_delivery", p),
           number(s, "generator_cpu_us_per_delivery", p), 0, number(s, "target_rate", p),
           number(object_at(s, "deliver_latency", p), "p99_ms", p), number(s, "lost", p)};
    if (const auto* a = s.if_contains("aux_cpu_us_per_send"); a && a->is_number()) x.aux_us_per_send = a->to_number<double>();
    if (x.sends <= 0) throw plan_error(p.string() + ": a step sent nothing");
    out.push_back(x);
  }
  return out;
}
// The best step: the highest send rate whose p99 send→deliver stayed under 50 ms with nothing lost.
std::optional<step> best_of(const std::vector<step>& steps) {
  std::optional<step> best;
  for (const auto& x : steps)
    if (x.p99_ms < 50 && x.lost == 0 && (!best || x.sends > best->sends)) best = x;
  return best;
}
step best_step(const json::object& run, const fs::path& p) {
  auto best = best_of(steps_of(run, p));
  if (!best) throw plan_error(p.string() + ": no step kept p99 send->deliver under 50 ms");
  return *best;
}

bool kept_up(const step& x) { return x.sends >= 0.95 * x.target && x.lost == 0; }

// The sustained step: the highest target rate the deployment kept up with (at least 95 % of it
// sent) with nothing lost, whatever the latency.
std::optional<step> sustained_of(const std::vector<step>& steps) {
  std::optional<step> best;
  for (const auto& x : steps)
    if (kept_up(x) && (!best || x.target > best->target)) best = x;
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The repeated runs scaleout_chat_<nodes>_r<k>.json (k = 1, 2, ...): for each target rate that
// every run reached, the median of each figure over the runs. names: how many runs were read.
std::vector<step> median_runs(const fs::path& dir, int nodes, std::string& names) {
  std::vector<std::vector<step>> runs;
  for (int k = 1;; ++k) {
    const auto p = dir / ("scaleout_chat_" + std::to_string(nodes) + "_r" + std::to_string(k) + ".json");
    if (!fs::exists(p)) break;
    runs.push_back(steps_of(load(p, "bench/run.sh full"), p));
  }
  if (runs.empty())
    throw plan_error("missing " + (dir / ("scaleout_chat_" + std::to_string(nodes) + "_r1.json")).string() +
                     " (written by bench/run.sh full)");
  names = "scaleout_chat_" + std::to_string(nodes) + "_r*.json (median of " + std::to_string(runs.size()) + " runs)";
  std::vector<step> out;
  for (const auto& first : runs[0]) {
    std::vector<std::vector<double>> f(8);
    for (const auto& run : runs)
      for (const auto& x : run)
        if (x.target == first.target) {
          const double v[] = {x.sends, x.deliveries, x.server_us_per_delivery, x.generator_us_per_delivery,
                              x.aux_us_per_send, x.p99_ms, x.lost, 1};
          for (int i = 0; i < 8; ++i) f[static_cast<std::size_t>(i)].push_back(v[i]);
        }
    if (f[7].size() != runs.size()) continue;  // not every run reached this rate
    out.push_back({median(f[0]), median(f[1]), median(f[2]), median(f[3]), median(f[4]), first.target, median(f[5]),
                   *std::max_element(f[6].begin(), f[6].end())});
  }
  return out;
}

struct idle_run {
  double connections, rss_before, rss_after;
  fs::path path;
};
std::vector<idle_run> idle_runs(const fs::path& dir) {
  std::vector<idle_run> out;
  static const std::regex name("idle_[0-9]+\\.json");
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!std::regex_match(e.path().filename().string(), name)) continue;
      const auto o = load(e.path(), "bench/run.sh");
      const auto& r = object_at(o, "result", e.path());
      out.push_back({number(r, "connections", e.path()), number(r, "server_rss_before_kib", e.path()),
                     number(r, "server_rss_after_kib", e.path()), e.path()});
    }
  std::sort(out.begin(), out.end(), [](const idle_run& a, const idle_run& b) { return a.connections < b.connections; });
  return out;
}

void read_memory(figures& f, const fs::path& dir) {
  const auto runs = idle_runs(dir);
  if (runs.size() < 2) throw plan_error("need two idle_<N>.json in " + dir.string() + " (bench/run.sh full)");
  const auto& lo = runs.front();
  const auto& hi = runs.back();
  const double kib = (hi.rss_after - lo.rss_after) / (hi.connections - lo.connections);
  f.kib_per_connection = {kib, "idle_" + num(lo.connections, 0) + " → idle_" + num(hi.connections, 0) +
                                   ".json: (" + num(hi.rss_after, 0) + " − " + num(lo.rss_after, 0) + ") KiB / " +
                                   num(hi.connections - lo.connections, 0) + " connections (marginal)"};
  f.connections_per_node = {hi.connections, hi.path.filename().string() + ": idle connections one node held"};
  f.node_base_rss_kib = {lo.rss_before, lo.path.filename().string() + ": resident memory before connecting"};
}

void read_node_costs(figures& f, const fs::path& dir) {
  const auto chat_p = dir / ("chat_" + f.backend + ".json");
  const auto chat = best_step(load(chat_p, "bench/run.sh"), chat_p);
  const auto fan_p = dir / "fanout_100.json";
  const auto fan = best_step(load(fan_p, "bench/run.sh"), fan_p);
  const double d1 = chat.deliveries / chat.sends, d2 = fan.deliveries / fan.sends;
  const double c1 = chat.server_us_per_delivery * d1, c2 = fan.server_us_per_delivery * d2;
  if (d2 <= d1) throw plan_error(fan_p.string() + ": no more deliveries per message than the one-to-one run");
  const double per_delivery = (c2 - c1) / (d2 - d1);
  const double base = c1 - d1 * per_delivery;
  const std::string from = chat_p.filename().string() + " at " + num(chat.sends, 0) + " msgs/s (" + num(c1) + " µs for " +
                           num(d1, 2) + " deliveries) and " + fan_p.filename().string() + " at " + num(fan.sends, 0) +
                           " msgs/s (" + num(c2) + " µs for " + num(d2, 1) + " deliveries)";
  f.node_us_per_delivery = {per_delivery, "slope through " + from};
  f.node_us_per_message = {std::max(0.0, base), "intercept through " + from};
}

// Every process's CPU (cores busy) against the send rate, over the steps kept up with: the
// least-squares line.
struct line {
  double fixed_cores = 0, per_message_us = 0;
};
line cpu_line(const std::vector<step>& steps) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& x : steps) {
    if (!kept_up(x)) continue;
    const double y = x.sends * x.total_us() / 1e6;
    n += 1, sx += x.sends, sy += y, sxx += x.sends * x.sends, sxy += x.sends * y;
  }
  const double den = n * sxx - sx * sx;
  if (n < 2 || den <= 0) throw plan_error("fewer than two rates kept up with: no line through the CPU");
  const double slope = (n * sxy - sx * sy) / den;
  return {(sy - slope * sx) / n, slope * 1e6};
}

// The one-to-one runs on 1 and 2 nodes of one database and Redis, colocated with the generator
// (bench/run.sh's scale-out section): the database's CPU per message, the relay's cost, and the
// validation's calibration.
void read_scaleout(figures& f, const fs::path& dir) {
  std::string n1, n2;
  const auto one = median_runs(dir, 1, n1), two = median_runs(dir, 2, n2);
  const auto s1 = sustained_of(one);
  if (!s1) throw plan_error(n1 + ": no step kept up with its target rate");
  const std::string at = n1 + " at " + num(s1->target, 0) + " msgs/s";
  f.db_us_per_message = {s1->aux_us_per_send, at + ": the database processes' CPU per message"};
  f.one_node_sustained_rate = {s1->sends, at + ": the highest rate one node kept up with"};
  // At every rate both kept up with, where every message crosses (the two members of a pair are
  // on different nodes: the generator spreads connections round-robin): confabd's mean difference.
  double node = 0;
  int common = 0;
  std::string rates;
  for (const auto& a : one)
    for (const auto& b : two)
      if (a.target == b.target && kept_up(a) && kept_up(b)) {
        node += b.per_message(b.server_us_per_delivery) - a.per_message(a.server_us_per_delivery);
        rates += (rates.empty() ? "" : ", ") + num(a.target, 0);
        ++common;
      }
  if (common == 0) throw plan_error(n1 + " and " + n2 + ": no rate both kept up with");
  f.node_relay_us = {std::max(0.0, node / common),
                     n2 + " − " + n1 + ", mean over " + rates + " msgs/s, every message crossing: confabd"};
  // The whole host's CPU (confabd, database, generator) against the rate: a fixed part and a part
  // per message, fitted over the rates kept up with, for one node and for two.
  const auto l1 = cpu_line(one), l2 = cpu_line(two);
  f.colocated_us_per_message = {l1.per_message_us, n1 + ": least squares over the rates kept up with, per message"};
  f.colocated_fixed_cores = {l1.fixed_cores, n1 + ": least squares over the rates kept up with, at rate zero"};
  f.colocated_fixed_cores_per_extra_node = {l2.fixed_cores - l1.fixed_cores,
                                            n2 + " − " + n1 + ": the fitted fixed parts (" + num(l2.fixed_cores, 2) +
                                                " − " + num(l1.fixed_cores, 2) + " cores)"};
  f.colocated_busy_cores = {s1->sends * s1->total_us() / 1e6, at + ": cores busy at the highest rate one node kept up with"};
}

void read_database(figures& f, const fs::path& dir) {
  if (f.backend == "sqlite") f.db_us_per_message = {0, "SQLite runs inside confabd: its CPU is in the node's figures"};
  double best = 0;
  std::string best_name;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto n = e.path().filename().string();
    if (!n.starts_with("persist_" + f.backend) || !n.ends_with(".json")) continue;
    const auto o = load(e.path(), "bench/run.sh");
    const double v = number(object_at(o, "result", e.path()), "durable_sends_per_sec", e.path());
    if (v > best) best = v, best_name = n;
  }
  if (best == 0) throw plan_error("no persist_" + f.backend + "_*.json in " + dir.string() + " (bench/run.sh full)");
  f.db_messages_per_sec = {best, best_name + ": durable sends/s, the most any load got (one node, one database)"};
  const auto size_p = dir / ("storage_" + f.backend + ".json");
  const auto size = load(size_p, "bench/run.sh full");
  const double bytes = number(size, "database_bytes", size_p), msgs = number(size, "messages", size_p);
  if (msgs <= 0) throw plan_error(size_p.string() + ": no messages");
  f.db_bytes_per_message = {bytes / msgs, size_p.filename().string() + ": " + num(bytes / 1048576.0) + " MiB for " +
                                              num(msgs, 0) + " messages of " + num(number(size, "members", size_p), 0) +
                                              "-member groups"};
}

}  // namespace

double measured_sustained_rate(const std::string& results_dir, int nodes, std::string& source) {
  const auto s = sustained_of(median_runs(fs::path(results_dir), nodes, source));
  if (!s) throw plan_error(source + ": no step kept up with its target rate");
  source += ", step " + num(s->target, 0) + " msgs/s";
  return s->sends;
}

figures read_figures(const std::string& results_dir, const std::string& backend) {
  if (backend != "postgres" && backend != "sqlite") throw plan_error("backend must be postgres or sqlite, not '" + backend + "'");
  figures f;
  f.results_dir = results_dir;
  f.backend = backend;
  const fs::path dir(results_dir);
  const auto machine = load(dir / "machine.json", "bench/run.sh");
  f.cores = static_cast<int>(number(machine, "cpus", dir / "machine.json"));
  if (const auto* d = machine.if_contains("date"); d && d->is_string()) f.measured_on = std::string(d->as_string());
  read_memory(f, dir);
  read_node_costs(f, dir);
  read_scaleout(f, dir);
  read_database(f, dir);
  const auto redis_p = dir / "redis.json";
  const auto redis = load(redis_p, "bench/run.sh full");
  f.redis_publishes_per_sec = {number(redis, "spublish_per_sec", redis_p),
                               redis_p.filename().string() + ": redis-benchmark SPUBLISH of " +
                                   num(number(redis, "payload_bytes", redis_p), 0) + " bytes, pipelined"};
  return f;
}

}  // namespace confab::plan
