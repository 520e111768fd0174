// confab: the operator's command-line tool. `confab plan` is the capacity planner (issue 17,
// docs/scaling.md): requirements in, topology out, from the figures bench/run.sh measured.
#include "plan/report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;
using namespace confab::plan;

namespace {

std::vector<double> parse_users(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !(v >= 1)) throw plan_error("--users: '" + item + "' is not a number of users");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int plan(int argc, char** argv) {
  requirements r;
  std::string results = "bench/results/full", backend = "postgres", users = "10000,1000000,100000000", format = "markdown";
  int validate = 0;
  po::options_description d("confab plan [options]: the topology for each --users count, from bench/'s measured figures");
  d.add_options()("help", "this text")
      ("results", po::value(&results)->default_value(results), "the results folder bench/run.sh wrote")
      ("backend", po::value(&backend)->default_value(backend), "postgres or sqlite: the storage of the measured one-to-one figures")
      ("users", po::value(&users)->default_value(users), "user counts, comma-separated")
      ("format", po::value(&format)->default_value(format), "markdown or json")
      ("validate", po::value(&validate), "instead: predict the highest one-to-one rate N nodes keep up with, sharing the "
                                           "measuring host with the database, Redis and the load generator, against the "
                                           "measured scaleout_chat_N_r*.json")
      ("online-share", po::value(&r.online_share)->default_value(r.online_share), "share of users connected at the busiest hour")
      ("devices", po::value(&r.devices_per_online_user)->default_value(r.devices_per_online_user), "connected devices per online user")
      ("messages-per-day", po::value(&r.messages_per_user_per_day)->default_value(r.messages_per_user_per_day), "messages a user sends a day")
      ("peak-factor", po::value(&r.peak_factor)->default_value(r.peak_factor), "the busiest hour's rate over the day's average")
      ("direct-share", po::value(&r.direct_share)->default_value(r.direct_share), "share of messages in direct chats")
      ("group-share", po::value(&r.group_share)->default_value(r.group_share), "share of messages in groups")
      ("channel-share", po::value(&r.channel_share)->default_value(r.channel_share), "share of messages in channels")
      ("group-size", po::value(&r.group_size)->default_value(r.group_size), "members of an average group")
      ("channel-size", po::value(&r.channel_size)->default_value(r.channel_size), "members of an average channel")
      ("media-share", po::value(&r.media_share)->default_value(r.media_share), "share of messages carrying a file")
      ("media-kib", po::value(&r.media_kib)->default_value(r.media_kib), "average file size in KiB")
      ("push-share", po::value(&r.push_share)->default_value(r.push_share), "offline recipients with a push target")
      ("retention-days", po::value(&r.retention_days)->default_value(r.retention_days), "days messages are kept")
      ("frame-bytes", po::value(&r.frame_bytes)->default_value(r.frame_bytes), "bytes of one delivered event on the wire")
      ("receipts", po::value(&r.receipts_per_message)->default_value(r.receipts_per_message), "receipts published per message")
      ("cpu-target", po::value(&r.cpu_target)->default_value(r.cpu_target), "planned busy share of each host's cores")
      ("connection-target", po::value(&r.connection_target)->default_value(r.connection_target), "planned share of the measured connections per node")
      ("node-cores", po::value(&r.node_cores)->default_value(r.node_cores), "cores per node host (0: the measuring host's)")
      ("node-ram-gib", po::value(&r.node_ram_gib)->default_value(r.node_ram_gib), "memory per node host")
      ("db-cores", po::value(&r.db_cores)->default_value(r.db_cores), "cores per database primary")
      ("db-connections-per-node", po::value(&r.db_connections_per_node)->default_value(r.db_connections_per_node), "database connections one node opens");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "confab plan: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << d << "\n";
    return 0;
  }
  try {
    if (format != "markdown" && format != "json") throw plan_error("--format must be markdown or json");
    const auto f = read_figures(results, backend);
    if (validate > 0) {
      const auto p = predict_colocated(validate, f);
      std::string source;
      double measured = 0;
      try {
        measured = measured_sustained_rate(results, validate, source);
      } catch (const plan_error& e) {
        source = e.what();
      }
      std::cout << markdown(p, measured, source);
      return 0;
    }
    if (auto bad = check(r); !bad.empty()) throw plan_error(bad);
    std::vector<topology> plans;
    for (double u : parse_users(users)) {
      auto x = r;
      x.users = u;
      plans.push_back(plan_for(x, f));
    }
    if (format == "json")
      std::cout << boost::json::serialize(to_json(plans, f)) << "\n";
    else
      std::cout << markdown(plans, r, f);
    return 0;
  } catch (const plan_error& e) {
    std::cerr << "confab plan: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "plan") {
    std::cerr << "usage: confab plan [options]   (confab plan --help)\n";
    return 2;
  }
  return plan(argc - 1, argv + 1);
}
