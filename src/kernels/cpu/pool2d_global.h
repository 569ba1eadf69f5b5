// Global average pooling over many small planes (a CNN head's 1280 x 7x7): the ISA body that
// sums 8 planes at a time and reduces their partial sums together, instead of one horizontal
// reduction (and call) per plane. Pure over its arguments; thread-safe.
#pragma once

#include <cstdint>

namespace mlos::kernels::internal {

// y[p] = mean of x[p * hw .. p * hw + hw) for p < planes. AVX2 body (pool2d_global_avx2.cc);
// call only when KernelsUseAvx2().
void GlobalAveragePlanesAvx2(const float* x, int64_t planes, int64_t hw, float* y);

}  // namespace mlos::kernels::internal
