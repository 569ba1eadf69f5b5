// The transposed implicit-GEMM convolution with A read in place (ImplicitGemmConvT ->
// PackedSgemmDirectA) and its 14-row micro-kernel (conv2d_direct_a.h), against a direct
// double-precision loop: rows of 14 (one tile), 28 and 56 (whole tiles), 7-pixel planes in pairs
// of rows (odd and even heights), remainders of 1, 2, 13 and 16 pixels, stride 2, several depth
// blocks, W^T large enough to split the output channels across tasks (also unevenly: 3
// slivers), bias or none, ReLU / Sigmoid (outside the kernel's in-register set) / none, a
// residual addend, on 1 and 2 threads. The micro-kernel alone: partial column slivers (nr 5,
// 16, 20), 13 valid rows, split rows with a gap, accumulation over depth blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/cpu/conv2d_direct_a.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/prepacked_gemm.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels::internal {
namespace {

struct Case {
  int64_t c, m, h, w, stride;
  bool bias, sum;
  Activation act;
};

double Act(Activation a, double v) {
  if (a == Activation::kRelu) return v > 0 ? v : 0;
  if (a == Activation::kSigmoid) return 1 / (1 + std::exp(-v));
  return v;
}

void Check(const Case& k, ThreadPool& pool, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message()
               << "c" << k.c << " m" << k.m << " " << k.h << "x" << k.w << " s" << k.stride
               << " act " << static_cast<int>(k.act) << " threads " << pool.num_threads());
  std::uniform_real_distribution<float> u(-1, 1);
  ImplicitConvGeom g{};
  g.cg = k.c;
  g.h = k.h;
  g.w = k.w;
  g.mg = k.m;
  g.kh = g.kw = 3;
  g.sh = g.sw = k.stride;
  g.dh = g.dw = 1;
  g.pt = g.pl = 1;
  g.oh = (k.h + 2 - 3) / k.stride + 1;
  g.ow = (k.w + 2 - 3) / k.stride + 1;
  const int64_t kk = k.c * 9, hw = g.oh * g.ow;
  std::vector<float> x(static_cast<size_t>(k.c * k.h * k.w)), w(static_cast<size_t>(k.m * kk));
  std::vector<float> b(static_cast<size_t>(k.m)), s(static_cast<size_t>(k.m * hw));
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng) * 0.1f;
  for (float& v : b) v = u(rng);
  for (float& v : s) v = u(rng);
  auto wt = PackedMatrix::Pack(w.data(), 1, kk, kk, k.m);
  ASSERT_TRUE(wt.ok());
  std::vector<float> scratch(static_cast<size_t>(ImplicitConvTScratchFloats(g)) + 16, -7.f);
  std::vector<float> y(static_cast<size_t>(k.m * hw), -9.f);
  ActivationParams act;
  act.kind = k.act;
  ImplicitGemmConvT(g, x.data(), **wt, k.bias ? b.data() : nullptr, act, y.data(), scratch.data(),
                    pool, k.sum ? s.data() : nullptr);
  for (int64_t m = 0; m < k.m; ++m) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        double acc = k.bias ? b[m] : 0.0;
        for (int64_t c = 0; c < k.c; ++c) {
          for (int64_t i = 0; i < 3; ++i) {
            const int64_t iy = oy * k.stride - 1 + i;
            if (iy < 0 || iy >= k.h) continue;
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t ix = ox * k.stride - 1 + j;
              if (ix < 0 || ix >= k.w) continue;
              acc += static_cast<double>(w[(m * k.c + c) * 9 + i * 3 + j]) *
                     x[(c * k.h + iy) * k.w + ix];
            }
          }
        }
        const int64_t q = (m * g.oh + oy) * g.ow + ox;
        if (k.sum) acc += s[q];
        acc = Act(k.act, acc);
        ASSERT_NEAR(y[q], acc, 2e-4 * (1 + std::fabs(acc))) << m << "," << oy << "," << ox;
      }
    }
  }
}

