// Integer GEMM for the quantized operators (MatMulInteger, QLinearMatMul, ConvInteger,
// QLinearConv): C[m, n] = sum_k (A[m, k] - a_zp) * (B[k, n] - b_zp) with int32 accumulation
// (wrapping on overflow, as the ONNX ops define int32 results).
//
// Operands are widened to int16 with the zero point subtracted (range [-255, 255]), B is packed
// into panels of 16 columns with k pairs interleaved, so the AVX2 path multiplies 16 pairs per
// vpmaddwd; a portable path computes the same sums. Work is split over the shared ThreadPool.
// Ownership: PackedB owns its buffer; packing is done once per constant weight (kernel
// factories) or per call. Thread-safety: a PackedB is read-only after packing, so concurrent
// GEMMs may share it.
#pragma once

#include <cstdint>
#include <vector>

#include "mlos/thread_pool.h"

namespace mlos::graph::ops {

inline constexpr int64_t kIntGemmNr = 16;  // columns per packed panel

struct PackedB {
  int64_t k = 0, n = 0;
  int64_t kp = 0;             // k rounded up to even
  std::vector<int16_t> data;  // panels x (kp / 2) x 16 columns x 2 k values
};

// Packs the K x N matrix whose element (k, n) is src[k * row_stride + n * col_stride], minus
// zp[n] (zp_per_col) or zp[0]. T is uint8_t, int8_t or int16_t.
template <typename T>
void PackIntB(const T* src, int64_t row_stride, int64_t col_stride, int64_t k, int64_t n,
              const int32_t* zp, bool zp_per_col, PackedB* out);

// Widens an M x K matrix (row stride lda) to int16 rows of kp values (zero padded), minus
// zp[m] (zp_per_row) or zp[0].
template <typename T>
void WidenIntA(const T* src, int64_t lda, int64_t m, int64_t k, int64_t kp, const int32_t* zp,
               bool zp_per_row, int16_t* dst);

// C (M x N, row stride ldc) = A16 (M x kp, from WidenIntA) * B.
void IntGemm(const int16_t* a, int64_t m, const PackedB& b, int32_t* c, int64_t ldc,
             ThreadPool& pool);

}  // namespace mlos::graph::ops
