// GEMM against a naive double-accumulation reference: Sgemm on every ISA this machine runs,
// edge shapes, transposes, alpha/beta, bias + each activation, batched with broadcast strides,
// and MatMul's numpy semantics on strided views.
#include "kernels/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "activation_reference.h"
#include "kernels/cpu/gemm_internal.h"

namespace mlos::kernels {
namespace {

using gemm_internal::Isa;

std::vector<float> RandomVector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Reference on GemmArgs; c_in is C before the call.
// addend: optional residual (StridedGemm::sum), row stride addend_ld, added before the activation.
std::vector<double> Reference(const GemmArgs& g, const std::vector<float>& c_in,
                              const float* addend = nullptr, int64_t addend_ld = 0) {
  std::vector<double> out(c_in.begin(), c_in.end());
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double av = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const double bv = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += av * bv;
      }
      double v = double(g.alpha) * acc;
      if (g.beta != 0.f) v += double(g.beta) * c_in[size_t(i * g.ldc + j)];
      if (g.bias != nullptr) v += g.bias[j];
      if (g.row_bias != nullptr) v += g.row_bias[i];
      if (addend != nullptr) v += addend[i * addend_ld + j];
      out[size_t(i * g.ldc + j)] = testing::ReferenceActivation(g.activation, v);
    }
  }
  return out;
}

void ExpectNear(const std::vector<double>& want, const float* got, size_t n, int64_t k,
                const std::string& what) {
  const double tol = 1e-5 * (1 + double(k));
  size_t bad = 0;
  for (size_t i = 0; i < n && bad < 5; ++i) {
    if (!(std::abs(want[i] - double(got[i])) <= tol * (1 + std::abs(want[i])))) {
      ADD_FAILURE() << what << " at " << i << ": want " << want[i] << " got " << got[i];
      ++bad;
    }
  }
}

struct Case {
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  bool bias;
  Activation act;
  bool row_bias = false;  // per-row bias (GemmArgs::row_bias)
  bool sum = false;       // residual addend (StridedGemm::sum)
};

std::string Describe(const Case& c, Isa isa, int threads) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) +
         " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) +
         " bias=" + std::to_string(c.bias) + " row_bias=" + std::to_string(c.row_bias) +
         " sum=" + std::to_string(c.sum) + " act=" + std::to_string(int(c.act)) +
         " isa=" + std::to_string(int(isa)) + " threads=" + std::to_string(threads);
}