TEST(ConvDirectA, MatchesDirectLoop) {
  std::mt19937 rng(5);
  const Activation relu = Activation::kRelu, none = Activation::kNone;
  const Case cases[] = {
      {32, 64, 14, 14, 1, true, false, relu},                  // one 14-row tile per row
      {40, 32, 14, 14, 1, false, true, relu},                  // residual addend
      {64, 96, 28, 28, 2, true, false, Activation::kSigmoid},  // stride 2 -> 14x14
      {48, 64, 7, 7, 1, true, true, relu},                     // pairs of rows + a 7-row one
      {32, 32, 8, 7, 1, true, false, none},                    // pairs only
      {128, 256, 7, 7, 1, true, false, relu},   // W^T of 295K floats: channels split on 2
      {320, 96, 7, 7, 1, false, true, relu},    // k = 2880, 3 slivers split 1 + 2
      {128, 256, 14, 14, 1, true, true, relu},  // split channels, 14x14
      {32, 64, 3, 28, 1, true, false, relu},    // 14 + 14
      {32, 32, 3, 56, 1, false, false, none},   // 4 x 14
      {32, 32, 3, 29, 1, true, false, relu},    // 14 + 14 + 1
      {32, 32, 2, 30, 1, true, true, relu},     // 14 + 14 + 2
      {32, 32, 2, 41, 1, true, false, relu},    // 14 + 14 + 13 (14-row kernel, 13 stored)
      {32, 64, 2, 44, 1, true, false, relu},    // 14 + 14 + 8 + 8
      {33, 64, 5, 31, 1, true, false, relu},    // odd channels: k = 297, two depth blocks
  };
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (const Case& k : cases) Check(k, pool, rng);
  }
}

// The micro-kernel on its own: C(i, j) over kc depth steps from A rows read at aoffs (+ gap
// from row `split` on) and a kc x 32 sliver.
TEST(ConvDirectA, KernelTile) {
  if (!DirectA14Available()) GTEST_SKIP() << "no AVX-512";
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  constexpr int64_t kKc = 37, kSpan = 40, kLdc = 45;
  std::vector<float> a(kKc * kSpan + 64);
  for (float& v : a) v = u(rng);
  float* bp = static_cast<float*>(std::aligned_alloc(64, kKc * 32 * sizeof(float)));
  ASSERT_NE(bp, nullptr);
  for (int64_t i = 0; i < kKc * 32; ++i) bp[i] = u(rng);
  std::vector<int64_t> offs(kKc);
  for (int64_t p = 0; p < kKc; ++p) offs[p] = (p * 7) % kKc * kSpan / 2;
  std::vector<float> bias(32);
  for (float& v : bias) v = u(rng);
  for (int split : {14, 7}) {
    for (int mr : {14, 13}) {
      for (int nr : {32, 20, 16, 5}) {
        for (int act : {0, 1, 2}) {
          SCOPED_TRACE(::testing::Message()
                       << "split " << split << " mr " << mr << " nr " << nr << " act " << act);
          const int64_t gap = split == 14 ? 0 : 3;
          std::vector<float> c(14 * kLdc, 0.5f), init = c;
          ActivationParams ap;
          ap.kind = act == 0   ? Activation::kNone
                    : act == 1 ? Activation::kRelu
                               : Activation::kSigmoid;
          gemm_internal::TileEpilogue ep;
          // Two depth blocks: the first overwrites, the second accumulates and ends.
          const int64_t k1 = 20;
          ep.first = true;
          ep.last = false;
          DirectA14Kernel(k1, a.data(), offs.data(), split, gap, bp, c.data(), kLdc, mr, nr, ep);
          ep.first = false;
          ep.last = true;
          ep.bias = bias.data();
          ep.act = act == 0 ? nullptr : &ap;
          DirectA14Kernel(kKc - k1, a.data(), offs.data() + k1, split, gap, bp + k1 * 32, c.data(),
                          kLdc, mr, nr, ep);
          for (int i = 0; i < 14; ++i) {
            for (int j = 0; j < kLdc; ++j) {
              const float got = c[i * kLdc + j];
              if (i >= mr || j >= nr) {
                ASSERT_EQ(got, init[i * kLdc + j]) << i << "," << j;  // untouched
                continue;
              }
              double acc = bias[j];
              for (int64_t p = 0; p < kKc; ++p) {
                const int64_t at = offs[p] + i + (i >= split ? gap : 0);
                acc += static_cast<double>(a[at]) * bp[p * 32 + j];
              }
              acc = Act(ap.kind, acc);
              ASSERT_NEAR(got, acc, 1e-4 * (1 + std::fabs(acc))) << i << "," << j;
            }
          }
        }
      }
    }
  }
  std::free(bp);
}

