// Issue 17: the capacity planner reads its figures from bench/'s result files and turns
// requirements into a topology. The files here are written by the test with known numbers.
#include "plan/report.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace confab::plan;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

json::object step(double target, double sends, double deliveries, double server_us, double gen_us, double p99, double aux = 0) {
  json::object s{{"target_rate", target},
                 {"sends_per_sec", sends},
                 {"deliveries_per_sec", deliveries},
                 {"lost", 0},
                 {"server_cpu_us_per_delivery", server_us},
                 {"generator_cpu_us_per_delivery", gen_us},
                 {"deliver_latency", json::object{{"p99_ms", p99}}}};
  if (aux > 0) s["aux_cpu_us_per_send"] = aux;
  return s;
}

json::object stepped(json::array steps) { return {{"result", json::object{{"steps", std::move(steps)}}}}; }

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("confab-plan-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    put("machine.json", {{"cpus", 2}, {"date", "2026-12-03"}});
    put("idle_5000.json", {{"result", json::object{{"connections", 5000}, {"server_rss_before_kib", 20000}, {"server_rss_after_kib", 45000}}}});
    put("idle_19000.json", {{"result", json::object{{"connections", 19000}, {"server_rss_before_kib", 45000}, {"server_rss_after_kib", 115000}}}});
    // One-to-one: 2 deliveries per message; at 4000/s, 30 µs per delivery (60 per message). The
    // 8000/s step missed the latency target, so it does not count.
    put("chat_postgres.json", stepped({step(2000, 2000, 4000, 40, 20, 5), step(4000, 4000, 8000, 30, 15, 20),
                                       step(8000, 7000, 14000, 20, 10, 80)}));
    // Fan-out: 100 deliveries per message at 1000/s, 5 µs each (500 per message).
    put("fanout_100.json", stepped({step(1000, 1000, 100000, 5, 2, 30)}));
    // One node on PostgreSQL and Redis keeps up with 2000/s and 3000/s (not 4000): every process
    // together 134 and 110 µs per message, 0.268 and 0.33 cores, a line of 0.144 cores + 62 µs
    // per message. Two nodes: 184 and 156 µs, 0.368 and 0.468 cores, 0.168 cores + 100 µs; confabd
    // spends 50 and 46 µs more per message than on one node.
    put("scaleout_chat_1_r1.json", stepped({step(2000, 2000, 4000, 25, 12, 10, 60), step(3000, 3000, 6000, 20, 10, 30, 50),
                                             step(4000, 3500, 7000, 18, 9, 90, 45)}));
    put("scaleout_chat_2_r1.json", stepped({step(2000, 2000, 4000, 50, 12, 12, 60), step(3000, 3000, 6000, 43, 10, 60, 50)}));
    put("scaleout_chat_3_r1.json", stepped({step(2000, 1990, 3980, 41, 12, 20, 60), step(3000, 2900, 5800, 36, 10, 70, 50)}));
    put("persist_postgres_64x4.json", {{"result", json::object{{"durable_sends_per_sec", 9000}}}});
    put("persist_postgres_256x4.json", {{"result", json::object{{"durable_sends_per_sec", 12000}}}});
    put("storage_postgres.json", {{"database_bytes", 27000 * 2200}, {"messages", 27000}, {"members", 10}});
    put("redis.json", {{"spublish_per_sec", 500000}, {"payload_bytes", 300}});
  }
  void TearDown() override { fs::remove_all(dir_); }
  void put(const std::string& name, const json::object& o) { std::ofstream(dir_ / name) << json::serialize(o); }
  figures read() { return read_figures(dir_.string(), "postgres"); }

  fs::path dir_;
};

}  // namespace

