// AVX2/FMA GEMM kernel set: a 6x16 register tile (12 ymm accumulators, 2 B vectors and one
// broadcast in flight), with beta, bias and ReLU applied in registers while the tile is hot.
// Compiled with -mavx2 -mfma; entered only after the run-time check (UseAvx2()).
#include <immintrin.h>

#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

inline __m256 Epilogue(__m256 v, float* c, const float* bias, const TileEpilogue& ep, bool relu) {
  if (ep.first) {
    if (ep.beta != 0.f) v = _mm256_fmadd_ps(_mm256_set1_ps(ep.beta), _mm256_loadu_ps(c), v);
  } else {
    v = _mm256_add_ps(v, _mm256_loadu_ps(c));
  }
  if (ep.last) {
    if (bias != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v);  // NaN stays NaN
  }
  return v;
}

void Avx2Kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr, int nr,
                const TileEpilogue& ep) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += kMr;
    bp += kNr;
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                              {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == kMr && nr == kNr) {
    const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
    const float* bias = ep.last ? ep.bias : nullptr;
    for (int i = 0; i < kMr; ++i) {
      float* row = c + i * ldc;
      _mm256_storeu_ps(row, Epilogue(acc[i][0], row, bias, ep, relu));
      _mm256_storeu_ps(row + 8, Epilogue(acc[i][1], row + 8, bias ? bias + 8 : nullptr, ep, relu));
      if (ep.last && ep.act != nullptr && !relu) ApplyActivation(*ep.act, row, kNr);
    }
    return;
  }
  alignas(32) float tile[kMr][kNr];
  for (int i = 0; i < kMr; ++i) {
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
  }
  StoreTileScalar(&tile[0][0], kNr, c, ldc, mr, nr, ep);
}

// One 32-column block at a time, all of k in registers: B rows are read once, in order.
template <int M>
void SmallMRows(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                int64_t ldb, float* c, int64_t ldc, float alpha, const TileEpilogue& ep) {
  constexpr int kV = 4;
  const float* arow[M];
  for (int i = 0; i < M; ++i) arow[i] = a + i * a_rs;
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  const bool other_act = ep.last && ep.act != nullptr && !relu;
  for (int64_t j0 = 0; j0 < n; j0 += 8 * kV) {
    const int64_t cols = n - j0 < 8 * kV ? n - j0 : 8 * kV;
    __m256 acc[M][kV];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < kV; ++v) acc[i][v] = _mm256_setzero_ps();
    }
    if (cols == 8 * kV) {
      const float* bp = b + j0;
      for (int64_t p = 0; p < k; ++p, bp += ldb) {
        __m256 av[M];
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) av[i] = _mm256_broadcast_ss(arow[i] + p * a_cs);
#pragma GCC unroll 4
        for (int v = 0; v < kV; ++v) {
          const __m256 bv = _mm256_loadu_ps(bp + 8 * v);
#pragma GCC unroll 4
          for (int i = 0; i < M; ++i) acc[i][v] = _mm256_fmadd_ps(av[i], bv, acc[i][v]);
        }
      }
      const __m256 alpha_v = _mm256_set1_ps(alpha), beta_v = _mm256_set1_ps(ep.beta);
      for (int i = 0; i < M; ++i) {
        float* row = c + i * ldc + j0;
        for (int v = 0; v < kV; ++v) {
          __m256 x = _mm256_mul_ps(acc[i][v], alpha_v);
          if (!ep.first) {
            x = _mm256_add_ps(x, _mm256_loadu_ps(row + 8 * v));
          } else if (ep.beta != 0.f) {
            x = _mm256_fmadd_ps(beta_v, _mm256_loadu_ps(row + 8 * v), x);
          }
          if (ep.last && ep.bias != nullptr) {
            x = _mm256_add_ps(x, _mm256_loadu_ps(ep.bias + j0 + 8 * v));
          }
          if (relu) x = _mm256_max_ps(_mm256_setzero_ps(), x);  // NaN stays NaN
          _mm256_storeu_ps(row + 8 * v, x);
        }
        if (other_act) ApplyActivation(*ep.act, row, 8 * kV);
      }
    } else {
      // Column tail: scalar accumulation into a tile, then the shared scalar epilogue.
      float tile[M][8 * kV];
      for (int i = 0; i < M; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          float s = 0.f;
          for (int64_t p = 0; p < k; ++p) s += arow[i][p * a_cs] * b[p * ldb + j0 + j];
          tile[i][j] = alpha * s;
        }
      }
      TileEpilogue tail = ep;
      tail.bias = ep.bias != nullptr ? ep.bias + j0 : nullptr;
      StoreTileScalar(&tile[0][0], 8 * kV, c + j0, ldc, M, static_cast<int>(cols), tail);
    }
  }
}

void Avx2SmallM(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                const TileEpilogue& ep) {
  switch (m) {
    case 1:
      return SmallMRows<1>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    case 2:
      return SmallMRows<2>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    default:
      return SmallMRows<3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
  }
}

}  // namespace

const KernelSet& Avx2Kernels() {
  static const KernelSet set = {"avx2",
                                kMr,
                                kNr,
                                /*mc=*/144,
                                /*kc=*/256,
                                /*nc=*/4096,
                                &Avx2Kernel,
                                &PackATemplate<kMr>,
                                &PackBTemplate<kNr>,
                                /*small_m=*/3,
                                /*small_m_nr=*/32,
                                &Avx2SmallM};
  return set;
}

}  // namespace mlos::kernels::gemm_internal