void RunCase(const Case& c, Isa isa, ThreadPool& pool, std::mt19937& rng) {
  // Leading dimensions padded past the logical size to catch ld mix-ups.
  const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const int64_t lda = a_cols + 3, ldb = b_cols + 5, ldc = c.n + 2;
  std::vector<float> a = RandomVector(size_t(std::max<int64_t>(a_rows * lda, 1)), rng);
  std::vector<float> b = RandomVector(size_t(std::max<int64_t>(b_rows * ldb, 1)), rng);
  std::vector<float> cm = RandomVector(size_t(std::max<int64_t>(c.m * ldc, 1)), rng);
  std::vector<float> bias = RandomVector(size_t(std::max<int64_t>(c.n, 1)), rng);
  std::vector<float> row_bias = RandomVector(size_t(std::max<int64_t>(c.m, 1)), rng);
  const int64_t add_ld = c.n + 7;
  std::vector<float> addend = RandomVector(size_t(std::max<int64_t>(c.m * add_ld, 1)), rng);
  if (c.beta == 0.f) {
    for (float& x : cm) x = std::nanf("");  // beta == 0 must not read C
  }
  GemmArgs g;
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.a = a.data();
  g.lda = lda;
  g.trans_a = c.ta;
  g.b = b.data();
  g.ldb = ldb;
  g.trans_b = c.tb;
  g.c = cm.data();
  g.ldc = ldc;
  g.alpha = c.alpha;
  g.beta = c.beta;
  g.bias = c.bias ? bias.data() : nullptr;
  g.row_bias = c.row_bias ? row_bias.data() : nullptr;
  g.activation.kind = c.act;
  g.activation.min = -0.3f;
  g.activation.max = 0.4f;
  g.activation.alpha = c.act == Activation::kHardSigmoid ? 0.2f : 0.1f;
  std::vector<double> want = Reference(g, cm, c.sum ? addend.data() : nullptr, c.sum ? add_ld : 0);
  // Padding between rows must stay untouched.
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = c.n; j < ldc; ++j) want[size_t(i * ldc + j)] = cm[size_t(i * ldc + j)];
  }
  gemm_internal::StridedGemm s;
  s.m = g.m;
  s.n = g.n;
  s.k = g.k;
  s.a = g.a;
  s.a_rs = c.ta ? 1 : lda;
  s.a_cs = c.ta ? lda : 1;
  s.b = g.b;
  s.b_rs = c.tb ? 1 : ldb;
  s.b_cs = c.tb ? ldb : 1;
  s.c = g.c;
  s.ldc = ldc;
  s.alpha = g.alpha;
  s.beta = g.beta;
  s.bias = g.bias;
  s.row_bias = g.row_bias;
  s.act = g.activation;
  if (c.sum) {
    s.sum = addend.data();
    s.sum_ld = add_ld;
  }
  gemm_internal::RunGemm(s, isa, pool);
  std::vector<double> want_nan_safe = want;
  const std::string what = Describe(c, isa, pool.num_threads());
  // Compare only the m x n area plus the padding (NaN padding compares as NaN == NaN below).
  for (int64_t i = 0; i < c.m; ++i) {
    ExpectNear(std::vector<double>(want.begin() + i * ldc, want.begin() + i * ldc + c.n),
               cm.data() + i * ldc, size_t(c.n), c.k, what + " row " + std::to_string(i));
    for (int64_t j = c.n; j < ldc; ++j) {
      const float before = float(want[size_t(i * ldc + j)]);
      const float after = cm[size_t(i * ldc + j)];
      EXPECT_TRUE((std::isnan(before) && std::isnan(after)) || before == after)
          << what << ": padding written at row " << i;
    }
  }
}

std::vector<Isa> Isas() {
  std::vector<Isa> out = {Isa::kPortable};
  if (gemm_internal::IsaSupported(Isa::kAvx2)) out.push_back(Isa::kAvx2);
  if (gemm_internal::IsaSupported(Isa::kAvx512)) out.push_back(Isa::kAvx512);
  return out;
}

TEST(Gemm, EdgeShapesEveryIsa) {
  std::mt19937 rng(1);
  ThreadPool pool1(1), pool2(2);
  const int64_t sizes[] = {0, 1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 65};
  for (Isa isa : Isas()) {
    for (int64_t m : sizes) {
      for (int64_t n : sizes) {
        for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{33}}) {
          Case c{m, n, k, (m + n) % 2 == 1, (n + k) % 3 == 1, 1.f, 0.f, false, Activation::kNone};
          RunCase(c, isa, (m + n + k) % 2 ? pool2 : pool1, rng);
        }
      }
    }
  }
}

TEST(Gemm, TransposesAlphaBetaBiasActivations) {
  std::mt19937 rng(2);
  ThreadPool pool(2);
  const Activation acts[] = {
      Activation::kNone,    Activation::kRelu,        Activation::kLeakyRelu, Activation::kClip,
      Activation::kSigmoid, Activation::kTanh,        Activation::kGelu,      Activation::kGeluTanh,
      Activation::kSilu,    Activation::kHardSigmoid, Activation::kHardSwish};
  for (Isa isa : Isas()) {
    for (int t = 0; t < 4; ++t) {
      for (Activation act : acts) {
        for (float beta : {0.f, 1.f, -0.5f}) {
          Case c{37, 29, 45, (t & 1) != 0, (t & 2) != 0, 0.75f, beta, true, act};
          RunCase(c, isa, pool, rng);
        }
      }
    }
    // k == 0 with bias and activation: C = act(beta * C + bias).
    RunCase({9, 11, 0, false, false, 1.f, 2.f, true, Activation::kTanh}, isa, pool, rng);
  }
}

