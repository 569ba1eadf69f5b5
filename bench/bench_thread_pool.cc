// bench_thread_pool: how promptly the shared pool's worker joins back-to-back small jobs, the
// pattern of an inference run (one parallel region per operator, a short serial gap between).
//
// usage: bench_thread_pool [--jobs N]
// For each job size it posts two-task jobs whose tasks busy-wait `work` microseconds, after a
// 10 us serial gap, and reports how many jobs the worker took part in and its pickup latency
// (job posted -> worker starts its task). A pool whose worker joins every job halves each
// operator's time; one that leaves the caller alone shows up as "joined" far below the count.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "mlos/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

void BusyWait(double us) {
  const auto t = Clock::now();
  while (MicrosSince(t) < us) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 500;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--jobs") == 0) jobs = std::max(1, std::atoi(argv[i + 1]));
  }
  mlos::ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::printf("%8s %10s %12s %12s %12s\n", "work_us", "joined", "pickup_p50", "pickup_p90",
              "pickup_p99");
  for (double work : {2.0, 5.0, 20.0, 50.0}) {
    std::vector<double> pickup;
    for (int j = 0; j < jobs; ++j) {
      BusyWait(10);  // the serial gap between two operators
      const auto posted = Clock::now();
      std::atomic<double> seen{-1};
      pool.ParallelTasks(2, [&](int64_t, int64_t) {
        if (std::this_thread::get_id() != caller) seen = MicrosSince(posted);
        BusyWait(work);
      });
      if (seen >= 0) pickup.push_back(seen);
    }
    std::sort(pickup.begin(), pickup.end());
    auto q = [&](double f) {
      return pickup.empty() ? -1.0 : pickup[static_cast<size_t>(f * (pickup.size() - 1))];
    };
    std::printf("%8.0f %5zu/%-4d %12.2f %12.2f %12.2f\n", work, pickup.size(), jobs, q(0.5), q(0.9),
                q(0.99));
  }
  return 0;
}
