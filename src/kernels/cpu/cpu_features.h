// Run-time CPU feature detection for kernel dispatch.
#pragma once

namespace mlos::kernels {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
};

// Detected once (thread-safe static); MLOS_DISABLE_AVX2=1 in the environment forces the
// portable path, which the tests use to check both paths.
const CpuFeatures& GetCpuFeatures();
inline bool UseAvx2() { return GetCpuFeatures().avx2 && GetCpuFeatures().fma; }

}  // namespace mlos::kernels