TEST(Gemm, LargerThanCacheBlocks) {
  std::mt19937 rng(3);
  ThreadPool pool1(1), pool2(2);
  const Case cases[] = {
      {300, 1030, 700, false, false, 1.f, 0.5f, true, Activation::kRelu},
      {1, 2100, 1500, false, true, 1.f, 0.f, true, Activation::kNone},
      {130, 64, 2000, true, false, -1.f, 1.f, false, Activation::kNone},
      {777, 5, 300, true, true, 2.f, 0.f, true, Activation::kSilu},
      {64, 4100, 96, false, false, 1.f, 0.f, false, Activation::kGelu},
      // Few rows: the unpacked small-m path (B streamed in place), with column tails.
      {1, 2100, 1500, false, false, 0.5f, 1.f, true, Activation::kRelu},
      {2, 1000, 700, false, false, 1.f, 0.f, true, Activation::kGelu},
      {3, 77, 3000, true, false, 1.f, -1.f, false, Activation::kNone},
      {4, 530, 257, true, false, 2.f, 0.f, true, Activation::kTanh},
      {5, 530, 257, false, false, 1.f, 0.f, true, Activation::kRelu},
      // A few row groups of the small-m path, k-blocked (first/last epilogue per block).
      {12, 1100, 700, false, false, 1.f, 0.5f, true, Activation::kGelu},
      {16, 300, 1000, true, false, 1.5f, 0.f, true, Activation::kRelu},
      {9, 70, 530, false, false, 1.f, -1.f, false, Activation::kNone},
      {24, 650, 600, false, false, 1.f, 0.25f, true, Activation::kSilu},
      {32, 1030, 300, false, false, 1.f, 0.f, false, Activation::kNone},
      // Few rows with a transposed B: the dot-product path, k-blocked past small_m_dot rows.
      {7, 300, 2500, false, true, 1.f, 0.5f, true, Activation::kGelu},
      {20, 130, 1030, false, true, -1.f, 0.f, true, Activation::kRelu},
      {2, 4099, 37, false, true, 1.f, 0.f, false, Activation::kNone},
  };
  for (Isa isa : Isas()) {
    for (const Case& c : cases) {
      RunCase(c, isa, pool1, rng);
      RunCase(c, isa, pool2, rng);
    }
  }
}

// Per-row bias (a convolution's output channels) on every path: packed tiles with partial
// rows/columns, the small-m paths (one pass and k-blocked row groups), shapes that would take
// the transposed-B dot path or the matrix-vector shortcut (both route to paths that apply it),
// k == 0, with column bias, beta and activations.
TEST(Gemm, RowBiasEveryPath) {
  std::mt19937 rng(6);
  ThreadPool pool1(1), pool2(2);
  const Case cases[] = {
      {37, 29, 45, false, false, 1.f, 0.f, false, Activation::kNone, true},
      {64, 3136, 147, false, false, 1.f, 0.f, false, Activation::kRelu, true},
      {96, 200, 16, false, false, 1.f, 0.f, false, Activation::kSilu, true},
      {13, 77, 9, false, false, 1.f, 0.5f, true, Activation::kClip, true},
      {3, 530, 257, false, false, 1.f, 0.f, false, Activation::kSigmoid, true},
      {24, 650, 600, false, false, 1.f, 0.f, false, Activation::kRelu, true},
      {20, 130, 1030, false, true, 1.f, 0.f, true, Activation::kNone, true},
      {50, 1, 40, false, false, 1.f, 0.f, false, Activation::kNone, true},
      {300, 49, 700, false, false, 1.f, 0.f, false, Activation::kClip, true},
      {9, 11, 0, false, false, 1.f, 2.f, true, Activation::kTanh, true},
  };
  for (Isa isa : Isas()) {
    for (const Case& c : cases) {
      RunCase(c, isa, pool1, rng);
      RunCase(c, isa, pool2, rng);
    }
  }
}

