// The strided GEMM driver (first version: simple, blocked, portable).
#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_internal.h"

namespace mlos::kernels::gemm_internal {

Isa BestIsa() { return Isa::kPortable; }

bool IsaSupported(Isa isa) { return isa == Isa::kPortable || isa == Isa::kAuto; }

void ScaleBiasActivate(const StridedGemm& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) {
      float v = g.beta == 0.f ? 0.f : g.beta * row[j];
      if (g.bias != nullptr) v += g.bias[j];
      row[j] = v;
    }
    ApplyActivation(g.act, row, g.n);
  }
}

void RunGemm(const StridedGemm& g, Isa /*isa*/, ThreadPool& pool, int max_tasks) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) {
    ScaleBiasActivate(g);
    return;
  }
  int tasks = max_tasks > 0 ? std::min(max_tasks, pool.num_threads()) : pool.num_threads();
  tasks = static_cast<int>(std::min<int64_t>(tasks, g.m));
  auto body = [&](int64_t t, int64_t) {
    const int64_t i0 = g.m * t / tasks, i1 = g.m * (t + 1) / tasks;
    std::vector<float> acc(static_cast<size_t>(g.n));
    for (int64_t i = i0; i < i1; ++i) {
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t p = 0; p < g.k; ++p) {
        const float av = g.a[i * g.a_rs + p * g.a_cs];
        const float* brow = g.b + p * g.b_rs;
        for (int64_t j = 0; j < g.n; ++j) acc[j] += av * brow[j * g.b_cs];
      }
      float* row = g.c + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) {
        float v = g.alpha * acc[j];
        if (g.beta != 0.f) v += g.beta * row[j];
        if (g.bias != nullptr) v += g.bias[j];
        row[j] = v;
      }
      ApplyActivation(g.act, row, g.n);
    }
  };
  pool.ParallelTasks(tasks, body);
}

}  // namespace mlos::kernels::gemm_internal
