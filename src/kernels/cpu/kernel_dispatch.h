// Dispatch switch shared by the non-GEMM CPU kernels: whether the AVX2 paths may be entered.
//
// KernelsUseAvx2() is UseAvx2() (run-time CPU check, MLOS_DISABLE_AVX2) unless a test has forced
// the portable path with SetKernelsForcePortableForTesting(true). The flag is a process-wide
// relaxed atomic read once per kernel call; it exists so one test binary can run both paths.
// Thread-safe; flip it only while no kernel is running.
#pragma once

namespace mlos::kernels {

bool KernelsUseAvx2();
void SetKernelsForcePortableForTesting(bool force_portable);

}  // namespace mlos::kernels