// The whole-depth planes kernel on its own: W^T packed by hand in the PackedMatrix layout
// (k = 300: depth blocks of 256 and 44; n = 40: slivers of 32 and 8 columns), the tile written
// transposed into planes, with bias, addend and ReLU; 14 rows (split or not) and 8 rows, partial
// row counts.
TEST(ConvDirectA, PlanesKernelTile) {
  if (!DirectA14Available()) GTEST_SKIP() << "no AVX-512";
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  constexpr int64_t kK = 300, kKc = 256, kN = 40, kNPad = 64, kSpan = 50, kHw = 61, kQ0 = 5;
  std::vector<float> a(kK * kSpan + 64), wt(static_cast<size_t>(kK * kN));  // wt[p * kN + j]
  for (float& v : a) v = u(rng);
  for (float& v : wt) v = u(rng);
  float* packed = static_cast<float*>(std::aligned_alloc(64, kK * kNPad * sizeof(float)));
  ASSERT_NE(packed, nullptr);
  for (int64_t pb = 0; pb < kK; pb += kKc) {
    const int64_t kb = std::min(kKc, kK - pb);
    for (int64_t j = 0; j < kNPad; ++j) {
      for (int64_t p = 0; p < kb; ++p) {
        packed[pb * kNPad + (j / 32) * 32 * kb + p * 32 + j % 32] =
            j < kN ? wt[(pb + p) * kN + j] : 0.f;
      }
    }
  }
  std::vector<int64_t> offs(kK);
  for (int64_t p = 0; p < kK; ++p) offs[p] = (p * 13) % kK * kSpan / 2;
  std::vector<float> bias(kN), sum(kN * kHw);
  for (float& v : bias) v = u(rng);
  for (float& v : sum) v = u(rng);
  ActivationParams relu;
  relu.kind = Activation::kRelu;
  struct Shape {
    int rows, split, mr;
  };
  for (const Shape sh :
       {Shape{14, 14, 14}, Shape{14, 7, 14}, Shape{14, 14, 11}, Shape{8, 8, 7}, Shape{8, 8, 8}}) {
    for (int64_t jr : {0, 32}) {
      for (bool with_sum : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "rows " << sh.rows << " split " << sh.split << " mr "
                                          << sh.mr << " jr " << jr << " sum " << with_sum);
        const int nr = static_cast<int>(std::min<int64_t>(32, kN - jr));
        const int64_t gap = sh.split < sh.rows ? 4 : 0;
        std::vector<float> y(kN * kHw, 0.25f);
        DirectAPlanesOut out;
        out.y = y.data();
        out.sum = with_sum ? sum.data() : nullptr;
        out.hw = kHw;
        out.bias = bias.data();
        out.act = &relu;
        DirectAPlanesKernel(kK, kKc, kNPad, packed, jr, a.data(), offs.data(), sh.rows, sh.split,
                            gap, kQ0, sh.mr, nr, out);
        for (int64_t ch = 0; ch < kN; ++ch) {
          for (int64_t q = 0; q < kHw; ++q) {
            const float got = y[ch * kHw + q];
            const int64_t i = q - kQ0;
            if (ch < jr || ch >= jr + nr || i < 0 || i >= sh.mr) {
              ASSERT_EQ(got, 0.25f) << ch << "," << q;  // outside the tile: untouched
              continue;
            }
            double acc = bias[ch] + (with_sum ? sum[ch * kHw + q] : 0.f);
            for (int64_t p = 0; p < kK; ++p) {
              const int64_t at = offs[p] + i + (i >= sh.split ? gap : 0);
              acc += static_cast<double>(a[at]) * wt[p * kN + ch];
            }
            acc = Act(Activation::kRelu, acc);
            ASSERT_NEAR(got, acc, 1e-4 * (1 + std::fabs(acc))) << ch << "," << q;
          }
        }
      }
    }
  }
  std::free(packed);
}

}  // namespace
}  // namespace mlos::kernels::internal
