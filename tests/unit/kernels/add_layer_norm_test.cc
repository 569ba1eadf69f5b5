// AddLayerNorm (LayerNorm(x + skip) in one pass) against a double-precision reference: odd and
// vector-sized rows, several axes, with and without bias, 1 and 2 threads, the output written
// over x's buffer, and the mismatch errors; both dispatch paths.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/layer_norm.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class AddLayerNormTest : public BothPaths {};

// Reference over contiguous x, skip ([rows, d]), gamma/beta of d values.
std::vector<double> Reference(const std::vector<float>& x, const std::vector<float>& s,
                              const std::vector<float>& g, const std::vector<float>* b,
                              int64_t rows, int64_t d, double eps) {
  std::vector<double> y(static_cast<size_t>(rows * d));
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mean += double(x[r * d + i]) + double(s[r * d + i]);
    mean /= double(d);
    for (int64_t i = 0; i < d; ++i) {
      const double v = double(x[r * d + i]) + double(s[r * d + i]) - mean;
      var += v * v;
    }
    var /= double(d);
    for (int64_t i = 0; i < d; ++i) {
      const double v = (double(x[r * d + i]) + double(s[r * d + i]) - mean) / std::sqrt(var + eps);
      y[r * d + i] = v * g[i] + (b ? (*b)[i] : 0.0);
    }
  }
  return y;
}

std::vector<float> Values(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

TEST_P(AddLayerNormTest, MatchesReference) {
  std::mt19937 rng(11);
  ThreadPool one(1);
  for (ThreadPool* pool : {&one, &Pool()}) {
    for (const Shape& shape :
         {Shape{3, 5}, Shape{2, 7, 37}, Shape{1, 128, 256}, Shape{4, 2, 24}, Shape{130, 16}}) {
      for (int axis_from_end : {1, 2}) {
        if (axis_from_end > static_cast<int>(shape.size())) continue;
        for (int with_bias = 0; with_bias < 2; ++with_bias) {
          for (int in_place = 0; in_place < 2; ++in_place) {
            const int64_t axis = static_cast<int64_t>(shape.size()) - axis_from_end;
            int64_t d = 1, n = 1;
            for (size_t i = 0; i < shape.size(); ++i) {
              n *= shape[i];
              if (static_cast<int64_t>(i) >= axis) d *= shape[i];
            }
            SCOPED_TRACE(ShapeToString(shape) + " axis " + std::to_string(axis) + " bias " +
                         std::to_string(with_bias) + " in_place " + std::to_string(in_place) +
                         " threads " + std::to_string(pool->num_threads()));
            // A large common offset: the two-pass variance must not cancel.
            const std::vector<float> xv = Values(n, rng, 20.f, 22.f), sv = Values(n, rng, -1, 1);
            const std::vector<float> gv = Values(d, rng, 0.5f, 1.5f), bv = Values(d, rng, -1, 1);
            Tensor x = Tensor::FromVector<float>(shape, xv).value();
            Tensor s = Tensor::FromVector<float>(shape, sv).value();
            Shape norm(shape.begin() + axis, shape.end());
            Tensor g = Tensor::FromVector<float>(norm, gv).value();
            Tensor b = Tensor::FromVector<float>(norm, bv).value();
            Tensor y = in_place ? x : Tensor::Empty(DType::kFloat32, shape).value();
            Status st = AddLayerNorm(x, s, g, with_bias ? &b : nullptr, axis, 1e-5f, y, *pool);
            ASSERT_TRUE(st.ok()) << st.ToString();
            const auto want = Reference(xv, sv, gv, with_bias ? &bv : nullptr, n / d, d, 1e-5);
            for (int64_t i = 0; i < n; ++i)
              ASSERT_NEAR(y.GetAsDouble(i), want[i], 2e-4) << "element " << i;
          }
        }
      }
    }
  }
}

TEST_P(AddLayerNormTest, Errors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 4}).value();
  Tensor g = Tensor::Zeros(DType::kFloat32, {4}).value();
  Tensor y = Tensor::Empty(DType::kFloat32, {2, 4}).value();
  Tensor wrong_shape = Tensor::Zeros(DType::kFloat32, {1, 4}).value();
  Tensor wrong_type = Tensor::Zeros(DType::kFloat64, {2, 4}).value();
  EXPECT_FALSE(AddLayerNorm(x, wrong_shape, g, nullptr, -1, 1e-5f, y, Pool()).ok());
  EXPECT_FALSE(AddLayerNorm(x, wrong_type, g, nullptr, -1, 1e-5f, y, Pool()).ok());
  Tensor bad_g = Tensor::Zeros(DType::kFloat32, {3}).value();
  EXPECT_FALSE(AddLayerNorm(x, x, bad_g, nullptr, -1, 1e-5f, y, Pool()).ok());
  EXPECT_FALSE(AddLayerNorm(x, x, g, nullptr, 5, 1e-5f, y, Pool()).ok());
}

INSTANTIATE_TEST_SUITE_P(Paths, AddLayerNormTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
