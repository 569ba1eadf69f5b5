// AVX-512 GEMM kernel set: a 12x32 register tile (24 zmm accumulators, 2 B vectors, broadcasts
// folded into the FMAs), epilogue with masked loads/stores for partial tiles.
// The build gives ISA flags only to *_avx2.cc files, so this file switches the target with a
// pragma after the standard headers (their inline functions stay baseline code) and before
// anything that is instantiated here. Entered only after the run-time check (avx512f).
#include <cstdint>
#include <cstring>  // before the pragma: gemm_pack.h's only standard header

#include "kernels/cpu/gemm_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 12;

// min(hi, max(lo, x)); NaN stays NaN (max/min return their second operand for NaN). Masked
// forms: GCC 12 warns (maybe-uninitialized) on the plain ones.
inline __m512 ClipPs(__m512 x, __m512 lo, __m512 hi) {
  x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), lo, x);
  return _mm512_mask_min_ps(x, __mmask16(0xFFFF), hi, x);
}
constexpr int kVecs = 2;  // zmm vectors per tile row
constexpr int kNr = 16 * kVecs;

// M accumulator rows (M <= kMr) over an A panel packed kMr rows per depth step: the last row
// tile of an m that is no multiple of 12 (m = 128: 10 x 12 + 8) does only its own FMAs instead
// of 12 rows' worth on zero padding. V (1 or kVecs) zmm vectors per row: a sliver with at most
// 16 valid columns (the tail of an n just past a multiple of 32, e.g. a conv's exact 14 x 14 =
// 196 pixels) does half the FMAs; the packed sliver layout stays kNr wide.
//
// DirectA: A is not packed; row i at depth step p is ap[aoffs[p] + i] (a conv's padded input
// read in place: the tile's rows are consecutive pixels of one output row).
// RowsA: A is not packed; row i at depth step p is ap[i * lda + p] (a row-major activation read
// in place, as MLAS does: no packing pass, and at 2 threads split by columns no task packs the
// same A twice). All M rows are read, so M must not exceed the rows that exist.
template <int M, int V, bool DirectA = false, bool RowsA = false>
void Avx512KernelRows(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                      int nr, const TileEpilogue& ep, const int64_t* aoffs = nullptr,
                      int64_t lda = 0) {
  static_assert(V >= 1 && V <= kVecs);
  __m512 acc[M][V];
#pragma GCC unroll 32
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNr - 1), _MM_HINT_T0);
  }
  if (ep.last && ep.addend != nullptr) {
    for (int i = 0; i < mr; ++i) {
      const float* add = ep.addend + i * ep.addend_ld;
      _mm_prefetch(reinterpret_cast<const char*>(add), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(add + nr - 1), _MM_HINT_T0);
    }
  }
  // Without a next sliver, touch this one (already in L1): no branch in the loop.
  const char* pf = reinterpret_cast<const char*>(ep.prefetch_b != nullptr ? ep.prefetch_b : bp);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    _mm_prefetch(pf, _MM_HINT_T1);
    _mm_prefetch(pf + 64, _MM_HINT_T1);
    pf += kNr * sizeof(float);
    __m512 b[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(bp + 16 * v);
    if constexpr (RowsA) {
      // Rows in groups of four off one base, offsets 0, lda, 2 lda, 3 lda: x86 addressing
      // (base + index * scale) needs no register per row.
#pragma GCC unroll 32
      for (int i = 0; i < M; ++i) {
        const float* base = ap + (i / 4) * 4 * lda;
        const __m512 a = _mm512_set1_ps(base[(i % 4) * lda]);
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
      }
      ++ap;
    } else {
      const float* arow = DirectA ? ap + aoffs[p] : ap;
#pragma GCC unroll 32
      for (int i = 0; i < M; ++i) {
        const __m512 a = _mm512_set1_ps(arow[i]);
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
      }
      if (!DirectA) ap += kMr;
    }
    bp += kNr;
  }

  // Epilogue: masks cover partial tiles, so every shape stays vectorised.
  __mmask16 masks[V];
  for (int v = 0; v < V; ++v) {
    const int cols = nr - 16 * v;
    masks[v] = internal::LaneMask16(cols);
  }
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  // SiLU and Sigmoid (EfficientNet's activations) in registers too: through ApplyActivation
  // they would cost a second pass over the row with the 8-lane bodies.
  const bool silu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kSilu;
  const bool sigmoid = ep.last && ep.act != nullptr && ep.act->kind == Activation::kSigmoid;
  // Clip (ReLU6 in MobileNet) too: a call per tile row would cost more than the tile's math
  // when k is small (pointwise convolutions).
  const bool clip = ep.last && ep.act != nullptr && ep.act->kind == Activation::kClip;
  const __m512 clip_lo = _mm512_set1_ps(clip ? ep.act->min : 0.f);
  const __m512 clip_hi = _mm512_set1_ps(clip ? ep.act->max : 0.f);
  const bool other_act = ep.last && ep.act != nullptr && !relu && !silu && !sigmoid && !clip;
  const __m512 beta = _mm512_set1_ps(ep.beta);
  __m512 bias[V];
  for (int v = 0; v < V; ++v) {
    bias[v] = ep.last && ep.bias != nullptr ? _mm512_maskz_loadu_ps(masks[v], ep.bias + 16 * v)
                                            : _mm512_setzero_ps();
  }
