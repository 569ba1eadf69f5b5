// Depthwise convolution straight from the input planes (no padded copy), AVX-512, for the
// common network shapes: 3x3 and 5x5 kernels, the same stride 1 or 2 on both axes, no
// dilation, input rows up to 2048 wide. Internal to the CPU kernels; a pure function of its
// arguments, safe to call from several threads on disjoint plane ranges.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv_internal.h"

namespace mlos::kernels::internal {

// True when DepthwiseDirectAvx512 handles this geometry (the caller checked AVX-512 support).
bool DepthwiseDirectSupported(const DepthwiseGeom& g);

// Planes [begin, end) of the n*c planes, bias and activation fused. Only for geometries
// DepthwiseDirectSupported accepts; returns false (nothing done) otherwise.
bool DepthwiseDirectAvx512(const DepthwiseGeom& g, const float* x, const float* w,
                           const float* bias, float* y, int64_t begin, int64_t end);

}  // namespace mlos::kernels::internal
