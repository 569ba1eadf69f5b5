// AVX-512 instantiation of the depthwise convolution body (conv_depthwise_simd.h): 16 lanes, or
// 8 (AVX2 registers) for planes at most 8 columns wide, where a 16-lane vector would be half
// empty. Like gemm_avx512.cc, the target is switched with a pragma after the standard headers
// and everything compiled under it has internal linkage. Entered only after the run-time check.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/conv_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/conv_depthwise_simd.h"

namespace mlos::kernels::internal {
namespace {

struct V16 {
  using T = __m512;
  static constexpr int kLanes = 16;
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
  if (g.ow <= 8) {
    float* scratch = DepthwiseScratch(DwLayoutFor(g, V8x::kLanes).floats);
    if (scratch == nullptr) return false;
    return DwPlanes<V8x>(g, x, w, bias, y, begin, end, scratch);
  }
  float* scratch = DepthwiseScratch(DwLayoutFor(g, V16::kLanes).floats);
  if (scratch == nullptr) return false;
  return DwPlanes<V16>(g, x, w, bias, y, begin, end, scratch);
}

bool MaxPoolPlanesAvx512(const DepthwiseGeom& g, const float* x, float* y, int64_t begin,
                         int64_t end) {
  if (g.ow <= 8) {
    float* scratch = DepthwiseScratch(DwLayoutFor(g, V8x::kLanes).floats);
    if (scratch == nullptr) return false;
    return MaxPlanes<V8x>(g, x, y, begin, end, scratch);
  }
  float* scratch = DepthwiseScratch(DwLayoutFor(g, V16::kLanes).floats);
  if (scratch == nullptr) return false;
  return MaxPlanes<V16>(g, x, y, begin, end, scratch);
}

void FillPaddedPlanesAvx512(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                            float* buf) {
  DwFillRange<V16>(g, x, c0, c1, buf);
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