#pragma GCC unroll 32
  for (int i = 0; i < M; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    const bool has_rb = ep.last && ep.row_bias != nullptr;
    const __m512 rb = _mm512_set1_ps(has_rb ? ep.row_bias[i] : 0.f);
    const bool has_add = ep.last && ep.addend != nullptr;
    const float* add_row = has_add ? ep.addend + i * ep.addend_ld : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m512 x = acc[i][v];
      if (ep.first) {
        if (ep.beta != 0.f) {
          x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(masks[v], row + 16 * v), x);
        }
      } else {
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], row + 16 * v));
      }
      x = _mm512_add_ps(x, bias[v]);
      if (has_rb) x = _mm512_add_ps(x, rb);
      if (has_add) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], add_row + 16 * v));
      // Masked form (GCC 12 warns on the plain one); zero first so a NaN stays NaN.
      if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
      if (silu) x = internal::Silu16(x);
      if (sigmoid) x = internal::Sigmoid16(x);
      if (clip) x = ClipPs(x, clip_lo, clip_hi);
      _mm512_mask_storeu_ps(row + 16 * v, masks[v], x);
    }
    if (other_act) ApplyActivation(*ep.act, row, nr);
  }
}

void Avx512Kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                  int nr, const TileEpilogue& ep) {
  if (nr <= 16) {
    if (mr > 8) return Avx512KernelRows<kMr, 1>(kc, ap, bp, c, ldc, mr, nr, ep);
    if (mr > 4) return Avx512KernelRows<8, 1>(kc, ap, bp, c, ldc, mr, nr, ep);
    return Avx512KernelRows<4, 1>(kc, ap, bp, c, ldc, mr, nr, ep);
  }
  if (mr > 8) return Avx512KernelRows<kMr, kVecs>(kc, ap, bp, c, ldc, mr, nr, ep);
  if (mr > 4) return Avx512KernelRows<8, kVecs>(kc, ap, bp, c, ldc, mr, nr, ep);
  return Avx512KernelRows<4, kVecs>(kc, ap, bp, c, ldc, mr, nr, ep);
}

// The direct-A kernel (DirectAKernelFn).
void Avx512KernelDirectA(int64_t kc, const float* a, const int64_t* aoffs, const float* bp,
                         float* c, int64_t ldc, int mr, int nr, const TileEpilogue& ep) {
  if (nr <= 16) {
    if (mr > 8) return Avx512KernelRows<kMr, 1, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
    if (mr > 4) return Avx512KernelRows<8, 1, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
    return Avx512KernelRows<4, 1, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
  }
  if (mr > 8) return Avx512KernelRows<kMr, kVecs, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
  if (mr > 4) return Avx512KernelRows<8, kVecs, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
  return Avx512KernelRows<4, kVecs, true>(kc, a, bp, c, ldc, mr, nr, ep, aoffs);
}

// The row-major direct-A kernel (RowsAKernelFn): full 12-row tiles only.
void Avx512KernelRowsA(int64_t kc, const float* a, int64_t lda, const float* bp, float* c,
                       int64_t ldc, int nr, const TileEpilogue& ep) {
  if (nr <= 16) {
    return Avx512KernelRows<kMr, 1, false, true>(kc, a, bp, c, ldc, kMr, nr, ep, nullptr, lda);
  }
  return Avx512KernelRows<kMr, kVecs, false, true>(kc, a, bp, c, ldc, kMr, nr, ep, nullptr, lda);
}

