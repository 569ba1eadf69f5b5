// Metrics: lock-free counters and fixed-bucket histograms, and their Prometheus text form.
//
// Thread-safety: Observe/Add are relaxed atomics, safe from any thread without locks (they run
// on every request). Reads (Snapshot, Render) are racy-but-consistent-enough sums, as usual for
// Prometheus counters. Objects are owned by whoever declares them (ServerMetrics by the daemon,
// per-model ones by the model manager's entries).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlos::runtime {

// Histogram over microsecond values with fixed upper bounds (plus +Inf).
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds_us);
  void Observe(int64_t us);
  uint64_t count() const;
  uint64_t sum_us() const { return sum_us_.load(std::memory_order_relaxed); }
  // Estimated q-quantile in microseconds (linear within the bucket); 0 when empty.
  double Quantile(double q) const;
  // Appends `<name>_bucket{labels,le="..."}`, `_sum`, `_count` lines, in seconds.
  void Render(std::string_view name, std::string_view labels, std::string* out) const;

  static std::span<const double> LatencyBounds();   // 5us .. 60s
  static std::span<const double> OverheadBounds();  // 2us .. 10ms, fine below 200us

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> sum_us_{0};
};

// The HTTP routes we count separately; kCount is the number of routes.
enum class Route : int {
  kHealth,
  kStats,
  kMetrics,
  kEvents,
  kModelsList,
  kModelGet,
  kModelRegister,
  kModelDelete,
  kModelInference,
  kPluginsList,
  kPluginRegister,
  kPluginDelete,
  kV2Server,
  kV2Live,
  kV2Ready,
  kV2ModelMetadata,
  kV2ModelReady,
  kV2Infer,
  kV2SharedMemory,
  kTrainingSessions,
  kTrainingSession,
  kTrainingControl,
  kTrainingEvents,
  kNotFound,
  kCount
};
std::string_view RouteName(Route r);

struct alignas(64) RouteMetrics {
  RouteMetrics() : latency(Histogram::LatencyBounds()) {}
  std::atomic<uint64_t> by_class[6] = {};  // index status/100 (1xx..5xx), 0 unused
  Histogram latency;
};

// Daemon-wide request counters (the /stats and /metrics totals).
class ServerMetrics {
 public:
  ServerMetrics();
  void Record(Route route, int status, int64_t us);

  // Sums over the routes (each request touches only its route's counters: three atomics).
  uint64_t total() const { return successful() + failed(); }
  uint64_t successful() const;
  uint64_t failed() const;
  uint64_t total_us() const;
  double uptime_seconds() const;
  const RouteMetrics& route(Route r) const { return routes_[static_cast<int>(r)]; }

  // Prometheus text for the HTTP routes and the process (CPU seconds, RSS, threads).
  void Render(std::string* out) const;

 private:
  int64_t start_us_;
  RouteMetrics routes_[static_cast<int>(Route::kCount)];
};

// Process figures from /proc/self; zeros where unavailable.
struct ProcessStats {
  double cpu_seconds = 0;
  int64_t rss_bytes = 0;
  int64_t virtual_bytes = 0;
  int threads = 0;
  int open_fds = 0;
};
ProcessStats ReadProcessStats();

int64_t MonotonicMicros();
// Seconds since the epoch as an RFC 3339 UTC string.
std::string Rfc3339Now();

// Escapes a Prometheus label value.
std::string PromLabel(std::string_view v);

}  // namespace mlos::runtime
