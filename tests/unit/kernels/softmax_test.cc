// Softmax, LogSoftmax and LayerNorm against double references, any axis, strided inputs and
// outputs, both dispatch paths.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class NormTest : public BothPaths {};

void CheckSoftmax(const Tensor& x, int64_t axis, bool log) {
  SCOPED_TRACE(ShapeToString(x.shape()) + " axis " + std::to_string(axis) + (log ? " log" : ""));
  Tensor y = Tensor::Empty(x.dtype(), x.shape()).value();
  Status s = Softmax(x, axis, y, Pool(), log);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const int r = std::max(x.rank(), 1);
  const int ax = static_cast<int>(axis < 0 ? axis + r : axis);
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = Unflatten(i, x.shape());
    double m = -INFINITY;
    const int64_t n = x.rank() == 0 ? 1 : x.dim(ax);
    std::vector<double> row;
    for (int64_t k = 0; k < n; ++k) {
      if (x.rank() > 0) idx[static_cast<size_t>(ax)] = k;
      int64_t flat = 0;
      for (size_t d = 0; d < idx.size(); ++d) flat = flat * x.shape()[d] + idx[d];
      row.push_back(x.GetAsDouble(flat));
      m = std::max(m, row.back());
    }
    double sum = 0;
    for (double v : row) sum += std::exp(v - m);
    const double xv = x.GetAsDouble(i);
    const double want = log ? xv - m - std::log(sum) : std::exp(xv - m) / sum;
    ASSERT_TRUE(Close(y.GetAsDouble(i), want, 3e-6, 1e-7))
        << i << " got " << y.GetAsDouble(i) << " want " << want;
  }
}

TEST_P(NormTest, SoftmaxAnyAxis) {
  std::mt19937 rng(21);
  for (int rep = 0; rep < 40; ++rep) {
    Shape shape = RandomShape(rng, 4, 9);
    const DType dt = rep % 5 == 0 ? DType::kFloat64 : DType::kFloat32;
    Tensor x = RandomView(dt, shape, static_cast<ViewKind>(rep % 4), rng, -20, 20);
    const int r = std::max<int>(1, static_cast<int>(shape.size()));
    const int64_t axis = static_cast<int64_t>(rng() % static_cast<unsigned>(r)) - (rep % 2 ? r : 0);
    CheckSoftmax(x, axis, rep % 3 == 0);
  }
  std::mt19937 rng2(22);
  CheckSoftmax(RandomTensor(DType::kFloat32, {7, 1000}, rng2, -50, 50), -1, false);
  CheckSoftmax(RandomTensor(DType::kFloat32, {7, 1000}, rng2, -50, 50), 1, true);
  CheckSoftmax(RandomTensor(DType::kFloat32, {3, 100, 33}, rng2, -50, 50), 1, false);
  CheckSoftmax(RandomTensor(DType::kFloat32, {1}, rng2, -50, 50), 0, false);
  // Large values stay finite (stability).
  Tensor big = Tensor::FromVector<float>({3}, {1000.f, 1001.f, 999.f}).value();
  CheckSoftmax(big, 0, false);
  CheckSoftmax(big, 0, true);
}

TEST_P(NormTest, SoftmaxStridedOutputAndErrors) {
  std::mt19937 rng(23);
  Tensor x = RandomTensor(DType::kFloat32, {4, 6}, rng, -3, 3);
  Tensor base = Tensor::Empty(DType::kFloat32, {6, 4}).value();
  Tensor yt = base.Permute(std::vector<int64_t>{1, 0}).value();
  ASSERT_TRUE(Softmax(x, 1, yt, Pool()).ok());
  Tensor yc = Tensor::Empty(DType::kFloat32, {4, 6}).value();
  ASSERT_TRUE(Softmax(x, 1, yc, Pool()).ok());
  for (int64_t i = 0; i < 24; ++i) EXPECT_FLOAT_EQ(yt.GetAsDouble(i), yc.GetAsDouble(i));
  EXPECT_FALSE(Softmax(x, 2, yc, Pool()).ok());
  EXPECT_FALSE(Softmax(x, -3, yc, Pool()).ok());
  Tensor bad = Tensor::Empty(DType::kFloat32, {6, 4}).value();
  Status s = Softmax(x, 1, bad, Pool());
  EXPECT_NE(s.message().find("[6, 4]"), std::string::npos);
  EXPECT_NE(s.message().find("[4, 6]"), std::string::npos);
  Tensor xi = Tensor::Zeros(DType::kInt32, {4, 6}).value();
  EXPECT_FALSE(Softmax(xi, 1, xi, Pool()).ok());
  Tensor e = Tensor::Empty(DType::kFloat32, {0, 3}).value();
  EXPECT_TRUE(Softmax(e, 1, e, Pool()).ok());
}

