// bench_thread_pool: how promptly the shared pool's worker joins back-to-back small jobs, the
// pattern of an inference run (one parallel region per operator, a short serial gap between).
//
// usage: bench_thread_pool [--jobs N]
// For each job size it posts two-task jobs whose tasks busy-wait `work` microseconds, after a
// 10 us serial gap, and reports how many jobs the worker took part in and its pickup latency
// (job posted -> worker starts its task). A pool whose worker joins every job halves each
// operator's time; one that leaves the caller alone shows up as "joined" far below the count.
// A second table posts bursts of jobs after the worker has gone to sleep.
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
  // After sleep: the worker has slept (a 2 ms idle gap, past its spin time); then an inference
  // run's worth of short operators follows. The first job pays the wake-up; the rest should find
  // the worker spinning again, whether or not it woke in time for the first.
  std::printf("\nafter sleep: %d bursts of 20 jobs (2 tasks each, 5 us gaps)\n", jobs / 20);
  std::printf("%8s %14s\n", "work_us", "joined_2..20");
  for (double work : {10.0, 20.0, 50.0}) {
    int joined = 0, total = 0;
    for (int burst = 0; burst < std::max(1, jobs / 20); ++burst) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      for (int j = 0; j < 20; ++j) {
        BusyWait(5);
        std::atomic<bool> helped{false};
        pool.ParallelTasks(2, [&](int64_t, int64_t) {
          if (std::this_thread::get_id() != caller) helped = true;
          BusyWait(work);
        });
        if (j > 0) {
          ++total;
          joined += helped ? 1 : 0;
        }
      }
    }
    std::printf("%8.0f %8d/%-5d\n", work, joined, total);
  }
  return 0;
}