// Residual addend in the tile epilogue (before the activation): full and partial tiles, every
// row-tile height, several KC depth blocks (added once, on the last), shapes that would
// otherwise take the small-m, dot or matrix-vector paths, k == 0, with biases and beta.
TEST(Gemm, AddendEveryPath) {
  std::mt19937 rng(8);
  ThreadPool pool1(1), pool2(2);
  const Case cases[] = {
      {37, 29, 45, false, false, 1.f, 0.f, false, Activation::kRelu, true, true},
      {64, 3136, 576, false, false, 1.f, 0.f, false, Activation::kRelu, true, true},
      {100, 200, 600, false, false, 1.f, 0.f, true, Activation::kSilu, false, true},
      {13, 77, 9, false, false, 1.f, 0.5f, true, Activation::kClip, true, true},
      {3, 530, 257, false, false, 1.f, 0.f, false, Activation::kRelu, false, true},
      {20, 130, 1030, false, true, 1.5f, 0.f, true, Activation::kNone, false, true},
      {50, 1, 40, false, false, 1.f, 0.f, false, Activation::kRelu, false, true},
      {5, 17, 33, true, false, 1.f, 0.f, false, Activation::kTanh, true, true},
      {9, 11, 0, false, false, 1.f, 2.f, true, Activation::kRelu, true, true},
  };
  for (Isa isa : Isas()) {
    for (const Case& c : cases) {
      RunCase(c, isa, pool1, rng);
      RunCase(c, isa, pool2, rng);
    }
  }
}

TEST(Gemm, RandomShapes) {
  std::mt19937 rng(4);
  ThreadPool pool(2);
  std::uniform_int_distribution<int64_t> dim(0, 150);
  for (Isa isa : Isas()) {
    for (int i = 0; i < 60; ++i) {
      Case c{dim(rng),
             dim(rng),
             dim(rng),
             rng() % 2 == 0,
             rng() % 2 == 0,
             (rng() % 2) ? 1.f : 1.5f,
             (rng() % 2) ? 0.f : 0.25f,
             rng() % 2 == 0,
             Activation(rng() % 11)};
      RunCase(c, isa, pool, rng);
    }
  }
}

TEST(Gemm, SgemmPublicAndBatchedBroadcast) {
  std::mt19937 rng(5);
  ThreadPool pool(2);
  const int64_t batch = 5, m = 19, n = 23, k = 17;
  std::vector<float> a = RandomVector(size_t(batch * m * k), rng);
  std::vector<float> b = RandomVector(size_t(k * n), rng);  // stride 0: one B for all
  std::vector<float> c(size_t(batch * m * n), 0.f);
  GemmArgs g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.data();
  g.lda = k;
  g.b = b.data();
  g.ldb = n;
  g.c = c.data();
  g.ldc = n;
  for (int threads : {1, 2}) {
    ThreadPool p(threads);
    SgemmBatched(g, batch, m * k, 0, m * n, p);
    for (int64_t i = 0; i < batch; ++i) {
      GemmArgs gi = g;
      gi.a = a.data() + i * m * k;
      std::vector<float> zero(size_t(m * n), 0.f);
      ExpectNear(Reference(gi, zero), c.data() + i * m * n, size_t(m * n), k,
                 "batch " + std::to_string(i));
    }
  }
  // Large batched GEMMs take the other (whole-pool per GEMM) branch.
  const int64_t bm = 200, bn = 210, bk = 190;
  std::vector<float> ba = RandomVector(size_t(bm * bk), rng);
  std::vector<float> bb = RandomVector(size_t(2 * bk * bn), rng);
  std::vector<float> bc(size_t(2 * bm * bn), 0.f);
  GemmArgs h;
  h.m = bm;
  h.n = bn;
  h.k = bk;
  h.a = ba.data();
  h.lda = bk;
  h.b = bb.data();
  h.ldb = bn;
  h.c = bc.data();
  h.ldc = bn;
  SgemmBatched(h, 2, 0, bk * bn, bm * bn, pool);
  for (int64_t i = 0; i < 2; ++i) {
    GemmArgs hi = h;
    hi.b = bb.data() + i * bk * bn;
    std::vector<float> zero(size_t(bm * bn), 0.f);
    ExpectNear(Reference(hi, zero), bc.data() + i * bm * bn, size_t(bm * bn), bk,
               "big batch " + std::to_string(i));
  }
  Sgemm(h, pool);  // public entry, auto ISA
  std::vector<float> zero(size_t(bm * bn), 0.f);
  GemmArgs h0 = h;
  ExpectNear(Reference(h0, zero), bc.data(), size_t(bm * bn), bk, "Sgemm");
}

