// Histograms: bucket placement, quantiles and the Prometheus text form.
#include "runtime/metrics.h"

#include <gtest/gtest.h>

namespace mlos::runtime {
namespace {

TEST(Histogram, QuantilesAndRender) {
  Histogram h(Histogram::OverheadBounds());
  for (int i = 0; i < 100; ++i) h.Observe(i < 90 ? 20 : 1000);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.sum_us(), 90u * 20 + 10u * 1000);
  EXPECT_GT(h.Quantile(0.5), 15.0);
  EXPECT_LE(h.Quantile(0.5), 20.0);
  EXPECT_GT(h.Quantile(0.95), 500.0);
  std::string out;
  h.Render("x_seconds", "model=\"m\"", &out);
  EXPECT_NE(out.find("x_seconds_bucket{model=\"m\",le=\"2e-05\"} 90"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{model=\"m\",le=\"+Inf\"} 100"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_count{model=\"m\"} 100"), std::string::npos);
}

TEST(ServerMetrics, CountsAndProcess) {
  ServerMetrics m;
  m.Record(Route::kHealth, 200, 10);
  m.Record(Route::kModelInference, 400, 30);
  EXPECT_EQ(m.total(), 2u);
  EXPECT_EQ(m.successful(), 1u);
  EXPECT_EQ(m.failed(), 1u);
  std::string out;
  m.Render(&out);
  EXPECT_NE(out.find("mlos_http_requests_total{route=\"/health\",code=\"2xx\"} 1"),
            std::string::npos);
  ProcessStats ps = ReadProcessStats();
  EXPECT_GT(ps.rss_bytes, 0);
  EXPECT_GT(ps.threads, 0);
  EXPECT_EQ(PromLabel("a\"b\\c"), "a\\\"b\\\\c");
}

}  // namespace
}  // namespace mlos::runtime
