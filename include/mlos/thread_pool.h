// ThreadPool: the one pool of worker threads that every kernel and session shares.
//
// ParallelFor splits [0, n) into chunks and runs them on the workers and on the calling thread,
// returning when all are done. Several threads may call ParallelFor at once (concurrent
// sessions); their jobs share the workers. A ParallelFor issued from inside a chunk runs inline,
// so kernels may nest freely without deadlock or oversubscription.
// The callable must not throw: kernels report errors through Status, not exceptions.
// Workers spin briefly before sleeping so back-to-back small operators do not pay a wake-up.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace mlos {

// A non-owning reference to a callable void(int64_t begin, int64_t end); no allocation.
class RangeFn {
 public:
  template <typename Fn>
  RangeFn(Fn& fn)  // NOLINT: implicit by design
      : obj_(&fn), call_([](void* o, int64_t b, int64_t e) { (*static_cast<Fn*>(o))(b, e); }) {}
  void operator()(int64_t b, int64_t e) const { call_(obj_, b, e); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t);
};

class ThreadPool {
 public:
  // `num_threads` is the total parallelism, the calling thread included (num_threads - 1
  // workers are started). 0 means DefaultThreadCount().
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs fn(begin, end) over [0, n) in chunks of at least `grain` elements.
  template <typename Fn>
  void ParallelFor(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    if (num_threads_ == 1 || n <= grain || InsideParallelRegion()) {
      fn(int64_t{0}, n);
      return;
    }
    RangeFn ref(fn);
    Run(n, grain, ref);
  }

  // Runs fn(i, i + 1) for i in [0, tasks): exactly `tasks` independent tasks, for kernels that
  // partition work themselves (e.g. one task per thread).
  template <typename Fn>
  void ParallelTasks(int64_t tasks, Fn&& fn) {
    if (tasks <= 0) return;
    if (num_threads_ == 1 || tasks == 1 || InsideParallelRegion()) {
      for (int64_t i = 0; i < tasks; ++i) fn(i, i + 1);
      return;
    }
    RangeFn ref(fn);
    RunChunks(tasks, 1, ref);
  }

  // Threads available to this process: its CPU affinity mask, at least 1.
  static int DefaultThreadCount();
  // True on a pool thread while it runs a chunk, or on a caller inside ParallelFor.
  static bool InsideParallelRegion();

 private:
  struct Job {
    RangeFn fn;
    int64_t n;
    int64_t chunk;
    int64_t num_chunks;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::atomic<int> workers_inside{0};
  };

  void Run(int64_t n, int64_t grain, RangeFn fn);
  void RunChunks(int64_t n, int64_t chunk, RangeFn fn);
  static void Drain(Job& job);
  void WorkerLoop();
  Job* TakeJob();  // with mu_ held; registers the worker inside the job

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> jobs_;
  std::atomic<int> pending_{0};  // jobs_ size, readable without the lock while spinning
  bool stop_ = false;
};

}  // namespace mlos