void CheckLayerNorm(const Tensor& x, const Tensor& g, const Tensor* b, int64_t axis, float eps) {
  SCOPED_TRACE(ShapeToString(x.shape()) + " axis " + std::to_string(axis));
  Tensor y = Tensor::Empty(DType::kFloat32, x.shape()).value();
  Status s = LayerNorm(x, g, b, axis, eps, y, Pool());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const int ax = static_cast<int>(axis < 0 ? axis + x.rank() : axis);
  const Shape norm(x.shape().begin() + ax, x.shape().end());
  const int64_t d = NumElements(norm).value();
  for (int64_t row = 0; row * d < x.numel(); ++row) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mean += x.GetAsDouble(row * d + j);
    mean /= static_cast<double>(d);
    for (int64_t j = 0; j < d; ++j) {
      const double t = x.GetAsDouble(row * d + j) - mean;
      var += t * t;
    }
    var /= static_cast<double>(d);
    for (int64_t j = 0; j < d; ++j) {
      auto nidx = Unflatten(j, norm);
      double want =
          (x.GetAsDouble(row * d + j) - mean) / std::sqrt(var + eps) * AtBroadcast(g, nidx);
      if (b) want += AtBroadcast(*b, nidx);
      ASSERT_TRUE(Close(y.GetAsDouble(row * d + j), want, 2e-5, 2e-5))
          << row << "," << j << " got " << y.GetAsDouble(row * d + j) << " want " << want;
    }
  }
}

TEST_P(NormTest, LayerNormShapesAndBroadcastParams) {
  std::mt19937 rng(24);
  for (int rep = 0; rep < 30; ++rep) {
    Shape shape = RandomShape(rng, 4, 9);
    if (shape.empty()) shape = {3};
    Tensor x = RandomView(DType::kFloat32, shape, static_cast<ViewKind>(rep % 4), rng, -4, 4);
    const int64_t axis = static_cast<int64_t>(rng() % shape.size());
    Shape norm(shape.begin() + axis, shape.end());
    Shape gshape = norm;
    if (rep % 3 == 1 && !gshape.empty()) gshape.erase(gshape.begin());  // fewer dims
    if (rep % 3 == 2) {
      for (auto& v : gshape) v = 1;  // broadcast scalar-like
    }
    Tensor g = RandomTensor(DType::kFloat32, gshape, rng, 0.5, 2);
    Tensor b = RandomTensor(DType::kFloat32, norm, rng, -1, 1);
    CheckLayerNorm(x, g, rep % 2 ? &b : nullptr,
                   rep % 2 ? axis : axis - static_cast<int64_t>(shape.size()), 1e-5f);
  }
  // Rows with a large offset (two-pass variance) and a long row (vector body + tail).
  Tensor x = RandomTensor(DType::kFloat32, {5, 1027}, rng, 1000, 1001);
  Tensor g = RandomTensor(DType::kFloat32, {1027}, rng, 0.5, 2);
  CheckLayerNorm(x, g, &g, -1, 1e-5f);
}

TEST_P(NormTest, LayerNormErrors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Tensor y = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Tensor g4 = Tensor::Zeros(DType::kFloat32, {4}).value();
  Status s = LayerNorm(x, g4, nullptr, -1, 1e-5f, y, Pool());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[4]"), std::string::npos);
  Tensor g3 = Tensor::Zeros(DType::kFloat32, {3}).value();
  EXPECT_FALSE(LayerNorm(x, g3, nullptr, 2, 1e-5f, y, Pool()).ok());
  EXPECT_FALSE(LayerNorm(x, g3, &g4, -1, 1e-5f, y, Pool()).ok());
  EXPECT_FALSE(LayerNorm(x, g3, nullptr, -1, -1.f, y, Pool()).ok());
  Tensor y2 = Tensor::Zeros(DType::kFloat32, {3, 2}).value();
  EXPECT_FALSE(LayerNorm(x, g3, nullptr, -1, 1e-5f, y2, Pool()).ok());
  EXPECT_TRUE(LayerNorm(x, g3, nullptr, -1, 1e-5f, y, Pool()).ok());
}

INSTANTIATE_TEST_SUITE_P(Paths, NormTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
