// Helpers shared by convolution and pooling: output sizes, the range of output columns whose
// input tap is inside the image, and the direct depthwise convolution. Internal to the CPU
// kernels; pure functions over caller-owned buffers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/nn.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {
class PackedMatrix;  // prepacked_gemm.h
}  // namespace mlos::kernels

namespace mlos::kernels::internal {

// Output length along one axis: floor (or ceil) of (in + pads - dil*(k-1) - 1) / stride + 1.
// In ceil mode the last window must start inside the input or the leading pad (PyTorch/ONNX
// rule). Returns 0 when the kernel does not fit in the padded input.
inline int64_t PooledSize(int64_t in, int64_t k, int64_t stride, int64_t pad0, int64_t pad1,
                          int64_t dil, bool ceil_mode) {
  const int64_t span = in + pad0 + pad1 - dil * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad0) --out;
  return out;
}

struct Span1D {
  int64_t begin, end;
};

// Output positions o in [0, out) with 0 <= o * stride + offset < in.
inline Span1D ValidOutputRange(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  // o >= ceil(-offset / stride) and o <= floor((in - 1 - offset) / stride).
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = (in - 1 - offset) < 0 ? 0 : (in - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
  return {lo, hi};
}

// Geometry of a depthwise convolution (groups == C == M) of one image; strides, dilations and
// the leading pads (trailing pads only matter through oh/ow).
struct DepthwiseGeom {
  int64_t c, h, w, kh, kw, oh, ow;
  int64_t sh, sw, dh, dw, pt, pl;
  ActivationParams act;
};

// Which kernel set runs the depthwise convolution (kAuto: the best this CPU and the test switch
// in kernel_dispatch.h allow; an unsupported choice falls back to kPortable).
enum class ConvIsa { kAuto, kPortable, kAvx2, kAvx512 };

// Depthwise convolution of n images (planes n*c), bias and activation fused, split over `pool`.
void DepthwiseConv2d(const float* x, const float* w, const float* bias, int64_t n,
                     const DepthwiseGeom& g, float* y, ThreadPool& pool,
                     ConvIsa isa = ConvIsa::kAuto);

// The per-ISA bodies (conv2d_depthwise_avx2.cc / _avx512.cc): planes [begin, end) of the n*c
// planes. Return false when scratch could not be allocated (the caller falls back).
bool DepthwisePlanesAvx2(const DepthwiseGeom& g, const float* x, const float* w, const float* bias,
                         float* y, int64_t begin, int64_t end);
bool DepthwisePlanesAvx512(const DepthwiseGeom& g, const float* x, const float* w,
                           const float* bias, float* y, int64_t begin, int64_t end);

// AVX2 max pooling of planes [begin, end) with the depthwise geometry (kh x kw window, act unused;
// AVX-512 pooling has its own direct kernel, pool2d_max.h),
// -inf outside the image; false when not handled (no scratch, window too large).
bool MaxPoolPlanesAvx2(const DepthwiseGeom& g, const float* x, float* y, int64_t begin,
                       int64_t end);

// Zero-padded copies of input planes split into stride_w column phases (the depthwise kernels'
// layout, 16-lane rounding), which turn every im2col row into plain copies of contiguous runs.
// Plane c of FillPaddedPlanes starts at buf + c * floats; phase s, padded row r at
// (s * rows + r) * row_len; padded column q * sw + s at index q.
struct PaddedLayout {
  int64_t rows, row_len, floats;
};
PaddedLayout PaddedLayoutFor(const DepthwiseGeom& g);
void FillPaddedPlanes(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1, float* buf);
void FillPaddedPlanesAvx2(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                          float* buf);
void FillPaddedPlanesAvx512(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                            float* buf);

// Convolution of one image and group as an implicit GEMM (conv2d_implicit.cc): cg input planes
// h x w, mg output channels, weights mg x (cg*kh*kw) row-major, per-channel bias and the
// activation fused. Needs ImplicitConvScratchFloats(g) floats of scratch; kernels of at most
// 121 taps (ImplicitConvSupported).
struct ImplicitConvGeom {
  int64_t cg, h, w, mg, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl;
};
bool ImplicitConvSupported(const ImplicitConvGeom& g);
int64_t ImplicitConvScratchFloats(const ImplicitConvGeom& g);
// packed_w: optional, the group's weight prepacked by gemm_internal::PackA (kAuto ISA, alpha 1,
// mg x cg*kh*kw); when set, `w` is not read. sum: optional mg x oh*ow addend (y's layout)
// added before the activation.
void ImplicitGemmConv(const ImplicitConvGeom& g, const float* x, const float* w,
                      const float* row_bias, const ActivationParams& act, float* y, float* scratch,
                      ThreadPool& pool, const float* packed_w = nullptr,
                      const float* sum = nullptr);

// The transposed form for small output planes with many channels (ResNet's 7x7 and 14x14):
// Y^T (oh*ow x mg) = X_col^T W^T, with W^T prepacked as the micro-kernel's B
// (PackedMatrix::Pack(w, 1, k, k, mg)) and X_col^T packed straight from the padded planes,
// so the short pixel side is tiled by 12-row tiles instead of 32-column slivers (49 pixels:
// 52 rows computed instead of 64 columns; 196: 196 instead of 208). Preferred: whether it
// computes at least 3% less.
bool ImplicitConvTransposedPreferred(const ImplicitConvGeom& g);
int64_t ImplicitConvTScratchFloats(const ImplicitConvGeom& g);
// bias: mg values or null; sum: optional mg x oh*ow addend (y's layout) added before act.
void ImplicitGemmConvT(const ImplicitConvGeom& g, const float* x, const PackedMatrix& wt,
                       const float* bias, const ActivationParams& act, float* y, float* scratch,
                       ThreadPool& pool, const float* sum = nullptr);

// Grow-only, 64-byte-aligned per-thread scratch for the padded planes; nullptr on failure.
float* DepthwiseScratch(int64_t floats);
// The same for im2col matrices (a separate buffer: it is filled by several pool threads while
// the calling thread owns it). Contents undefined; valid until the thread's next call.
float* ConvScratch(int64_t floats);

}  // namespace mlos::kernels::internal
