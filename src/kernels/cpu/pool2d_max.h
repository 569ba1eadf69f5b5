// Direct AVX-512 max pooling over NCHW float planes (internal to pool2d.cc). Reads the input rows
// in place. Stride-2 pools of width 3 with left pad 1 or width 2 without (the CNN stem pools) keep
// everything in registers; other shapes: each output row first takes the vertical max of its
// (clipped) window rows into a small per-thread row buffer that carries -inf padding, then the
// horizontal max over that buffer with full-width loads (stride 2 deinterleaves even/odd lanes with
// a permute). NaN anywhere in a window makes that output NaN. Stateless; uses a thread_local
// scratch row, so concurrent calls on different threads are safe. Entered only after the run-time
// AVX-512 check.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv_internal.h"

namespace mlos::kernels::internal {

// Planes [begin, end) of x (g.h x g.w each) into y (g.oh x g.ow each); g's pads, strides and
// dilations apply (g.act is ignored). Returns false (nothing written) when scratch memory cannot
// be had, so the caller falls back.
bool MaxPoolDirectAvx512(const DepthwiseGeom& g, const float* x, float* y, int64_t begin,
                         int64_t end);

}  // namespace mlos::kernels::internal
