// PackedSgemm with a row-major A read in place (the AVX-512 row-major direct-A kernel, full
// 12-row tiles, plus the packed last partial tile) against a plain double-precision loop: odd
// m, n and k, m no multiple of 12 and past the 192-row cache block, n no multiple of the 32-column
// sliver (and below 16: the one-vector form), k past the 256-deep block (several depth blocks, C
// accumulated across them), A and C with row strides larger than k and n, beta, bias and
// activations, one and two threads. On machines without AVX-512 it checks the other kernel
// sets through the same entry point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/prepacked_gemm.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

struct RowsCase {
  int64_t m, k, n, lda, ldc;
  float beta;
  bool bias;
  Activation act;
};

double Reference(const RowsCase& c, const std::vector<float>& a, const std::vector<float>& b,
                 const std::vector<float>& bias, const std::vector<float>& c0, int64_t i,
                 int64_t j) {
  double acc = 0;
  for (int64_t p = 0; p < c.k; ++p) {
    acc += static_cast<double>(a[i * c.lda + p]) * static_cast<double>(b[p * c.n + j]);
  }
  double v = acc + c.beta * c0[i * c.ldc + j] + (c.bias ? bias[j] : 0.0);
  if (c.act == Activation::kRelu) v = std::max(v, 0.0);
  if (c.act == Activation::kGelu) v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  return v;
}

void CheckRows(const RowsCase& c, ThreadPool& pool, std::mt19937& rng) {
  SCOPED_TRACE(std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) +
               " lda " + std::to_string(c.lda) + " ldc " + std::to_string(c.ldc) + " beta " +
               std::to_string(c.beta) + " threads " + std::to_string(pool.num_threads()));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  // Exactly m rows of A (the last row ends at its k-th value): a read past it shows up under
  // the address sanitizer.
  std::vector<float> a((c.m - 1) * c.lda + c.k), b(c.k * c.n), bias(c.n), out(c.m * c.ldc);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  for (float& x : bias) x = u(rng);
  for (float& x : out) x = u(rng);
  const std::vector<float> c0 = out;
  auto pm = PackedMatrix::Pack(b.data(), c.n, 1, c.k, c.n);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  PackedGemmArgs g;
  g.m = c.m;
  g.a = a.data();
  g.a_rs = c.lda;
  g.a_cs = 1;
  g.c = out.data();
  g.ldc = c.ldc;
  g.beta = c.beta;
  g.bias = c.bias ? bias.data() : nullptr;
  g.activation.kind = c.act;
  PackedSgemm(g, **pm, pool);
  const double tol = 1e-4 * (1 + std::sqrt(static_cast<double>(c.k)));
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.ldc; ++j) {
      if (j >= c.n) {  // columns past n in a wider C are not touched
        ASSERT_EQ(out[i * c.ldc + j], c0[i * c.ldc + j]) << "at " << i << "," << j;
        continue;
      }
      ASSERT_NEAR(out[i * c.ldc + j], Reference(c, a, b, bias, c0, i, j), tol)
          << "at " << i << "," << j;
    }
  }
}

class PackedGemmRowsATest : public BothPaths {};

TEST_P(PackedGemmRowsATest, MatchesReference) {
  if (!GetParam()) {
    // The AVX-512 kernel set has the row-major direct-A kernel (the path under test).
    const gemm_internal::KernelSet& ks = MicroKernels();
    if (gemm_internal::BestIsa() == gemm_internal::Isa::kAvx512) {
      EXPECT_NE(ks.rows_a_kernel, nullptr);
    }
  }
  std::mt19937 rng(5);
  const RowsCase cases[] = {
      // Full tiles only, one depth block.
      {24, 64, 64, 64, 64, 0.f, true, Activation::kNone},
      // Odd everything: 3 full tiles + 1 row, 17 columns (a one-vector sliver), k = 3 blocks.
      {37, 601, 17, 605, 17, 0.f, true, Activation::kRelu},
      // m past the 192-row block with a partial tile (203 = 16 x 12 + 11), n = 2 slivers + 5.
      {203, 257, 69, 260, 71, 0.5f, true, Activation::kGelu},
      // Encoder-like: 128 rows (10 tiles + 8), k = 1024 (4 depth blocks), beta 1.
      {128, 1024, 96, 1024, 96, 1.f, false, Activation::kNone},
      // Fewer rows than a tile: the packed partial tile alone.
      {7, 300, 40, 301, 40, 0.f, true, Activation::kRelu},
      // Exactly 12 rows, k odd and small, n below 16.
      {12, 5, 3, 9, 5, 0.25f, true, Activation::kGelu},
      {61, 129, 33, 131, 33, 0.f, false, Activation::kRelu},
  };
  ThreadPool one(1);
  for (const RowsCase& c : cases) {
    CheckRows(c, one, rng);
    CheckRows(c, Pool(), rng);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, PackedGemmRowsATest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