TEST_F(Plan, FiguresComeFromTheResultFilesWithTheirSources) {
  const auto f = read();
  EXPECT_EQ(f.cores, 2);
  EXPECT_DOUBLE_EQ(f.kib_per_connection.value, 5.0);  // (115000 − 45000) / 14000, marginal
  EXPECT_NE(f.kib_per_connection.source.find("idle_5000 → idle_19000"), std::string::npos) << f.kib_per_connection.source;
  EXPECT_DOUBLE_EQ(f.connections_per_node.value, 19000);
  // A line through (2 deliveries, 60 µs) and (100 deliveries, 500 µs).
  EXPECT_NEAR(f.node_us_per_delivery.value, 440.0 / 98, 1e-9);
  EXPECT_NEAR(f.node_us_per_message.value, 60 - 2 * 440.0 / 98, 1e-9);
  EXPECT_NE(f.node_us_per_message.source.find("chat_postgres.json at 4000 msgs/s"), std::string::npos)
      << "the 8000/s step missed 50 ms: " << f.node_us_per_message.source;
  EXPECT_DOUBLE_EQ(f.db_us_per_message.value, 50);
  EXPECT_DOUBLE_EQ(f.one_node_sustained_rate.value, 3000);
  EXPECT_NEAR(f.node_relay_us.value, 48, 1e-9);
  EXPECT_NE(f.node_relay_us.source.find("mean over 2000, 3000 msgs/s"), std::string::npos) << f.node_relay_us.source;
  EXPECT_NEAR(f.colocated_us_per_message.value, 62, 1e-9);
  EXPECT_NEAR(f.colocated_fixed_cores.value, 0.144, 1e-9);
  EXPECT_NEAR(f.colocated_fixed_cores_per_extra_node.value, 0.024, 1e-9);
  EXPECT_NEAR(f.colocated_busy_cores.value, 0.33, 1e-9);
  EXPECT_DOUBLE_EQ(f.db_messages_per_sec.value, 12000);
  EXPECT_DOUBLE_EQ(f.db_bytes_per_message.value, 2200);
  EXPECT_DOUBLE_EQ(f.redis_publishes_per_sec.value, 500000);
}

TEST_F(Plan, AMissingOrMalformedFileIsNamedWithWhatWritesIt) {
  fs::remove(dir_ / "redis.json");
  try {
    read();
    FAIL() << "no error";
  } catch (const plan_error& e) {
    EXPECT_NE(std::string(e.what()).find("redis.json (written by bench/run.sh full)"), std::string::npos) << e.what();
  }
  std::ofstream(dir_ / "redis.json") << "{\"spublish_per_sec\": ";
  EXPECT_THROW(read(), plan_error);
  std::ofstream(dir_ / "redis.json") << "[1]";
  EXPECT_THROW(read(), plan_error);
  std::ofstream(dir_ / "redis.json") << "{\"spublish_per_sec\": \"fast\", \"payload_bytes\": 300}";
  EXPECT_THROW(read(), plan_error);
  EXPECT_THROW(read_figures(dir_.string(), "mysql"), plan_error);
}

TEST_F(Plan, ARunWithNoStepUnderFiftyMillisecondsIsRefused) {
  put("fanout_100.json", stepped({step(1000, 1000, 100000, 5, 2, 51)}));
  try {
    read();
    FAIL() << "no error";
  } catch (const plan_error& e) {
    EXPECT_NE(std::string(e.what()).find("fanout_100.json: no step kept p99"), std::string::npos) << e.what();
  }
}

TEST_F(Plan, ChangingAMeasuredFigureChangesThePlan) {
  requirements r;
  r.users = 100e6;
  const auto before = plan_for(r, read());
  put("redis.json", {{"spublish_per_sec", 250000}, {"payload_bytes", 300}});
  const auto after = plan_for(r, read());
  EXPECT_GT(before.redis_shards, 1);
  EXPECT_NEAR(after.redis_shards, 2 * before.redis_shards, 1);
}

TEST_F(Plan, SmallDeploymentsFitOneNodeAndLargeOnesAreBoundByWhatRunsOut) {
  const auto f = read();
  requirements r;
  r.users = 10000;
  auto small = plan_for(r, f);
  EXPECT_DOUBLE_EQ(small.connected_devices, 10000 * 0.2 * 1.2);
  EXPECT_NEAR(small.messages_per_sec, 10000 * 40 / 86400.0 * 3, 1e-9);
  EXPECT_EQ(small.nodes, 1);
  EXPECT_EQ(small.redis_shards, 0) << "one node needs no Redis";
  // Many connections, few messages: bound by connections, with one spare.
  r.users = 1e6;
  r.messages_per_user_per_day = 1;
  auto idle = plan_for(r, f);
  EXPECT_EQ(idle.nodes_for_connections, static_cast<int>(std::ceil(240000 / (19000 * 0.8))));
  EXPECT_EQ(idle.nodes_bound_by, "connections");
  EXPECT_EQ(idle.nodes, idle.nodes_for_connections + 1);
  // Many messages: bound by CPU.
  r.messages_per_user_per_day = 20000;
  auto busy = plan_for(r, f);
  EXPECT_EQ(busy.nodes_bound_by, "CPU");
  EXPECT_GT(busy.nodes_for_cpu, busy.nodes_for_connections);
  EXPECT_GT(busy.db_primaries, 1);
  // A channel message is written once, whatever its size.
  r.direct_share = 0, r.group_share = 0, r.channel_share = 1;
  r.channel_size = 100000;
  auto chan = plan_for(r, f);
  EXPECT_DOUBLE_EQ(chan.stream_rows_per_sec, chan.messages_per_sec);
  EXPECT_GT(chan.deliveries_per_sec, 1000 * chan.messages_per_sec);
}