// ---- MatMul ----

Tensor RandomTensor(const Shape& shape, std::mt19937& rng) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  Result<Tensor> t = Tensor::FromVector<float>(shape, RandomVector(size_t(n), rng));
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

// numpy.matmul reference on logical (row-major) values via GetAsDouble.
std::vector<double> RefMatMul(const Tensor& a, const Tensor& b, const Shape& out_shape) {
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const size_t rank = std::max(as.size(), bs.size());
  Shape batch(rank - 2, 1);
  auto batch_of = [&](const Shape& s) {
    Shape bsh(rank - 2, 1);
    for (size_t d = 0; d + 2 < s.size(); ++d) bsh[rank - s.size() + d] = s[d];
    return bsh;
  };
  Shape ab = batch_of(as), bb = batch_of(bs);
  int64_t total = 1;
  for (size_t d = 0; d < rank - 2; ++d) {
    batch[d] = std::max(ab[d], bb[d]);
    total *= batch[d];
  }
  std::vector<double> out;
  for (int64_t t = 0; t < total; ++t) {
    // Flat batch index -> flat index into a's and b's batch.
    int64_t rem = t, fa = 0, fb = 0, mula = 1, mulb = 1;
    for (size_t d = rank - 2; d-- > 0;) {
      const int64_t i = rem % batch[d];
      rem /= batch[d];
      fa += (ab[d] == 1 ? 0 : i) * mula;
      fb += (bb[d] == 1 ? 0 : i) * mulb;
      mula *= ab[d];
      mulb *= bb[d];
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          acc += a.GetAsDouble(fa * m * k + i * k + p) * b.GetAsDouble(fb * k * n + p * n + j);
        }
        out.push_back(acc);
      }
    }
  }
  int64_t want_n = 1;
  for (int64_t d : out_shape) want_n *= d;
  EXPECT_EQ(int64_t(out.size()), want_n);
  return out;
}

void CheckMatMul(const Tensor& a, const Tensor& b, ThreadPool& pool, const std::string& what) {
  Result<Shape> shape = MatMulShape(a.shape(), b.shape());
  ASSERT_TRUE(shape.ok()) << what << ": " << shape.status().ToString();
  Result<Tensor> out = Tensor::Empty(DType::kFloat32, *shape);
  ASSERT_TRUE(out.ok());
  Status s = MatMul(a, b, *out, pool);
  ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
  std::vector<double> want = RefMatMul(a, b, *shape);
  const int64_t k = a.shape().back();
  for (int64_t i = 0; i < out->numel(); ++i) {
    ASSERT_NEAR(want[size_t(i)], out->GetAsDouble(i), 1e-5 * (1 + double(k)))
        << what << " at " << i;
  }
}

TEST(MatMul, ShapeRule) {
  auto shape = [](Shape a, Shape b) { return MatMulShape(a, b); };
  EXPECT_EQ(*shape({3}, {3}), Shape{});
  EXPECT_EQ(*shape({3}, {3, 4}), Shape{4});
  EXPECT_EQ(*shape({2, 3}, {3}), Shape{2});
  EXPECT_EQ(*shape({5, 1, 2, 3}, {4, 3, 6}), (Shape{5, 4, 2, 6}));
  EXPECT_EQ(*shape({7, 2, 3}, {3}), (Shape{7, 2}));
  EXPECT_EQ(*shape({3}, {7, 3, 2}), (Shape{7, 2}));
  EXPECT_EQ(*shape({0, 2, 3}, {3, 4}), (Shape{0, 2, 4}));
  EXPECT_FALSE(shape({2, 3}, {4, 5}).ok());
  EXPECT_FALSE(shape({2, 2, 3}, {3, 3, 5}).ok());
  EXPECT_FALSE(shape({}, {3}).ok());
  Status s = shape({2, 3}, {4, 5}).status();
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[4, 5]"), std::string::npos) << s.message();
}