// Row-streaming: a chunk of up to kChunk columns is accumulated in an L1 buffer while four B
// rows at a time are read front to back in long runs (measured: 16 KB runs stream about 3x
// faster than 4 KB ones on Zen 5, since the prefetchers retrain at every page),
// then the epilogue moves the chunk to C.
template <int M>
void SmallMRows(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                int64_t ldb, float* c, int64_t ldc, float alpha, const TileEpilogue& ep) {
  constexpr int64_t kChunk = 4096 / M / 16 * 16;  // a 16 KB buffer in L1, rows aligned
  alignas(64) float buf[M][kChunk];
  const bool relu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kRelu;
  const bool silu = ep.last && ep.act != nullptr && ep.act->kind == Activation::kSilu;
  const bool sigmoid = ep.last && ep.act != nullptr && ep.act->kind == Activation::kSigmoid;
  // Clip (ReLU6 in MobileNet) too: a call per tile row would cost more than the tile's math
  // when k is small (pointwise convolutions).
  const bool clip = ep.last && ep.act != nullptr && ep.act->kind == Activation::kClip;
  const __m512 clip_lo = _mm512_set1_ps(clip ? ep.act->min : 0.f);
  const __m512 clip_hi = _mm512_set1_ps(clip ? ep.act->max : 0.f);
  const bool other_act = ep.last && ep.act != nullptr && !relu && !silu && !sigmoid && !clip;
  for (int64_t j0 = 0; j0 < n; j0 += kChunk) {
    const int64_t cols = n - j0 < kChunk ? n - j0 : kChunk;
    const int64_t full = cols / 16 * 16;
    const __mmask16 tail = static_cast<__mmask16>((1u << (cols - full)) - 1);
    for (int i = 0; i < M; ++i) {
      for (int64_t j = 0; j < cols; j += 16) _mm512_store_ps(buf[i] + j, _mm512_setzero_ps());
    }
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* b0 = b + p * ldb + j0;
      const float* b1 = b0 + ldb;
      const float* b2 = b1 + ldb;
      const float* b3 = b2 + ldb;
      __m512 av[M][4];
      for (int i = 0; i < M; ++i) {
        for (int r = 0; r < 4; ++r) av[i][r] = _mm512_set1_ps(a[i * a_rs + (p + r) * a_cs]);
      }
      const bool prefetch = p + 8 <= k;
      for (int64_t j = 0; j < cols; j += 16) {
        const __mmask16 mask = j < full ? __mmask16(0xFFFF) : tail;
        if (prefetch) {  // the next four rows, one sweep ahead
          _mm_prefetch(reinterpret_cast<const char*>(b3 + ldb + j), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(b3 + 2 * ldb + j), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(b3 + 3 * ldb + j), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(b3 + 4 * ldb + j), _MM_HINT_T0);
        }
        const __m512 v0 = _mm512_maskz_loadu_ps(mask, b0 + j);
        const __m512 v1 = _mm512_maskz_loadu_ps(mask, b1 + j);
        const __m512 v2 = _mm512_maskz_loadu_ps(mask, b2 + j);
        const __m512 v3 = _mm512_maskz_loadu_ps(mask, b3 + j);
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          __m512 x = _mm512_load_ps(buf[i] + j);
          x = _mm512_fmadd_ps(av[i][0], v0, x);
          x = _mm512_fmadd_ps(av[i][1], v1, x);
          x = _mm512_fmadd_ps(av[i][2], v2, x);
          x = _mm512_fmadd_ps(av[i][3], v3, x);
          _mm512_store_ps(buf[i] + j, x);
        }
      }
    }
    for (; p < k; ++p) {
      const float* b0 = b + p * ldb + j0;
      for (int i = 0; i < M; ++i) {
        const __m512 av = _mm512_set1_ps(a[i * a_rs + p * a_cs]);
        for (int64_t j = 0; j < cols; j += 16) {
          const __mmask16 mask = j < full ? __mmask16(0xFFFF) : tail;
          const __m512 x = _mm512_load_ps(buf[i] + j);
          _mm512_store_ps(buf[i] + j, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mask, b0 + j), x));
        }
      }
    }
    const __m512 alpha_v = _mm512_set1_ps(alpha), beta_v = _mm512_set1_ps(ep.beta);
    for (int i = 0; i < M; ++i) {
      float* row = c + i * ldc + j0;
      const bool has_rb = ep.last && ep.row_bias != nullptr;
      const __m512 rb = _mm512_set1_ps(has_rb ? ep.row_bias[i] : 0.f);
      for (int64_t j = 0; j < cols; j += 16) {
        const __mmask16 mask = j < full ? __mmask16(0xFFFF) : tail;
        __m512 x = _mm512_mul_ps(_mm512_load_ps(buf[i] + j), alpha_v);
        if (!ep.first) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, row + j));
        } else if (ep.beta != 0.f) {
          x = _mm512_fmadd_ps(beta_v, _mm512_maskz_loadu_ps(mask, row + j), x);
        }
        if (ep.last && ep.bias != nullptr) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, ep.bias + j0 + j));
        }
        if (has_rb) x = _mm512_add_ps(x, rb);
        if (relu) x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_setzero_ps(), x);
        if (silu) x = internal::Silu16(x);
        if (sigmoid) x = internal::Sigmoid16(x);
        if (clip) x = ClipPs(x, clip_lo, clip_hi);
        _mm512_mask_storeu_ps(row + j, mask, x);
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
                                &Avx512SmallM,
                                /*small_m_dot=*/4,
                                &Avx512SmallMDot,
                                &Avx512KernelDirectA,
                                &Avx512KernelRowsA};
  return set;
}

}  // namespace mlos::kernels::gemm_internal

#pragma GCC pop_options
