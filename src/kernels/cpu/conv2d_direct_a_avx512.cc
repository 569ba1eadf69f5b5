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

#include "kernels/cpu/avx512_math.h"

namespace mlos::kernels::internal {
namespace {

constexpr int kNr = 32;
// Depth steps ahead that the whole-depth kernel pulls B toward L2 (8 KB: the first tile of a
// sliver reads it from memory; ResNet's 7x7 layers stream 9.4 MB of W^T per conv). Measured
// with the weights flushed from L3, 512ch 7x7: 8 steps 1.35 -> 64 steps 1.18 ms.
constexpr int64_t kFar = 64;

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
    masks[v] = LaneMask16(cols);
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

// Masked (maskz) forms with all lanes set: GCC 12 warns (maybe-uninitialized) on the plain ones.
constexpr __mmask16 kAll16 = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;

// In-register transpose of 16 rows of 16 floats (r[i] lane j -> r[j] lane i): 32-bit and
// 64-bit interleaves within 128-bit lanes, then a 4 x 4 transpose of the lanes.
inline void Transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(kAll16, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(kAll16, r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, a0, a2));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, a0, a2));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, a1, a3));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, a1, a3));
  }
  // r[4g + j], 128-bit lane l: column 4l + j of rows 4g .. 4g + 3.
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512 s0 = _mm512_maskz_shuffle_f32x4(kAll16, r[j], r[4 + j], 0x44);
    const __m512 s1 = _mm512_maskz_shuffle_f32x4(kAll16, r[j], r[4 + j], 0xEE);
    const __m512 s2 = _mm512_maskz_shuffle_f32x4(kAll16, r[8 + j], r[12 + j], 0x44);
    const __m512 s3 = _mm512_maskz_shuffle_f32x4(kAll16, r[8 + j], r[12 + j], 0xEE);
    t[j] = _mm512_maskz_shuffle_f32x4(kAll16, s0, s2, 0x88);
    t[4 + j] = _mm512_maskz_shuffle_f32x4(kAll16, s0, s2, 0xDD);
    t[8 + j] = _mm512_maskz_shuffle_f32x4(kAll16, s1, s3, 0x88);
    t[12 + j] = _mm512_maskz_shuffle_f32x4(kAll16, s1, s3, 0xDD);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// The whole-depth tile: M rows (the first S from arow, the rest + gap), 32 columns.
template <int M, int S>
void PlanesRows(int64_t k, int64_t kc, int64_t n_pad, const float* packed, int64_t jr,
                const float* a, const int64_t* aoffs, int64_t gap, int64_t q0, int mr, int nr,
                const DirectAPlanesOut& out) {
  __m512 acc[M][2];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  // The tile's output (and addend) segments, one per channel plane, usually not cached: pulled
  // in now so that the epilogue's stores do not wait on them.
  for (int j = 0; j < nr; ++j) {
    const int64_t at = (jr + j) * out.hw + q0;
    _mm_prefetch(reinterpret_cast<const char*>(out.y + at), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(out.y + at + mr - 1), _MM_HINT_T0);
    if (out.sum != nullptr) {
      _mm_prefetch(reinterpret_cast<const char*>(out.sum + at), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(out.sum + at + mr - 1), _MM_HINT_T0);
    }
  }
  for (int64_t pb = 0; pb < k; pb += kc) {
    const int64_t kb = kc < k - pb ? kc : k - pb;
    const float* bp = packed + pb * n_pad + jr * kb;
    const int64_t* offs = aoffs + pb;
#pragma GCC unroll 2
    for (int64_t p = 0; p < kb; ++p) {
      // B streams from L2 (a sliver over the whole depth is 128 bytes per step): into L1 8
      // steps ahead, toward L2 kFar steps ahead.
      _mm_prefetch(reinterpret_cast<const char*>(bp + 8 * kNr), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(bp + 8 * kNr + 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(bp + kFar * kNr), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(bp + kFar * kNr + 16), _MM_HINT_T1);
      const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
      const float* arow = a + offs[p];
      const float* arow2 = arow + gap;
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        const __m512 x = _mm512_set1_ps(i < S ? arow[i] : arow2[i]);
        acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
      }
      bp += kNr;
    }
  }
  const __mmask16 rows = static_cast<__mmask16>((1u << mr) - 1);
  const bool relu = out.act != nullptr && out.act->kind == Activation::kRelu;
  const bool other_act = out.act != nullptr && !relu;
#pragma GCC unroll 2
  for (int v = 0; v < 2; ++v) {
    const int cols = nr - 16 * v;
    if (cols <= 0) break;
    const __mmask16 cmask = LaneMask16(cols);
    const __m512 bias = out.bias != nullptr ? _mm512_maskz_loadu_ps(cmask, out.bias + jr + 16 * v)
                                            : _mm512_setzero_ps();
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = i < M ? _mm512_add_ps(acc[i][v], bias) : bias;
    Transpose16(r);
    const int64_t ch0 = jr + 16 * v;
    for (int j = 0; j < 16 && j < cols; ++j) {
      const int64_t at = (ch0 + j) * out.hw + q0;
      __m512 x = r[j];
      if (out.sum != nullptr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(rows, out.sum + at));
      // Masked form (GCC 12 warns on the plain one); zero first so a NaN stays NaN.
      if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
      _mm512_mask_storeu_ps(out.y + at, rows, x);
      if (other_act) ApplyActivation(*out.act, out.y + at, mr);
    }
  }
}

}  // namespace

void DirectAPlanesKernel(int64_t k, int64_t kc, int64_t n_pad, const float* packed, int64_t jr,
                         const float* a, const int64_t* aoffs, int rows, int split, int64_t gap,
                         int64_t q0, int mr, int nr, const DirectAPlanesOut& out) {
  if (rows <= 8) {
    return PlanesRows<8, 8>(k, kc, n_pad, packed, jr, a, aoffs, gap, q0, mr, nr, out);
  }
  if (split == kDirectA14Rows / 2) {
    return PlanesRows<kDirectA14Rows, kDirectA14Rows / 2>(k, kc, n_pad, packed, jr, a, aoffs, gap,
                                                          q0, mr, nr, out);
  }
  return PlanesRows<kDirectA14Rows, kDirectA14Rows>(k, kc, n_pad, packed, jr, a, aoffs, gap, q0, mr,
                                                    nr, out);
}

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
