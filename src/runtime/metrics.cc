#include "runtime/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace mlos::runtime {
namespace {

const double kLatencyBounds[] = {5,       10,       20,       30,      50,     75,      100,
                                 150,     250,      500,      1000,    2500,   5000,    10000,
                                 25000,   50000,    100000,   250000,  500000, 1000000, 2500000,
                                 5000000, 10000000, 30000000, 60000000};
const double kOverheadBounds[] = {2,  4,  6,   8,   10,  15,  20,  25,  30,   40,   50,   60,   70,
                                  80, 90, 100, 125, 150, 200, 300, 500, 1000, 2000, 5000, 10000};

void AppendDouble(double v, std::string* out) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", v);
  out->append(buf);
}

}  // namespace

Histogram::Histogram(std::span<const double> bounds_us)
    : bounds_(bounds_us.begin(), bounds_us.end()), buckets_(bounds_us.size() + 1) {}

std::span<const double> Histogram::LatencyBounds() { return kLatencyBounds; }
std::span<const double> Histogram::OverheadBounds() { return kOverheadBounds; }

void Histogram::Observe(int64_t us) {
  if (us < 0) us = 0;
  double v = static_cast<double>(us);
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

double Histogram::Quantile(double q) const {
  uint64_t total = 0;
  std::vector<uint64_t> counts(buckets_.size());
  for (size_t i = 0; i < buckets_.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  if (total == 0) return 0;
  double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (static_cast<double>(seen + counts[i]) >= rank) {
      double lo = i == 0 ? 0 : bounds_[i - 1];
      double hi = i < bounds_.size() ? bounds_[i] : lo;
      double frac = (rank - static_cast<double>(seen)) / static_cast<double>(counts[i]);
      return lo + (hi - lo) * std::clamp(frac, 0.0, 1.0);
    }
    seen += counts[i];
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string* out) const {
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out->append(name);
    out->append("_bucket{");
    out->append(labels);
    out->append(sep);
    out->append("le=\"");
    if (i < bounds_.size()) {
      AppendDouble(bounds_[i] / 1e6, out);
    } else {
      out->append("+Inf");
    }
    out->append("\"} ");
    out->append(std::to_string(cumulative));
    out->push_back('\n');
  }
  out->append(name);
  out->append("_sum");
  if (!labels.empty()) {
    out->append("{");
    out->append(labels);
    out->append("}");
  }
  out->push_back(' ');
  AppendDouble(static_cast<double>(sum_us()) / 1e6, out);
  out->push_back('\n');
  out->append(name);
  out->append("_count");
  if (!labels.empty()) {
    out->append("{");
    out->append(labels);
    out->append("}");
  }
  out->push_back(' ');
  out->append(std::to_string(count()));
  out->push_back('\n');
}

std::string_view RouteName(Route r) {
  static const char* kNames[] = {"/health",
                                 "/stats",
                                 "/metrics",
                                 "/events",
                                 "/models",
                                 "/models/{id}",
                                 "/models/register",
                                 "DELETE /models/{id}",
                                 "/models/{id}/inference",
                                 "/plugins",
                                 "/plugins/register",
                                 "DELETE /plugins/{id}",
                                 "/v2",
                                 "/v2/health/live",
                                 "/v2/health/ready",
                                 "/v2/models/{m}",
                                 "/v2/models/{m}/ready",
                                 "/v2/models/{m}/infer",
                                 "/v2/systemsharedmemory",
                                 "/training/sessions",
                                 "/training/sessions/{id}",
                                 "/training/sessions/{id}/control",
                                 "/training/sessions/{id}/events",
                                 "not_found"};
  static_assert(sizeof kNames / sizeof kNames[0] == static_cast<size_t>(Route::kCount));
  int i = static_cast<int>(r);
  return i >= 0 && i < static_cast<int>(Route::kCount) ? kNames[i] : "unknown";
}

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339Now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string PromLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

ServerMetrics::ServerMetrics() : start_us_(MonotonicMicros()) {}

uint64_t ServerMetrics::successful() const {
  uint64_t n = 0;
  for (const RouteMetrics& r : routes_) {
    for (int c = 1; c <= 3; ++c) n += r.by_class[c].load(std::memory_order_relaxed);
  }
  return n;
}

uint64_t ServerMetrics::failed() const {
  uint64_t n = 0;
  for (const RouteMetrics& r : routes_) {
    for (int c = 4; c <= 5; ++c) n += r.by_class[c].load(std::memory_order_relaxed);
  }
  return n;
}

uint64_t ServerMetrics::total_us() const {
  uint64_t n = 0;
  for (const RouteMetrics& r : routes_) n += r.latency.sum_us();
  return n;
}

void ServerMetrics::Record(Route route, int status, int64_t us) {
  int i = static_cast<int>(route);
  if (i < 0 || i >= static_cast<int>(Route::kCount)) return;
  int cls = std::clamp(status / 100, 1, 5);
  routes_[i].by_class[cls].fetch_add(1, std::memory_order_relaxed);
  routes_[i].latency.Observe(us);
}

double ServerMetrics::uptime_seconds() const {
  return static_cast<double>(MonotonicMicros() - start_us_) / 1e6;
}

void ServerMetrics::Render(std::string* out) const {
  out->append("# HELP mlos_http_requests_total HTTP requests by route and status class.\n");
  out->append("# TYPE mlos_http_requests_total counter\n");
  for (int r = 0; r < static_cast<int>(Route::kCount); ++r) {
    for (int cls = 1; cls <= 5; ++cls) {
      uint64_t n = routes_[r].by_class[cls].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out->append("mlos_http_requests_total{route=\"");
      out->append(PromLabel(RouteName(static_cast<Route>(r))));
      out->append("\",code=\"");
      out->append(std::to_string(cls));
      out->append("xx\"} ");
      out->append(std::to_string(n));
      out->push_back('\n');
    }
  }
  out->append("# HELP mlos_http_request_duration_seconds Server time per request by route.\n");
  out->append("# TYPE mlos_http_request_duration_seconds histogram\n");
  for (int r = 0; r < static_cast<int>(Route::kCount); ++r) {
    if (routes_[r].latency.count() == 0) continue;
    std::string labels = "route=\"" + PromLabel(RouteName(static_cast<Route>(r))) + "\"";
    routes_[r].latency.Render("mlos_http_request_duration_seconds", labels, out);
  }
  ProcessStats ps = ReadProcessStats();
  out->append("# HELP process_cpu_seconds_total User and system CPU time of the daemon.\n");
  out->append("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ");
  AppendDouble(ps.cpu_seconds, out);
  out->append("\n# HELP process_resident_memory_bytes Resident set size.\n");
  out->append("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ");
  out->append(std::to_string(ps.rss_bytes));
  out->append("\n# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes ");
  out->append(std::to_string(ps.virtual_bytes));
  out->append("\n# TYPE process_threads gauge\nprocess_threads ");
  out->append(std::to_string(ps.threads));
  out->append("\n# TYPE process_open_fds gauge\nprocess_open_fds ");
  out->append(std::to_string(ps.open_fds));
  out->append("\n# TYPE mlos_uptime_seconds gauge\nmlos_uptime_seconds ");
  AppendDouble(uptime_seconds(), out);
  out->push_back('\n');
}

ProcessStats ReadProcessStats() {
  ProcessStats ps;
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  if (FILE* f = fopen("/proc/self/stat", "r")) {
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const char* p = strrchr(buf, ')');
    if (p) {
      unsigned long utime = 0, stime = 0;
      long threads = 0;
      // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      // cutime cstime priority nice num_threads
      if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld",
                 &utime, &stime, &threads) == 3 &&
          ticks > 0) {
        ps.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
        ps.threads = static_cast<int>(threads);
      }
    }
  }
  if (FILE* f = fopen("/proc/self/statm", "r")) {
    long size = 0, rss = 0;
    if (fscanf(f, "%ld %ld", &size, &rss) == 2) {
      ps.virtual_bytes = size * page;
      ps.rss_bytes = rss * page;
    }
    fclose(f);
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++ps.open_fds;
    }
    closedir(d);
  }
  return ps;
}

}  // namespace mlos::runtime
