// AVX-512 GEMM kernel set: a 12x32 register tile (24 zmm accumulators, 2 B vectors, broadcasts
// folded into the FMAs), epilogue with masked loads/stores for partial tiles.
// The build gives ISA flags only to *_avx2.cc files, so this file switches the target with a
// pragma after the standard headers (their inline functions stay baseline code) and before
// anything that is instantiated here. Entered only after the run-time check (avx512f).
#include <cstdint>

#include "kernels/cpu/gemm_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 12;
constexpr int kVecs = 2;  // zmm vectors per tile row
constexpr int kNr = 16 * kVecs;

void Avx512Kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                  int nr, const TileEpilogue& ep) {
  __m512 acc[kMr][kVecs];
#pragma GCC unroll 32
  for (int i = 0; i < kMr; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNr - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) b[v] = _mm512_load_ps(bp + 16 * v);
#pragma GCC unroll 32
    for (int i = 0; i < kMr; ++i) {
      const __m512 a = _mm512_set1_ps(ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
    ap += kMr;
    bp += kNr;
  }

  // Epilogue: masks cover partial tiles, so every shape stays vectorised.
  __mmask16 masks[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    const int cols = nr - 16 * v;
    masks[v] = cols >= 16  ? __mmask16(0xFFFF)
               : cols <= 0 ? __mmask16(0)
                           : __mmask16((1u << cols) - 1);
  }
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  const bool other_act = ep.last && ep.act != nullptr && !relu;
  const __m512 beta = _mm512_set1_ps(ep.beta);
  __m512 bias[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    bias[v] = ep.last && ep.bias != nullptr ? _mm512_maskz_loadu_ps(masks[v], ep.bias + 16 * v)
                                            : _mm512_setzero_ps();
  }
#pragma GCC unroll 32
  for (int i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      __m512 x = acc[i][v];
      if (ep.first) {
        if (ep.beta != 0.f) {
          x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(masks[v], row + 16 * v), x);
        }
      } else {
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], row + 16 * v));
      }
      x = _mm512_add_ps(x, bias[v]);
      // Masked form (GCC 12 warns on the plain one); zero first so a NaN stays NaN.
      if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
      _mm512_mask_storeu_ps(row + 16 * v, masks[v], x);
    }
    if (other_act) ApplyActivation(*ep.act, row, nr);
  }
}

// One 64-column block at a time, all of k in registers: B rows are read once, in order.
template <int M>
void SmallMRows(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                int64_t ldb, float* c, int64_t ldc, float alpha, const TileEpilogue& ep) {
  constexpr int kV = 4;
  const float* arow[M];
  for (int i = 0; i < M; ++i) arow[i] = a + i * a_rs;
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  const bool other_act = ep.last && ep.act != nullptr && !relu;
  for (int64_t j0 = 0; j0 < n; j0 += 16 * kV) {
    const int64_t cols = n - j0 < 16 * kV ? n - j0 : 16 * kV;
    __mmask16 masks[kV];
    for (int v = 0; v < kV; ++v) {
      const int64_t left = cols - 16 * v;
      masks[v] = left >= 16  ? __mmask16(0xFFFF)
                 : left <= 0 ? __mmask16(0)
                             : __mmask16((1u << left) - 1);
    }
    __m512 acc[M][kV];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < kV; ++v) acc[i][v] = _mm512_setzero_ps();
    }
    const float* bp = b + j0;
    if (cols == 16 * kV) {
      for (int64_t p = 0; p < k; ++p, bp += ldb) {
        __m512 bv[kV];
#pragma GCC unroll 4
        for (int v = 0; v < kV; ++v) bv[v] = _mm512_loadu_ps(bp + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) {
          const __m512 av = _mm512_set1_ps(arow[i][p * a_cs]);
#pragma GCC unroll 4
          for (int v = 0; v < kV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
      }
    } else {
      for (int64_t p = 0; p < k; ++p, bp += ldb) {
        __m512 bv[kV];
#pragma GCC unroll 4
        for (int v = 0; v < kV; ++v) bv[v] = _mm512_maskz_loadu_ps(masks[v], bp + 16 * v);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) {
          const __m512 av = _mm512_set1_ps(arow[i][p * a_cs]);
#pragma GCC unroll 4
          for (int v = 0; v < kV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
      }
    }
    const __m512 alpha_v = _mm512_set1_ps(alpha), beta_v = _mm512_set1_ps(ep.beta);
    for (int i = 0; i < M; ++i) {
      float* row = c + i * ldc + j0;
      for (int v = 0; v < kV; ++v) {
        __m512 x = _mm512_mul_ps(acc[i][v], alpha_v);
        if (!ep.first) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], row + 16 * v));
        } else if (ep.beta != 0.f) {
          x = _mm512_fmadd_ps(beta_v, _mm512_maskz_loadu_ps(masks[v], row + 16 * v), x);
        }
        if (ep.last && ep.bias != nullptr) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], ep.bias + j0 + 16 * v));
        }
        if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
        _mm512_mask_storeu_ps(row + 16 * v, masks[v], x);
      }
      if (other_act) ApplyActivation(*ep.act, row, cols);
    }
  }
}

void Avx512SmallM(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                  const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                  const TileEpilogue& ep) {
  switch (m) {
    case 1:
      return SmallMRows<1>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    case 2:
      return SmallMRows<2>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    case 3:
      return SmallMRows<3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    default:
      return SmallMRows<4>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
  }
}

}  // namespace

const KernelSet& Avx512Kernels() {
  static const KernelSet set = {"avx512",
                                kMr,
                                kNr,
                                /*mc=*/192,
                                /*kc=*/256,
                                /*nc=*/4096,
                                &Avx512Kernel,
                                &PackATemplate<kMr>,
                                &PackBTemplate<kNr>,
                                /*small_m=*/4,
                                /*small_m_nr=*/64,
                                &Avx512SmallM};
  return set;
}

}  // namespace mlos::kernels::gemm_internal

#pragma GCC pop_options
