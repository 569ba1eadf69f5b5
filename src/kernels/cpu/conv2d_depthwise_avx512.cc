// AVX-512 instantiation of the depthwise convolution body (conv_depthwise_simd.h): 16 lanes, or
// 8 (AVX2 registers) for planes at most 8 columns wide, where a 16-lane vector would be half
// empty. Like gemm_avx512.cc, the target is switched with a pragma after the standard headers
// and everything compiled under it has internal linkage. Entered only after the run-time check.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/conv2d_depthwise_direct.h"
#include "kernels/cpu/conv_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/conv_depthwise_simd.h"

namespace mlos::kernels::internal {
namespace {

// Lanes [lo, hi) of a 16-float vector whose lane 0 is input column `base` that lie in [0, w).
inline __mmask16 ColumnMask(int64_t base, int64_t w) {
  const int64_t lo = std::clamp<int64_t>(-base, 0, 16), hi = std::clamp<int64_t>(w - base, 0, 16);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << (hi - lo)) - 1) << lo);
}

// Address of src[col] for a column that may be outside the row: only masked-in lanes are read,
// and the address is formed without out-of-range pointer arithmetic.
inline const float* ColumnAddress(const float* src, int64_t col) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(src) +
                                        static_cast<uintptr_t>(col * 4));
}

// src[col .. col + 16) with the lanes outside [0, w) set to `pad`. Whole vectors inside the row
// take a plain load: a masked load costs far more on Zen 5 (it showed as most of the fill's time).
inline __m512 LoadColumns(__m512 pad, const float* src, int64_t col, int64_t w) {
  if (col >= 0 && col + 16 <= w) return _mm512_loadu_ps(src + col);
  return _mm512_mask_loadu_ps(pad, ColumnMask(col, w), ColumnAddress(src, col));
}

// dst[q] = src[q - pl] where 0 <= q - pl < w, else pad; q in [0, row_len), row_len % 16 == 0.
void FillRowMasked16(float* dst, const float* src, int64_t pl, int64_t w, int64_t row_len,
                     float pad) {
  const __m512 pv = _mm512_set1_ps(pad);
  for (int64_t q = 0; q < row_len; q += 16) {
    const int64_t base = q - pl;
    _mm512_storeu_ps(dst + q, LoadColumns(pv, src, base, w));
  }
}

// Stride-2 phases: even[q] = padded column 2q, odd[q] = padded column 2q + 1.
void FillRowMaskedS2(float* even, float* odd, const float* src, int64_t pl, int64_t w,
                     int64_t row_len, float pad) {
  const __m512 pv = _mm512_set1_ps(pad);
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
  for (int64_t q = 0; q < row_len; q += 16) {
    const int64_t base = 2 * q - pl;
    const __m512 a = LoadColumns(pv, src, base, w);
    const __m512 b = LoadColumns(pv, src, base + 16, w);
    _mm512_storeu_ps(even + q, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(odd + q, _mm512_permutex2var_ps(a, io, b));
  }
}

struct V16 {
  using T = __m512;
  static constexpr int kLanes = 16;
  static void FillRowMasked(float* dst, const float* src, int64_t pl, int64_t w, int64_t len,
                            float pad) {
    FillRowMasked16(dst, src, pl, w, len, pad);
  }
  static void FillRowMaskedS2(float* even, float* odd, const float* src, int64_t pl, int64_t w,
                              int64_t len, float pad) {
    internal::FillRowMaskedS2(even, odd, src, pl, w, len, pad);
  }
  static T Set1(float v) { return _mm512_set1_ps(v); }
  static T Load(const float* p) { return _mm512_loadu_ps(p); }
  static T Fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  // Masked forms: GCC 12 warns (maybe-uninitialized) on the plain ones.
  static T Max(T a, T b) { return _mm512_mask_max_ps(b, __mmask16(0xFFFF), a, b); }
  static T Min(T a, T b) { return _mm512_mask_min_ps(b, __mmask16(0xFFFF), a, b); }
  static void Store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T OrNan(T acc, T v) {
    const __mmask16 m = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_mov_ps(acc, m, _mm512_set1_ps(1.f));
  }
  static T SelectNan(T nan, T v) {
    const __mmask16 m = _mm512_cmp_ps_mask(nan, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    return _mm512_mask_mov_ps(v, m, _mm512_set1_ps(__builtin_nanf("")));
  }
  static T Sigmoid(T v) { return Sigmoid16(v); }
  static T Silu(T v) { return Silu16(v); }
  static void StorePartial(float* p, T v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
  }
  static void Deinterleave2(const float* src, float* even, float* odd) {
    const __m512 a = _mm512_loadu_ps(src), b = _mm512_loadu_ps(src + 16);
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
    _mm512_storeu_ps(even, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(odd, _mm512_permutex2var_ps(a, io, b));
  }
};

struct V8x {
  using T = __m256;
  static constexpr int kLanes = 8;
  static void FillRowMasked(float* dst, const float* src, int64_t pl, int64_t w, int64_t len,
                            float pad) {
    FillRowMasked16(dst, src, pl, w, len, pad);
  }
  static void FillRowMaskedS2(float* even, float* odd, const float* src, int64_t pl, int64_t w,
                              int64_t len, float pad) {
    internal::FillRowMaskedS2(even, odd, src, pl, w, len, pad);
  }
  static T Set1(float v) { return _mm256_set1_ps(v); }
  static T Load(const float* p) { return _mm256_loadu_ps(p); }
  static T Fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T Max(T a, T b) { return _mm256_max_ps(a, b); }
  static T Min(T a, T b) { return _mm256_min_ps(a, b); }
  static void Store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T OrNan(T acc, T v) { return _mm256_or_ps(acc, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)); }
  static T SelectNan(T nan, T v) {
    return _mm256_blendv_ps(v, _mm256_set1_ps(__builtin_nanf("")), nan);
  }
  static T Sigmoid(T v) { return Sigmoid8(v); }
  static T Silu(T v) { return Silu8(v); }
  static void StorePartial(float* p, T v, int n) {  // AVX form: no AVX-512VL needed
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx), v);
  }
  static void Deinterleave2(const float* src, float* even, float* odd) {
    const __m256 a = _mm256_loadu_ps(src), b = _mm256_loadu_ps(src + 8);
    // Per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6; then reorder the 64-bit pairs.
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD);
    _mm256_storeu_ps(even, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    _mm256_storeu_ps(odd, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
  }
};

}  // namespace

bool DepthwisePlanesAvx512(const DepthwiseGeom& g, const float* x, const float* w,
                           const float* bias, float* y, int64_t begin, int64_t end) {
  // 3x3 and 5x5 straight from the input rows (conv2d_depthwise_direct_avx512.cc).
  if (DepthwiseDirectSupported(g)) {
    return DepthwiseDirectAvx512(g, x, w, bias, y, begin, end);
  }
  if (g.ow <= 8) {
    float* scratch = DepthwiseScratch(DwLayoutFor(g, V8x::kLanes).floats);
    if (scratch == nullptr) return false;
    return DwPlanes<V8x>(g, x, w, bias, y, begin, end, scratch);
  }
  float* scratch = DepthwiseScratch(DwLayoutFor(g, V16::kLanes).floats);
  if (scratch == nullptr) return false;
  return DwPlanes<V16>(g, x, w, bias, y, begin, end, scratch);
}

void FillPaddedPlanesAvx512(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                            float* buf) {
  DwFillRange<V16>(g, x, c0, c1, buf);
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
