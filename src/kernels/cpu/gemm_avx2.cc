// AVX2/FMA GEMM kernel set: a 6x16 register tile (12 ymm accumulators, 2 B vectors and one
// broadcast in flight), with beta, bias and ReLU applied in registers while the tile is hot.
// Compiled with -mavx2 -mfma; entered only after the run-time check (UseAvx2()).
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

// Activations done in registers on this set (others: ApplyActivation on the tile row).
bool InRegisters(const ActivationParams* act) {
  return act == nullptr || act->kind == Activation::kNone || act->kind == Activation::kRelu ||
         act->kind == Activation::kClip || act->kind == Activation::kSilu ||
         act->kind == Activation::kSigmoid;
}

inline __m256 Activate(__m256 v, const ActivationParams& act) {
  switch (act.kind) {
    case Activation::kRelu:
      return _mm256_max_ps(_mm256_setzero_ps(), v);  // NaN stays NaN
    case Activation::kClip:  // max/min return the second operand for NaN: NaN stays NaN
      return _mm256_min_ps(_mm256_set1_ps(act.max), _mm256_max_ps(_mm256_set1_ps(act.min), v));
    case Activation::kSilu:
      return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.f), internal::avx2::Exp(_mm256_sub_ps(
                                                                     _mm256_setzero_ps(), v))));
    case Activation::kSigmoid:
      return internal::avx2::Sigmoid(v);
    default:
      return v;
  }
}

