// Direct convolution for few input channels (the 3-channel stem conv of image CNNs), where
// im2col's K = C * kh * kw (27 for 3x3 RGB) would leave most of the GEMM's k-blocks empty.
// Stateless; each pool thread fills the padded input rows of its bands into its own
// ConvScratch; the work runs on the shared pool passed in.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv_internal.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels::internal {

// Inputs with at most this many channels (groups == 1) take the direct kernel.
constexpr int64_t kSmallConvMaxChannels = 4;
// Most taps (channels x kh x kw) the direct kernel takes (a 7x7 stem over 4 channels).
constexpr int64_t kSmallConvMaxTaps = 196;

// x: n x g.c x g.h x g.w, w: m x g.c x g.kh x g.kw, bias: m or null, y: n x m x g.oh x g.ow;
// g.act is fused. Returns false, having written nothing, when this CPU or shape is not
// handled (no AVX-512, more than kSmallConvMaxChannels channels, too many taps, no scratch).
bool SmallChannelConv2d(const float* x, const float* w, const float* bias, int64_t n, int64_t m,
                        const DepthwiseGeom& g, float* y, ThreadPool& pool);

// The AVX-512 body: tasks [begin, end) of (output row oy, block of 4 output channels cb),
// task = oy * ceil(m / 4) + cb, over the g.oh rows of geometry g (a band of rows: its padded
// planes, FillPaddedPlanes layout `l`, plane c at planes + c * l.floats, are filled). Output
// row oy of channel o is written at y + o * y_plane + oy * g.ow. Call only on a CPU with
// AVX-512F.
void SmallChannelRowsAvx512(const DepthwiseGeom& g, const PaddedLayout& l, const float* planes,
                            const float* w, const float* bias, int64_t m, float* y, int64_t y_plane,
                            int64_t begin, int64_t end);

// Plain-loop form (any CPU) of output rows [oy0, oy1) of all m channels of one image (x: g.c
// planes g.h x g.w; y: m planes g.oh x g.ow), activation included: the fallback of a pool
// thread whose scratch cannot grow.
void SmallChannelRowsScalar(const DepthwiseGeom& g, const float* x, const float* w,
                            const float* bias, int64_t m, float* y, int64_t oy0, int64_t oy1);

}  // namespace mlos::kernels::internal
