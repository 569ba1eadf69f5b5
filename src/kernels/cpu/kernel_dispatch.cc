#include "kernels/cpu/kernel_dispatch.h"

#include <atomic>

#include "kernels/cpu/cpu_features.h"

namespace mlos::kernels {
namespace {
// Test-only override; kernels read it once per call.
std::atomic<bool> g_force_portable{false};
}  // namespace

bool KernelsUseAvx2() {
  return !g_force_portable.load(std::memory_order_relaxed) && UseAvx2() && GetCpuFeatures().f16c;
}

void SetKernelsForcePortableForTesting(bool force_portable) {
  g_force_portable.store(force_portable, std::memory_order_relaxed);
}

}  // namespace mlos::kernels
