// 1x1 stride-1 convolution with a constant weight packed once into the GEMM micro-kernel's
// A panels: Y (M x HW) = W (M x C) X (C x HW) per image, written straight into NCHW with the
// per-channel bias and activation fused. Only the (small) input planes are packed per call,
// so neither the weight packing nor a transpose of the output is paid on each run.
//
// Ownership: a PackedPointwiseWeight owns its packed copy (the source weight is not kept).
// Thread-safety: immutable after Pack; any number of concurrent PointwiseConvPacked calls may
// share it (they split their work over the given pool and use thread-local scratch).
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/cpu/activation.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

namespace gemm_internal {
struct KernelSet;
}

class PackedPointwiseWeight {
 public:
  // Packs w (m x c, row-major). ResourceExhausted when the copy cannot be allocated;
  // InvalidArgument for non-positive sizes.
  static Result<std::shared_ptr<const PackedPointwiseWeight>> Pack(const float* w, int64_t m,
                                                                   int64_t c);
  int64_t m() const { return m_; }
  int64_t c() const { return c_; }

 private:
  friend void PointwiseConvPacked(const PackedPointwiseWeight&, const float*, int64_t, const float*,
                                  const ActivationParams&, float*, ThreadPool&);
  friend void PointwiseFallback(const PackedPointwiseWeight&, const float*, int64_t, const float*,
                                const ActivationParams&, float*, int64_t, int64_t);
  PackedPointwiseWeight() = default;
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  const gemm_internal::KernelSet* ks_ = nullptr;
  int64_t m_ = 0, c_ = 0, m_pad_ = 0;
  std::unique_ptr<float, FreeDeleter> data_;  // depth blocks of ks_->kc, each m_pad_ x kc
};

// One image: y[o * hw + q] = act(bias[o] + sum_ch w[o][ch] * x[ch * hw + q]). x holds c planes
// of hw floats, y m planes; bias may be null. Falls back to a plain loop (slow, correct) when
// scratch cannot be allocated.
void PointwiseConvPacked(const PackedPointwiseWeight& w, const float* x, int64_t hw,
                         const float* bias, const ActivationParams& act, float* y,
                         ThreadPool& pool);

}  // namespace mlos::kernels

namespace mlos::kernels {

// y[j * rows + i] = yt[i * cols + j] for i < rows, j < cols: a row-major rows x cols matrix
// into its transpose (HW x M output of a transposed 1x1 convolution into M planes). Splits
// the columns over the pool; 8 x 8 register blocks when AVX2 is available.
// The unpacked direct form of PointwiseConvPacked for a row-major weight w (m x c): register
// tiles fed straight from the input rows (no packing pass, nothing allocated). Call only when
// PointwiseDirectAvailable(); otherwise returns false and writes nothing.
bool PointwiseDirectAvailable();  // AVX-512 present and the kernels not forced portable
// Whether the direct kernel beats the generic packed GEMM for this shape (m outputs, c inputs,
// hw positions; planes at least as large as the weight). Not for very few input channels
// expanded several-fold (16 -> 96 @112): the output stores dominate and the GEMM path measured
// faster in the whole model (0.35 vs 0.40 ms).
inline bool PointwiseDirectPreferred(int64_t m, int64_t c, int64_t /*hw*/) {
  return !(c <= 16 && m >= 4 * c);
}
bool PointwiseConvDirect(const float* w, int64_t m, int64_t c, const float* x, int64_t hw,
                         const float* bias, const ActivationParams& act, float* y,
                         ThreadPool& pool);

// A 1x1 convolution with strides (sh, sw) and no padding on one image (c planes of h x wd):
// the strided input positions are gathered once into contiguous oh x ow planes (thread-local
// scratch of the calling thread) and PointwiseConvDirect runs on them, where the implicit GEMM
// would copy the stride phase and then pack it. Returns false (nothing written) when the direct
// kernel is unavailable or scratch cannot be had.
bool StridedPointwiseConvDirect(const float* w, int64_t m, int64_t c, const float* x, int64_t h,
                                int64_t wd, int64_t sh, int64_t sw, int64_t oh, int64_t ow,
                                const float* bias, const ActivationParams& act, float* y,
                                ThreadPool& pool);

// y = act(yt^T + sum): yt is rows x cols (a pixel per row), y and the optional addend `sum` are
// cols planes of rows. Split over column blocks of 8 on the pool.
void TransposeToPlanes(const float* yt, int64_t rows, int64_t cols, float* y, ThreadPool& pool,
                       const float* sum = nullptr, const ActivationParams& act = {});

}  // namespace mlos::kernels
