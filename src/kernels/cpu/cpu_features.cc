#include "kernels/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace mlos::kernels {

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.f16c = __builtin_cpu_supports("f16c");
    f.avx512f = __builtin_cpu_supports("avx512f");
#endif
    const char* off = std::getenv("MLOS_DISABLE_AVX2");
    if (off != nullptr && std::strcmp(off, "1") == 0) f.avx2 = f.fma = f.avx512f = false;
    return f;
  }();
  return features;
}

}  // namespace mlos::kernels
