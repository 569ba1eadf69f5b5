// Integer GEMM kernels behind int_gemm.h: AVX2 micro-kernel (4 rows x 16 columns, vpmaddwd on
// interleaved k pairs) chosen at run time, portable fallback otherwise. This file registers no
// operator; its MLOS_REGISTER_OPS function is empty because every file in ops/ must define one.
#include "graph/ops/int_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "graph/op_registry.h"
#include "kernels/cpu/cpu_features.h"

namespace mlos::graph::ops {

template <typename T>
void PackIntB(const T* src, int64_t row_stride, int64_t col_stride, int64_t k, int64_t n,
              const int32_t* zp, bool zp_per_col, PackedB* out) {
  out->k = k;
  out->n = n;
  out->kp = (k + 1) & ~int64_t{1};
  const int64_t panels = (n + kIntGemmNr - 1) / kIntGemmNr;
  out->data.assign(static_cast<size_t>(panels * out->kp * kIntGemmNr), 0);
  for (int64_t p = 0; p < panels; ++p) {
    int16_t* dst = out->data.data() + p * out->kp * kIntGemmNr;
    const int64_t n0 = p * kIntGemmNr;
    const int64_t nc = std::min(kIntGemmNr, n - n0);
    for (int64_t kk = 0; kk < k; ++kk) {
      const T* row = src + kk * row_stride;
      int16_t* d = dst + (kk / 2) * kIntGemmNr * 2 + (kk & 1);
      for (int64_t j = 0; j < nc; ++j) {
        const int32_t z = zp == nullptr ? 0 : zp[zp_per_col ? n0 + j : 0];
        d[j * 2] = static_cast<int16_t>(static_cast<int32_t>(row[(n0 + j) * col_stride]) - z);
      }
    }
  }
}

template <typename T>
void WidenIntA(const T* src, int64_t lda, int64_t m, int64_t k, int64_t kp, const int32_t* zp,
               bool zp_per_row, int16_t* dst) {
  for (int64_t i = 0; i < m; ++i) {
    const int32_t z = zp == nullptr ? 0 : zp[zp_per_row ? i : 0];
    const T* s = src + i * lda;
    int16_t* d = dst + i * kp;
    for (int64_t kk = 0; kk < k; ++kk)
      d[kk] = static_cast<int16_t>(static_cast<int32_t>(s[kk]) - z);
    for (int64_t kk = k; kk < kp; ++kk) d[kk] = 0;
  }
}

template void PackIntB<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                                bool, PackedB*);
template void PackIntB<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                               bool, PackedB*);
template void PackIntB<int16_t>(const int16_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                                bool, PackedB*);
template void WidenIntA<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                                 bool, int16_t*);
template void WidenIntA<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                                bool, int16_t*);
template void WidenIntA<int16_t>(const int16_t*, int64_t, int64_t, int64_t, int64_t, const int32_t*,
                                 bool, int16_t*);

namespace {

// One tile of up to 4 rows x 16 columns into `tile` (row stride 16), portable. Unsigned
// arithmetic makes int32 overflow wrap instead of being undefined.
void TilePortable(const int16_t* a, int64_t lda, int64_t rows, const int16_t* bp, int64_t kp,
                  int32_t* tile) {
  for (int64_t r = 0; r < rows; ++r) {
    uint32_t acc[kIntGemmNr] = {};
    const int16_t* ar = a + r * lda;
    for (int64_t p = 0; p < kp / 2; ++p) {
      const int32_t a0 = ar[2 * p], a1 = ar[2 * p + 1];
      const int16_t* b = bp + p * kIntGemmNr * 2;
      for (int64_t j = 0; j < kIntGemmNr; ++j) {
        acc[j] += static_cast<uint32_t>(a0 * b[2 * j] + a1 * b[2 * j + 1]);
      }
    }
    for (int64_t j = 0; j < kIntGemmNr; ++j)
      tile[r * kIntGemmNr + j] = static_cast<int32_t>(acc[j]);
  }
}

__attribute__((target("avx2"))) void TileAvx2(const int16_t* a, int64_t lda, int64_t rows,
                                              const int16_t* bp, int64_t kp, int32_t* tile) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
          c30 = c00, c31 = c00;
  const int16_t* a0 = a;
  const int16_t* a1 = a + (rows > 1 ? lda : 0);
  const int16_t* a2 = a + (rows > 2 ? 2 * lda : 0);
  const int16_t* a3 = a + (rows > 3 ? 3 * lda : 0);
  for (int64_t p = 0; p < kp / 2; ++p) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + p * 32));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + p * 32 + 16));
    int32_t v0, v1, v2, v3;
    std::memcpy(&v0, a0 + 2 * p, 4);
    std::memcpy(&v1, a1 + 2 * p, 4);
    std::memcpy(&v2, a2 + 2 * p, 4);
    std::memcpy(&v3, a3 + 2 * p, 4);
    __m256i x = _mm256_set1_epi32(v0);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
    x = _mm256_set1_epi32(v1);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
    x = _mm256_set1_epi32(v2);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
    x = _mm256_set1_epi32(v3);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
  }
  __m256i* t = reinterpret_cast<__m256i*>(tile);
  _mm256_storeu_si256(t + 0, c00);
  _mm256_storeu_si256(t + 1, c01);
  _mm256_storeu_si256(t + 2, c10);
  _mm256_storeu_si256(t + 3, c11);
  _mm256_storeu_si256(t + 4, c20);
  _mm256_storeu_si256(t + 5, c21);
  _mm256_storeu_si256(t + 6, c30);
  _mm256_storeu_si256(t + 7, c31);
}

}  // namespace

void IntGemm(const int16_t* a, int64_t m, const PackedB& b, int32_t* c, int64_t ldc,
             ThreadPool& pool) {
  const int64_t n = b.n, kp = b.kp;
  if (m <= 0 || n <= 0) return;
  const int64_t panels = (n + kIntGemmNr - 1) / kIntGemmNr;
  constexpr int64_t kMb = 32;  // rows per task: A block of 32 x kp int16 stays in L2
  const int64_t mblocks = (m + kMb - 1) / kMb;
  const bool avx2 = kernels::UseAvx2();
  // One task = one row block x one panel: enough tasks for the pool even for small m.
  const int64_t tasks = mblocks * panels;
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(kMb * kp * 16, 1));
  pool.ParallelFor(tasks, grain, [&](int64_t tb, int64_t te) {
    alignas(32) int32_t tile[4 * kIntGemmNr];
    for (int64_t t = tb; t < te; ++t) {
      const int64_t mb = t / panels, p = t % panels;
      const int16_t* bp = b.data.data() + p * kp * kIntGemmNr;
      const int64_t n0 = p * kIntGemmNr;
      const int64_t nc = std::min(kIntGemmNr, n - n0);
      const int64_t m_end = std::min(m, (mb + 1) * kMb);
      for (int64_t r0 = mb * kMb; r0 < m_end; r0 += 4) {
        const int64_t rows = std::min<int64_t>(4, m_end - r0);
        if (avx2)
          TileAvx2(a + r0 * kp, kp, rows, bp, kp, tile);
        else
          TilePortable(a + r0 * kp, kp, rows, bp, kp, tile);
        for (int64_t r = 0; r < rows; ++r) {
          std::memcpy(c + (r0 + r) * ldc + n0, tile + r * kIntGemmNr,
                      static_cast<size_t>(nc) * sizeof(int32_t));
        }
      }
    }
  });
}

}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(int_gemm) {}
