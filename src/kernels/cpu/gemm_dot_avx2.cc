// AVX2/FMA small-m kernel for a transposed B: C elements as dot products of contiguous runs of
// A rows and B columns (no packing), 2 rows x 4 columns of 8-wide partial sums at a time, the
// k tail in scalar. See SmallMDotKernelFn in gemm_kernels.h. Compiled with -mavx2 -mfma;
// entered only after UseAvx2().
#include <immintrin.h>

#include "kernels/cpu/gemm_kernels.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kCols = 4;

float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
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
  const int64_t kv = k / 8 * 8;
  for (int64_t j0 = 0; j0 < n; j0 += kCols) {
    const int cols = n - j0 < kCols ? static_cast<int>(n - j0) : kCols;
    const float* bcol[kCols];
    for (int jj = 0; jj < kCols; ++jj) bcol[jj] = b + (j0 + (jj < cols ? jj : cols - 1)) * ldbt;
    __m256 acc[M][kCols];
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int jj = 0; jj < kCols; ++jj) acc[i][jj] = _mm256_setzero_ps();
    }
    for (int64_t p = 0; p < kv; p += 8) {
      __m256 bv[kCols];
#pragma GCC unroll 4
      for (int jj = 0; jj < kCols; ++jj) bv[jj] = _mm256_loadu_ps(bcol[jj] + p);
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) {
        const __m256 av = _mm256_loadu_ps(a + i * lda + p);
#pragma GCC unroll 4
        for (int jj = 0; jj < kCols; ++jj) acc[i][jj] = _mm256_fmadd_ps(av, bv[jj], acc[i][jj]);
      }
    }
    for (int i = 0; i < M; ++i) {
      for (int jj = 0; jj < cols; ++jj) {
        float s = HorizontalSum(acc[i][jj]);
        for (int64_t p = kv; p < k; ++p) s += a[i * lda + p] * bcol[jj][p];
        StoreDot(alpha * s, c + i * ldc + j0 + jj, j0 + jj, ep);
      }
    }
  }
  if (ep.last && ep.act != nullptr) {
    for (int i = 0; i < M; ++i) ApplyActivation(*ep.act, c + i * ldc, n);
  }
}

}  // namespace

void Avx2SmallMDot(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t /*a_cs*/,
                   const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                   const TileEpilogue& ep) {
  if (m == 1) return DotRows<1>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
  return DotRows<2>(n, k, a, a_rs, b, ldb, c, ldc, alpha, ep);
}

}  // namespace mlos::kernels::gemm_internal