inline __m256 Epilogue(__m256 v, float* c, const float* bias, const float* row_bias,
                       const float* add, const TileEpilogue& ep, bool relu) {
  if (ep.first) {
    if (ep.beta != 0.f) v = _mm256_fmadd_ps(_mm256_set1_ps(ep.beta), _mm256_loadu_ps(c), v);
  } else {
    v = _mm256_add_ps(v, _mm256_loadu_ps(c));
  }
  if (ep.last) {
    if (bias != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    if (row_bias != nullptr) v = _mm256_add_ps(v, _mm256_set1_ps(*row_bias));
    if (add != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(add));
    if (relu) v = Activate(v, *ep.act);  // any in-register activation
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
    // `relu` here: an activation applied in registers by Epilogue.
    const bool relu = ep.last && ep.act != nullptr && InRegisters(ep.act);
    const float* bias = ep.last ? ep.bias : nullptr;
    for (int i = 0; i < kMr; ++i) {
      float* row = c + i * ldc;
      const float* rb = ep.row_bias != nullptr ? ep.row_bias + i : nullptr;
      const float* add = ep.last && ep.addend != nullptr ? ep.addend + i * ep.addend_ld : nullptr;
      _mm256_storeu_ps(row, Epilogue(acc[i][0], row, bias, rb, add, ep, relu));
      _mm256_storeu_ps(row + 8, Epilogue(acc[i][1], row + 8, bias ? bias + 8 : nullptr, rb,
                                         add ? add + 8 : nullptr, ep, relu));
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

// Row-streaming: a chunk of up to kChunk columns is accumulated in an L1 buffer while four B
// rows at a time are read front to back in long runs (measured: 16 KB runs stream about 3x
// faster than 4 KB ones on Zen 5, since the prefetchers retrain at every page),
// then the epilogue moves the chunk to C. Column tails (< 8) in scalar.
template <int M>
void SmallMRows(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                int64_t ldb, float* c, int64_t ldc, float alpha, const TileEpilogue& ep) {
  constexpr int64_t kChunk = 4096 / M / 16 * 16;  // a 16 KB buffer in L1, rows aligned
  alignas(32) float buf[M][kChunk];
  const bool relu = ep.last && ep.act != nullptr && InRegisters(ep.act);  // in registers
  for (int64_t j0 = 0; j0 < n; j0 += kChunk) {
    const int64_t cols = n - j0 < kChunk ? n - j0 : kChunk;
    const int64_t full = cols / 8 * 8;
    for (int i = 0; i < M; ++i) {
      for (int64_t j = 0; j < cols; ++j) buf[i][j] = 0.f;
    }
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* b0 = b + p * ldb + j0;
      const float* b1 = b0 + ldb;
      const float* b2 = b1 + ldb;
      const float* b3 = b2 + ldb;
      float as[M][4];
      for (int i = 0; i < M; ++i) {
        for (int r = 0; r < 4; ++r) as[i][r] = a[i * a_rs + (p + r) * a_cs];
      }
      for (int64_t j = 0; j < full; j += 8) {
        const __m256 v0 = _mm256_loadu_ps(b0 + j);
        const __m256 v1 = _mm256_loadu_ps(b1 + j);
        const __m256 v2 = _mm256_loadu_ps(b2 + j);
        const __m256 v3 = _mm256_loadu_ps(b3 + j);
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          __m256 x = _mm256_load_ps(buf[i] + j);
          x = _mm256_fmadd_ps(_mm256_set1_ps(as[i][0]), v0, x);
          x = _mm256_fmadd_ps(_mm256_set1_ps(as[i][1]), v1, x);
          x = _mm256_fmadd_ps(_mm256_set1_ps(as[i][2]), v2, x);
          x = _mm256_fmadd_ps(_mm256_set1_ps(as[i][3]), v3, x);
          _mm256_store_ps(buf[i] + j, x);
        }
      }
      for (int64_t j = full; j < cols; ++j) {
        for (int i = 0; i < M; ++i) {
          buf[i][j] += as[i][0] * b0[j] + as[i][1] * b1[j] + as[i][2] * b2[j] + as[i][3] * b3[j];
        }
      }
    }
    for (; p < k; ++p) {
      const float* b0 = b + p * ldb + j0;
      for (int i = 0; i < M; ++i) {
        const float av = a[i * a_rs + p * a_cs];
        for (int64_t j = 0; j < cols; ++j) buf[i][j] += av * b0[j];
      }
    }
    for (int i = 0; i < M; ++i) {
      for (int64_t j = 0; j < cols; ++j) buf[i][j] *= alpha;
    }
    if (full == cols && !(ep.last && ep.act != nullptr && !relu)) {
      const __m256 beta_v = _mm256_set1_ps(ep.beta);
      for (int i = 0; i < M; ++i) {
        float* row = c + i * ldc + j0;
        const bool has_rb = ep.last && ep.row_bias != nullptr;
        const __m256 rb = _mm256_set1_ps(has_rb ? ep.row_bias[i] : 0.f);
        for (int64_t j = 0; j < cols; j += 8) {
          __m256 x = _mm256_load_ps(buf[i] + j);
          if (!ep.first) {
            x = _mm256_add_ps(x, _mm256_loadu_ps(row + j));
          } else if (ep.beta != 0.f) {
            x = _mm256_fmadd_ps(beta_v, _mm256_loadu_ps(row + j), x);
          }
          if (ep.last && ep.bias != nullptr) {
            x = _mm256_add_ps(x, _mm256_loadu_ps(ep.bias + j0 + j));
          }
          if (has_rb) x = _mm256_add_ps(x, rb);
          if (relu) x = Activate(x, *ep.act);
          _mm256_storeu_ps(row + j, x);
        }
      }
    } else {
      TileEpilogue part = ep;
      part.bias = ep.bias != nullptr ? ep.bias + j0 : nullptr;
      StoreTileScalar(&buf[0][0], static_cast<int>(kChunk), c + j0, ldc, M, static_cast<int>(cols),
                      part);
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
    case 3:
      return SmallMRows<3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
    default:
      return SmallMRows<4>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, ep);
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
                                /*small_m=*/4,
                                /*small_m_nr=*/32,
                                &Avx2SmallM,
                                /*small_m_dot=*/2,
                                &Avx2SmallMDot};
  return set;
}

}  // namespace mlos::kernels::gemm_internal
