// core/metrics: the registry's text exposition format, exactly, and its checks.
#include "core/metrics.hpp"
#include "core/node_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include <stdexcept>
#include <thread>
#include <vector>

namespace confab::metrics {
namespace {

TEST(Metrics, RendersASmallRegistryExactly) {
  registry r;
  auto& ops = r.counters("app_ops_total", "Operations by name\nand result.", {"op", "result"});
  ops.labels({"send", "ok"}).inc(3);
  ops.labels({"send", "forbidden"}).inc();
  ops.labels({"history", "ok"});  // created, never incremented: exposed as 0
  r.gauges("app_queue_bytes", "Bytes queued.").get().add(1536);
  auto& h = r.histograms("app_latency_seconds", "Latency.", {0.1, 1, 2.5}).get();
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(2);
  h.observe(7, 2);  // two observations past the last bound
  auto& cb = r.callbacks("app_open", "Open things.", kind::gauge, {"kind"});
  auto h1 = cb.add({"a"}, [] { return 2.0; });
  auto h2 = cb.add({"a"}, [] { return 3.0; });  // same labels: summed
  const std::string expected =
      "# HELP app_ops_total Operations by name\\nand result.\n"
      "# TYPE app_ops_total counter\n"
      "app_ops_total{op=\"history\",result=\"ok\"} 0\n"
      "app_ops_total{op=\"send\",result=\"forbidden\"} 1\n"
      "app_ops_total{op=\"send\",result=\"ok\"} 3\n"
      "# HELP app_queue_bytes Bytes queued.\n"
      "# TYPE app_queue_bytes gauge\n"
      "app_queue_bytes 1536\n"
      "# HELP app_latency_seconds Latency.\n"
      "# TYPE app_latency_seconds histogram\n"
      "app_latency_seconds_bucket{le=\"0.1\"} 2\n"
      "app_latency_seconds_bucket{le=\"1\"} 2\n"
      "app_latency_seconds_bucket{le=\"2.5\"} 3\n"
      "app_latency_seconds_bucket{le=\"+Inf\"} 5\n"
      "app_latency_seconds_sum 16.15\n"
      "app_latency_seconds_count 5\n"
      "# HELP app_open Open things.\n"
      "# TYPE app_open gauge\n"
      "app_open{kind=\"a\"} 5\n";
  EXPECT_EQ(r.render(), expected);
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\nd"),
            R"(a\\b\"c\nd)");
  registry r;
  r.counters("x_total", R"(back\slash)", {"v"}).labels({"q\"uote\\\n"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP x_total back\\\\slash\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"q\\\"uote\\\\\\n\"} 1\n");
}

TEST(Metrics, HistogramLabelsComeBeforeLe) {
  registry r;
  r.histograms("h_seconds", "h", {1}, {"consumer"}).labels({"search"}).observe(0.5);
  EXPECT_EQ(r.render(),
            "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{consumer=\"search\",le=\"1\"} 1\n"
            "h_seconds_bucket{consumer=\"search\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{consumer=\"search\"} 0.5\n"
            "h_seconds_count{consumer=\"search\"} 1\n");
}

TEST(Metrics, CallbackSourceIsRemovedWithItsHandle) {
  registry r;
  auto& cb = r.callbacks("c", "c", kind::gauge);
  {
    auto h = cb.add({}, [] { return 1.0; });
    EXPECT_NE(r.render().find("\nc 1\n"), std::string::npos);
  }
  EXPECT_EQ(r.render(), "# HELP c c\n# TYPE c gauge\n");
}

TEST(Metrics, RefusesBadNamesAndArity) {
  registry r;
  EXPECT_THROW(r.counters("no_suffix", "h"), std::invalid_argument);
  EXPECT_THROW(r.counters("1bad_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counters("bad-name_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counters("ok_total", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histograms("h_seconds", "h", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histograms("h2_seconds", "h", {2, 1}), std::invalid_argument);
  auto& f = r.counters("ok_total", "h", {"a"});
  EXPECT_THROW(f.labels({}), std::invalid_argument);
  EXPECT_THROW(f.labels({"x", "y"}), std::invalid_argument);
  EXPECT_THROW(r.gauges("ok_total", "again"), std::invalid_argument);
}

TEST(Metrics, FormatsValues) {
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.00025), "0.00025");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  registry r;
  auto& c = r.counters("n_total", "n").get();
  auto& h = r.histograms("d_seconds", "d", {1}).get();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.read().cumulative.back(), 40000u);
  EXPECT_DOUBLE_EQ(h.read().sum, 20000.0);
}

TEST(Metrics, NodeMetricsRegisterOnceWithProcessMetrics) {
  auto& a = node();
  auto& b = node();
  EXPECT_EQ(&a, &b);
  const auto text = global().render();
  for (const char* name : {"# TYPE confab_operations_total counter", "# TYPE confab_send_commit_seconds histogram",
                           "# TYPE process_cpu_seconds_total counter", "\nprocess_resident_memory_bytes ",
                           "\nprocess_open_fds ", "confab_broker_reconnects_total{connection=\"subscriber\"} 0"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
}

}  // namespace
}  // namespace confab::metrics

// issue 17: the admin view's load figures, summed from a node's own exposition.
TEST(metrics_totals, sums_each_name_over_its_label_sets) {
  const auto t = confab::metrics::totals(
      "# HELP confab_operations_total Operations.\n"
      "# TYPE confab_operations_total counter\n"
      "confab_operations_total{op=\"send\",result=\"ok\"} 3\n"
      "confab_operations_total{op=\"a b\",result=\"x \\\" y\"} 4\n"
      "confab_sessions 2\n"
      "confab_lat_seconds_bucket{le=\"0.1\"} 9\n"
      "confab_lat_seconds_sum 0.5\n"
      "confab_lat_seconds_count 9\n"
      "confab_broken{op=\"x\"} notanumber\n"
      "{nolabel} 1\n"
      "lonely\n"
      "confab_inf +Inf");
  EXPECT_EQ(t.at("confab_operations_total"), 7);
  EXPECT_EQ(t.at("confab_sessions"), 2);
  EXPECT_EQ(t.at("confab_lat_seconds_sum"), 0.5);
  EXPECT_EQ(t.at("confab_lat_seconds_count"), 9);
  EXPECT_TRUE(std::isinf(t.at("confab_inf")));
  EXPECT_FALSE(t.contains("confab_lat_seconds_bucket"));
  EXPECT_FALSE(t.contains("confab_broken"));
  EXPECT_FALSE(t.contains("lonely"));
  EXPECT_EQ(t.size(), 5u);
}

// Issue 17: confabd --no-metrics, to measure what recording costs: nothing is recorded while off.
TEST(metrics, nothing_is_recorded_while_recording_is_off) {
  namespace metrics = confab::metrics;
  metrics::counter c;
  metrics::gauge g;
  metrics::histogram h(metrics::latency_buckets());
  c.inc();
  g.add(2);
  h.observe(0.01);
  metrics::recording.store(false);
  c.inc(5);
  g.add(3);
  g.sub(1);
  h.observe(0.02);
  metrics::recording.store(true);
  EXPECT_EQ(c.value(), 1u);
  EXPECT_EQ(g.value(), 2);
  EXPECT_EQ(h.read().cumulative.back(), 1u);
  c.inc();
  EXPECT_EQ(c.value(), 2u);
}