TEST_F(Plan, BadRequirementsAreRefusedWithTheReason) {
  const auto bad = [](auto change) {
    requirements r;
    change(r);
    return check(r);
  };
  EXPECT_EQ(check(requirements{}), "");
  EXPECT_NE(bad([](requirements& r) { r.users = 0; }), "");
  EXPECT_NE(bad([](requirements& r) { r.online_share = 1.5; }), "");
  EXPECT_NE(bad([](requirements& r) { r.direct_share = 0.9; }).find("sum to 1"), std::string::npos);
  EXPECT_NE(bad([](requirements& r) { r.group_size = 1; }), "");
  EXPECT_NE(bad([](requirements& r) { r.cpu_target = 0; }), "");
  EXPECT_NE(bad([](requirements& r) { r.peak_factor = std::nan(""); }), "");
  EXPECT_NE(bad([](requirements& r) { r.db_cores = 0; }), "");
}

TEST_F(Plan, TheColocatedPredictionFitsEachNodesFixedCostUnderTheBusyCores) {
  const auto f = read();
  // 0.33 cores busy at one node's highest rate; 0.144 cores fixed, 0.024 more per further node,
  // 62 µs per message.
  const auto one = predict_colocated(1, f), three = predict_colocated(3, f);
  EXPECT_NEAR(one.messages_per_sec, 3000, 1e-6);
  EXPECT_NEAR(three.messages_per_sec, (0.33 - 0.144 - 2 * 0.024) / 62e-6, 1e-6);
  std::string source;
  const double measured = measured_sustained_rate(dir_.string(), 3, source);
  EXPECT_DOUBLE_EQ(measured, 2900);  // 3000/s kept up with (2900 ≥ 95 %), whatever its latency
  EXPECT_NE(source.find("(median of 1 runs), step 3000"), std::string::npos) << source;
  const auto text = markdown(three, measured, source);
  EXPECT_NE(text.find("measured: 2900 msgs/s"), std::string::npos) << text;
  EXPECT_NE(text.find("prediction -23.2 %"), std::string::npos) << text;
}

TEST_F(Plan, RepeatedRunsAreMergedByTheirMedian) {
  // Three rounds of three nodes: they kept up with 3000/s twice, once not (2500 sent).
  put("scaleout_chat_3_r2.json", stepped({step(2000, 1995, 3990, 40, 12, 20, 60), step(3000, 2950, 5900, 36, 10, 70, 50)}));
  put("scaleout_chat_3_r3.json", stepped({step(2000, 1980, 3960, 40, 12, 20, 60), step(3000, 2500, 5000, 36, 10, 70, 50)}));
  std::string source;
  EXPECT_DOUBLE_EQ(measured_sustained_rate(dir_.string(), 3, source), 2900);  // the median of 2900, 2950, 2500
  EXPECT_NE(source.find("median of 3 runs"), std::string::npos) << source;
  // A rate not every round reached is left out.
  put("scaleout_chat_3_r3.json", stepped({step(2000, 1980, 3960, 40, 12, 20, 60)}));
  EXPECT_DOUBLE_EQ(measured_sustained_rate(dir_.string(), 2, source), 3000);
  EXPECT_DOUBLE_EQ(measured_sustained_rate(dir_.string(), 3, source), 1990);
  fs::remove(dir_ / "scaleout_chat_2_r1.json");
  EXPECT_THROW(measured_sustained_rate(dir_.string(), 2, source), plan_error);
}

TEST_F(Plan, TheReportShowsTheTableTheReasoningAndADiagram) {
  const auto f = read();
  requirements r;
  std::vector<topology> plans;
  for (double u : {1e4, 1e6, 1e8}) {
    r.users = u;
    plans.push_back(plan_for(r, f));
  }
  const auto md = markdown(plans, r, f);
  EXPECT_NE(md.find("| 10.0 k |"), std::string::npos) << md;
  EXPECT_NE(md.find("### 100.0 M users"), std::string::npos);
  EXPECT_NE(md.find("```mermaid\nflowchart LR\n"), std::string::npos);
  EXPECT_NE(md.find("redis.json: redis-benchmark SPUBLISH"), std::string::npos);
  EXPECT_NE(mermaid(plans[2], r, f).find("Redis shard"), std::string::npos);
  EXPECT_EQ(mermaid(plans[0], r, f).find("Redis"), std::string::npos);
  const auto j = to_json(plans, f);
  EXPECT_EQ(j.at("plans").as_array().size(), 3u);
  EXPECT_EQ(j.at("plans").as_array()[0].at("nodes").as_int64(), 1);
}
