#include "observe/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace twinstar::observe {
namespace {

TEST(MetricsRegistry, renders_collectors_in_prometheus_text_with_help_type_and_labels) {
  MetricsRegistry registry;
  double requests = 12;
  auto a = registry.add([&](MetricSink& s) {
    s.counter("twinstar_limiter_requests_total", "Requests granted by the limiter", {{"exchange", "bybit"}, {"account", "main"}}, requests);
    s.gauge("twinstar_capital_equity", "Equity in quote currency", {}, 10000.5);
  });
  auto b = registry.add([](MetricSink& s) {
    s.counter("twinstar_limiter_requests_total", "ignored: the first help wins", {{"exchange", "okx"}, {"account", "main"}}, 3);
  });
  const std::string text = registry.render_prometheus();
  EXPECT_NE(text.find("# HELP twinstar_limiter_requests_total Requests granted by the limiter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE twinstar_limiter_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_limiter_requests_total{exchange=\"bybit\",account=\"main\"} 12"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_limiter_requests_total{exchange=\"okx\",account=\"main\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE twinstar_capital_equity gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_capital_equity 10000.5"), std::string::npos) << text;
  // One family per name, even with two collectors writing it.
  EXPECT_EQ(text.find("# TYPE twinstar_limiter_requests_total"), text.rfind("# TYPE twinstar_limiter_requests_total"));

  requests = 13;  // collectors are read at scrape time
  EXPECT_NE(registry.render_prometheus().find("account=\"main\"} 13"), std::string::npos);
}

TEST(MetricsRegistry, a_dropped_handle_unregisters_its_collector_even_after_the_registry_is_gone) {
  CollectorHandle outlives;
  {
    MetricsRegistry registry;
    {
      auto h = registry.add([](MetricSink& s) { s.gauge("x", "x", {}, 1); });
      EXPECT_EQ(registry.collect().size(), 1u);
    }
    EXPECT_TRUE(registry.collect().empty());
    outlives = registry.add([](MetricSink& s) { s.gauge("y", "y", {}, 1); });
    EXPECT_EQ(registry.collect().size(), 1u);
  }
  outlives.reset();  // the registry is gone: nothing to unregister, and no crash
}

TEST(MetricsRegistry, scrapes_from_many_threads_while_collectors_come_and_go) {
  MetricsRegistry registry;
  auto base = registry.add([](MetricSink& s) { s.counter("base_total", "b", {}, 1); });
  std::atomic<bool> done{false};
  std::thread churn([&] {
    for (int i = 0; i < 500; ++i) {
      auto h = registry.add([i](MetricSink& s) { s.gauge("churn", "c", {{"i", std::to_string(i)}}, i); });
    }
    done = true;
  });
  std::size_t scrapes = 0;
  while (!done || scrapes < 10) {
    const auto samples = registry.collect();
    ASSERT_FALSE(samples.empty());
    EXPECT_EQ(samples.front().name, "base_total");
    ++scrapes;
    if (scrapes > 100000) break;
  }
  churn.join();
  EXPECT_EQ(registry.collect().size(), 1u);
}

TEST(LatencyHistogram, quantiles_are_bucket_upper_bounds_capped_by_the_exact_max) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile_ns(0.99), 0);
  for (int i = 0; i < 98; ++i) h.record_ns(700);    // ≤ 1 µs bucket
  h.record_ns(3'000);                               // (2, 4] µs
  h.record_ns(150'000);                             // (128, 256] µs
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.quantile_ns(0.5), 1'000);
  EXPECT_EQ(h.quantile_ns(0.99), 4'000);
  EXPECT_EQ(h.quantile_ns(1.0), 150'000);  // the bucket bound (256 µs) is capped by the exact max
  EXPECT_EQ(h.max_ns(), 150'000);
  EXPECT_NEAR(h.sum_seconds(), (98 * 700 + 3'000 + 150'000) / 1e9, 1e-12);

  MetricsRegistry registry;
  auto handle = registry.add([&](MetricSink& s) { h.write(s, "twinstar_signal_to_order_seconds", "latency", {}); });
  const auto text = registry.render_prometheus();
  EXPECT_NE(text.find("# TYPE twinstar_signal_to_order_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_signal_to_order_seconds_bucket{le=\"1e-06\"} 98"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_signal_to_order_seconds_bucket{le=\"+Inf\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_signal_to_order_seconds_count 100"), std::string::npos) << text;
}

}  // namespace
}  // namespace twinstar::observe
