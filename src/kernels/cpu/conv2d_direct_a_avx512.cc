// The 14-row direct-A micro-kernel (conv2d_direct_a.h). Like gemm_avx512.cc, this file switches
// the target with a pragma after the standard headers and is entered only after the run-time
// check (DirectA14Available).
// 14 rows x 2 vectors: 28 accumulators + 2 B vectors + 1 broadcast = 31 of the 32 zmm
// registers; each depth step does 28 FMAs for 2 B loads and 14 broadcasts (12 rows: 24 for 2 +
// 12), and 14-pixel rows (ResNet's 14x14 layer) need no partial tile.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv2d_direct_a.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/prepacked_gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

namespace mlos::kernels::internal {
namespace {

constexpr int kNr = 32;

// M rows, the first S from arow, the rest from arow + gap; V (1 or 2) vectors per row.
template <int M, int S, int V>
void Rows(int64_t kc, const float* a, const int64_t* aoffs, int64_t gap, const float* bp, float* c,
          int64_t ldc, int mr, int nr, const gemm_internal::TileEpilogue& ep) {
  __m512 acc[M][V];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    if (V > 1) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNr - 1), _MM_HINT_T0);
  }
  // Without a next sliver, touch this one (already in L1): no branch in the loop.
  const char* pf = reinterpret_cast<const char*>(ep.prefetch_b != nullptr ? ep.prefetch_b : bp);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    _mm_prefetch(pf, _MM_HINT_T1);
    _mm_prefetch(pf + 64, _MM_HINT_T1);
    pf += kNr * sizeof(float);
    __m512 b[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(bp + 16 * v);
    const float* arow = a + aoffs[p];
    const float* arow2 = arow + gap;
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const __m512 x = _mm512_set1_ps(i < S ? arow[i] : arow2[i]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(x, b[v], acc[i][v]);
    }
    bp += kNr;
  }

  __mmask16 masks[V];
  for (int v = 0; v < V; ++v) {
    const int cols = nr - 16 * v;
    masks[v] = cols >= 16  ? __mmask16(0xFFFF)
               : cols <= 0 ? __mmask16(0)
                           : __mmask16((1u << cols) - 1);
  }
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  const bool other_act = ep.last && ep.act != nullptr && !relu;
  __m512 bias[V];
  for (int v = 0; v < V; ++v) {
    bias[v] = ep.last && ep.bias != nullptr ? _mm512_maskz_loadu_ps(masks[v], ep.bias + 16 * v)
                                            : _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m512 x = acc[i][v];
      if (!ep.first) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], row + 16 * v));
      x = _mm512_add_ps(x, bias[v]);
      // Masked form (GCC 12 warns on the plain one); zero first so a NaN stays NaN.
      if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
      _mm512_mask_storeu_ps(row + 16 * v, masks[v], x);
    }
    if (other_act) ApplyActivation(*ep.act, row, nr);
  }
}

}  // namespace

bool DirectA14Available() {
  static const bool ok = gemm_internal::UseAvx512() && MicroKernels().nr == kNr &&
                         MicroKernels().direct_a_kernel != nullptr;
  return ok;
}

void DirectA14Kernel(int64_t kc, const float* a, const int64_t* aoffs, int split, int64_t gap,
                     const float* bp, float* c, int64_t ldc, int mr, int nr,
                     const gemm_internal::TileEpilogue& ep) {
  constexpr int M = kDirectA14Rows;
  if (split == M / 2) {
    if (nr <= 16) return Rows<M, M / 2, 1>(kc, a, aoffs, gap, bp, c, ldc, mr, nr, ep);
    return Rows<M, M / 2, 2>(kc, a, aoffs, gap, bp, c, ldc, mr, nr, ep);
  }
  if (nr <= 16) return Rows<M, M, 1>(kc, a, aoffs, gap, bp, c, ldc, mr, nr, ep);
  return Rows<M, M, 2>(kc, a, aoffs, gap, bp, c, ldc, mr, nr, ep);
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
