// AVX-512 small-m kernel for a transposed B: C elements as dot products of contiguous runs of
// A rows and B columns (no packing), 4 rows x 4 columns of 16-wide partial sums at a time, the
// k tail through masked loads. See SmallMDotKernelFn in gemm_kernels.h.
// Target switched by pragma after the standard headers, as in gemm_avx512.cc; entered only
// after the run-time check (UseAvx512()).
#include <cstdint>

#include "kernels/cpu/gemm_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's AVX-512 intrinsics pass an intentionally undefined vector through and then warn
// about it (-Wmaybe-uninitialized) where they are inlined; the warning is spurious.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kCols = 4;

// Sum of the 16 lanes.
float HorizontalSum(__m512 v) {
  __m512 t = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));  // + other 256-bit half
  t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xB1));         // + neighbouring 128 bits
  __m128 s = _mm512_castps512_ps128(t);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void StoreDot(float s, float* dst, int64_t j, const TileEpilogue& ep) {
  float v = s;
  if (!ep.first) {
    v += *dst;
  } else if (ep.beta != 0.f) {
    v += ep.beta * *dst;
  }
  if (ep.last && ep.bias != nullptr) v += ep.bias[j];
  *dst = v;
}

template <int M>
void DotRows(int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldbt,
             float* c, int64_t ldc, float alpha, const TileEpilogue& ep) {
  const int64_t kv = k / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - kv)) - 1);
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int cols = n - j0 < kCols ? static_cast<int>(n - j0) : kCols;
    const float* bcol[kCols];
    for (int jj = 0; jj < kCols; ++jj) bcol[jj] = b + (j0 + (jj < cols ? jj : cols - 1)) * ldbt;
    __m512 acc[M][kCols];
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int jj = 0; jj < kCols; ++jj) acc[i][jj] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < kv; p += 16) {
      __m512 bv[kCols];
#pragma GCC unroll 4
      for (int jj = 0; jj < kCols; ++jj) bv[jj] = _mm512_loadu_ps(bcol[jj] + p);
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_loadu_ps(a + i * lda + p);
#pragma GCC unroll 4
        for (int jj = 0; jj < kCols; ++jj) acc[i][jj] = _mm512_fmadd_ps(av, bv[jj], acc[i][jj]);
      }
    }
    if (kv < k) {
      __m512 bv[kCols];
      for (int jj = 0; jj < kCols; ++jj) bv[jj] = _mm512_maskz_loadu_ps(tail, bcol[jj] + kv);
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_maskz_loadu_ps(tail, a + i * lda + kv);
        for (int jj = 0; jj < kCols; ++jj) acc[i][jj] = _mm512_fmadd_ps(av, bv[jj], acc[i][jj]);
      }
    }
    for (int i = 0; i < M; ++i) {
      for (int jj = 0; jj < cols; ++jj) {
        StoreDot(alpha * HorizontalSum(acc[i][jj]), c + i * ldc + j0 + jj, j0 + jj, ep);
      }
    }
  }
  if (ep.last && ep.act != nullptr) {
    for (int i = 0; i < M; ++i) ApplyActivation(*ep.act, c + i * ldc, n);
  }
}

}  // namespace

void Avx512SmallMDot(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t /*a_cs*/,
                     const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                     const TileEpilogue& ep) {
  switch (m) {
    case 1:
      return DotRows<1>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
    case 2:
      return DotRows<2>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
    case 3:
      return DotRows<3>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
    default:
      return DotRows<4>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
  }
}

}  // namespace mlos::kernels::gemm_internal

#pragma GCC diagnostic pop
#pragma GCC pop_options