TEST(MatMul, OneDimensionalAndBroadcast) {
  std::mt19937 rng(6);
  ThreadPool pool(2);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7}},
      {{7}, {7, 5}},
      {{4, 7}, {7}},
      {{3, 4, 7}, {7}},
      {{7}, {2, 7, 5}},
      {{2, 1, 4, 7}, {3, 7, 5}},
      {{1, 4, 7}, {6, 7, 5}},
      {{6, 4, 7}, {7, 5}},
      {{2, 3, 0, 7}, {7, 5}},
      {{4, 0}, {0, 5}},
      {{40, 70}, {70, 50}},
      {{700, 900}, {900}},
      {{2, 300, 77}, {77}},
      {{700, 900}, {900, 1}},
      {{3, 33, 65}, {3, 65, 17}},
  };
  for (const auto& [sa, sb] : cases) {
    CheckMatMul(RandomTensor(sa, rng), RandomTensor(sb, rng), pool,
                ShapeToString(sa) + " x " + ShapeToString(sb));
  }
}

TEST(MatMul, StridedViews) {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  // Transposed operands (permuted views), a sliced view, and a broadcast (stride 0) view.
  Tensor a = RandomTensor({3, 9, 6}, rng);  // viewed as [3, 6, 9]
  Tensor b = RandomTensor({11, 9}, rng);    // viewed as [9, 11]
  const int64_t pa[] = {0, 2, 1}, pb[] = {1, 0};
  Tensor at = *a.Permute(pa), bt = *b.Permute(pb);
  CheckMatMul(at, bt, pool, "permuted");
  Tensor big = RandomTensor({20, 30}, rng);
  Tensor sl = *(*big.Slice(0, 1, 19, 2)).Slice(1, 3, 30, 3);  // [9, 9] with strides 60, 3
  CheckMatMul(sl, bt, pool, "sliced");
  Tensor row = RandomTensor({1, 9}, rng);
  Tensor bcast = *row.BroadcastTo({5, 9});  // row stride 0
  CheckMatMul(bcast, bt, pool, "broadcast rows");
  Tensor batch_b = *RandomTensor({1, 9, 4}, rng).BroadcastTo({3, 9, 4});
  CheckMatMul(at, batch_b, pool, "broadcast batch");
  // Matrix-vector products with a transposed matrix and a strided vector.
  Tensor big_t = *RandomTensor({900, 700}, rng).Permute(pb);  // [700, 900], column-major
  CheckMatMul(big_t, RandomTensor({900}, rng), pool, "transposed matrix x vector");
  Tensor vec_view = *RandomTensor({1800}, rng).Slice(0, 0, 1800, 2);  // stride 2
  CheckMatMul(RandomTensor({700, 900}, rng), vec_view, pool, "matrix x strided vector");
  CheckMatMul(big_t, vec_view, pool, "transposed matrix x strided vector");
  // A permuted output view.
  Tensor x = RandomTensor({2, 5, 9}, rng);
  Result<Shape> shape = MatMulShape(x.shape(), bt.shape());
  ASSERT_TRUE(shape.ok());
  Tensor store = *Tensor::Empty(DType::kFloat32, {11, 2, 5});
  const int64_t po[] = {1, 2, 0};
  Tensor out = *store.Permute(po);  // [2, 5, 11], column stride 10
  ASSERT_EQ(out.shape(), *shape);
  ASSERT_TRUE(MatMul(x, bt, out, pool).ok());
  std::vector<double> want = RefMatMul(x, bt, *shape);
  for (int64_t i = 0; i < out.numel(); ++i) {
    ASSERT_NEAR(want[size_t(i)], out.GetAsDouble(i), 1e-4) << "permuted out at " << i;
  }
}

TEST(MatMul, RejectsBadArguments) {
  std::mt19937 rng(8);
  ThreadPool pool(1);
  Tensor a = RandomTensor({2, 3}, rng), b = RandomTensor({3, 4}, rng);
  Tensor wrong = *Tensor::Empty(DType::kFloat32, {2, 5});
  EXPECT_FALSE(MatMul(a, b, wrong, pool).ok());
  Tensor ints = *Tensor::Empty(DType::kInt32, {3, 4});
  Tensor out = *Tensor::Empty(DType::kFloat32, {2, 4});
  EXPECT_FALSE(MatMul(a, ints, out, pool).ok());
  EXPECT_FALSE(MatMul(a, a, out, pool).ok());
}

}  // namespace
}  // namespace mlos::kernels
