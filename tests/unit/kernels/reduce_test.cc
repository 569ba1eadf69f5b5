// Reductions and arg-reductions against double references over random shapes, axes, dtypes and
// layouts, on both dispatch paths.
#include "kernels/cpu/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class ReduceTest : public BothPaths {};

const ReduceOp kOps[] = {
    ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax,    ReduceOp::kMin,       ReduceOp::kProd,
    ReduceOp::kL1,  ReduceOp::kL2,   ReduceOp::kLogSum, ReduceOp::kLogSumExp, ReduceOp::kSumSquare};

double Finish(ReduceOp op, const std::vector<double>& v) {
  double r = 0;
  switch (op) {
    case ReduceOp::kSum:
      for (double x : v) r += x;
      return r;
    case ReduceOp::kMean:
      for (double x : v) r += x;
      return r / static_cast<double>(v.size());
    case ReduceOp::kMax:
      r = -INFINITY;
      for (double x : v) r = std::max(r, x);
      return r;
    case ReduceOp::kMin:
      r = INFINITY;
      for (double x : v) r = std::min(r, x);
      return r;
    case ReduceOp::kProd:
      r = 1;
      for (double x : v) r *= x;
      return r;
    case ReduceOp::kL1:
      for (double x : v) r += std::fabs(x);
      return r;
    case ReduceOp::kL2:
      for (double x : v) r += x * x;
      return std::sqrt(r);
    case ReduceOp::kLogSum:
      for (double x : v) r += x;
      return std::log(r);
    case ReduceOp::kLogSumExp:
      for (double x : v) r += std::exp(x);
      return std::log(r);
    case ReduceOp::kSumSquare:
      for (double x : v) r += x * x;
      return r;
  }
  return r;
}

void CheckReduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  SCOPED_TRACE(std::to_string(static_cast<int>(op)) + " " + std::string(DTypeName(x.dtype())) +
               " " + ShapeToString(x.shape()) + " axes " + ShapeToString(axes) +
               (keepdims ? " keep" : ""));
  Result<Shape> ys = ReduceShape(x.shape(), axes, keepdims);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(x.dtype(), *ys).value();
  Status s = Reduce(op, x, axes, keepdims, y, Pool());
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Reference: bucket every input element by its output position.
  const int r = x.rank();
  std::vector<bool> red(static_cast<size_t>(r), axes.empty());
  for (int64_t a : axes) red[static_cast<size_t>(a < 0 ? a + r : a)] = true;
  Shape kept;
  for (int d = 0; d < r; ++d) {
    if (!red[static_cast<size_t>(d)]) kept.push_back(x.dim(d));
  }
  const int64_t out_n = NumElements(kept).value();
  std::vector<std::vector<double>> buckets(static_cast<size_t>(out_n));
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = Unflatten(i, x.shape());
    int64_t o = 0;
    for (int d = 0; d < r; ++d) {
      if (!red[static_cast<size_t>(d)]) o = o * x.dim(d) + idx[static_cast<size_t>(d)];
    }
    buckets[static_cast<size_t>(o)].push_back(x.GetAsDouble(i));
  }
  const double tol = IsFloating(x.dtype()) ? Tolerance(x.dtype(), 2e-5) : 0;
  for (int64_t o = 0; o < out_n; ++o) {
    double want = Finish(op, buckets[static_cast<size_t>(o)]);
    if (IsInteger(x.dtype()) &&
        (op == ReduceOp::kMean || op == ReduceOp::kL2 || op == ReduceOp::kLogSum)) {
      want = std::trunc(want);
    } else if (IsInteger(x.dtype()) && op != ReduceOp::kMax && op != ReduceOp::kMin) {
      want = WrapToDType(x.dtype(), want);  // integer sums wrap
    }
    const double got = y.GetAsDouble(o);
    ASSERT_TRUE(Close(got, want, tol, tol)) << o << ": got " << got << " want " << want;
  }
}

TEST_P(ReduceTest, RandomShapesAxesDtypes) {
  std::mt19937 rng(11);
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                          DType::kInt32,   DType::kInt64,   DType::kInt8,    DType::kUInt8};
  const ViewKind kinds[] = {ViewKind::kContiguous, ViewKind::kPermuted, ViewKind::kSliced,
                            ViewKind::kBroadcast};
  int rep = 0;
  for (ReduceOp op : kOps) {
    for (DType dt : dtypes) {
      for (int k = 0; k < 4; ++k) {
        Shape shape = RandomShape(rng, 4, 7);
        const bool small = op == ReduceOp::kProd || IsInteger(dt) || dt == DType::kFloat16 ||
                           dt == DType::kBFloat16;
        const double lo =
            op == ReduceOp::kLogSum ? 0.1 : (small ? (IsUnsignedInteger(dt) ? 0 : -2) : -5);
        const double hi = small ? 2 : 5;
        Tensor x = RandomView(dt, shape, kinds[rep++ % 4], rng, lo, hi);
        if (IsInteger(dt) && op == ReduceOp::kLogSum) continue;
        if (IsInteger(dt) && op == ReduceOp::kLogSumExp) continue;
        std::vector<int64_t> axes;
        for (int d = 0; d < x.rank(); ++d) {
          if (rng() % 2) axes.push_back(rng() % 2 ? d : d - x.rank());
        }
        CheckReduce(op, x, axes, rng() % 2);
      }
    }
  }
}

TEST_P(ReduceTest, Float32FastPathsLargeRows) {
  std::mt19937 rng(12);
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin,
                      ReduceOp::kLogSumExp, ReduceOp::kL2}) {
    Tensor x = RandomTensor(DType::kFloat32, {37, 1029}, rng, -3, 3);
    CheckReduce(op, x, {1}, false);
    CheckReduce(op, x, {0}, true);
    CheckReduce(op, x, {}, false);
    Tensor one = RandomTensor(DType::kFloat32, {1}, rng, -3, 3);
    CheckReduce(op, one, {0}, false);
    // Leading axes reduced onto a contiguous block of outputs (row accumulation).
    Tensor x3 = RandomTensor(DType::kFloat32, {6, 7, 300}, rng, -3, 3);
    CheckReduce(op, x3, {0}, false);
    CheckReduce(op, x3, {0, 1}, true);
    CheckReduce(op, x3, {0, 2}, false);
  }
}

TEST_P(ReduceTest, EmptyReductionsAndOutputs) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {3, 0}).value();
  const int64_t ax1[] = {1};
  Tensor y = Tensor::Empty(DType::kFloat32, {3}).value();
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, ax1, false, y, Pool()).ok());
  EXPECT_EQ(y.GetAsDouble(0), 0);
  ASSERT_TRUE(Reduce(ReduceOp::kProd, x, ax1, false, y, Pool()).ok());
  EXPECT_EQ(y.GetAsDouble(0), 1);
  ASSERT_TRUE(Reduce(ReduceOp::kMax, x, ax1, false, y, Pool()).ok());
  EXPECT_EQ(y.GetAsDouble(0), -INFINITY);
  ASSERT_TRUE(Reduce(ReduceOp::kLogSumExp, x, ax1, false, y, Pool()).ok());
  EXPECT_EQ(y.GetAsDouble(0), -INFINITY);
  const int64_t ax0[] = {0};
  Tensor y0 = Tensor::Empty(DType::kFloat32, {0}).value();
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, ax0, false, y0, Pool()).ok());
  // NaN propagates through max.
  Tensor n = Tensor::FromVector<float>({10}, {1, 2, 3, NAN, 5, 6, 7, 8, 9, 10}).value();
  Tensor s = Tensor::Empty(DType::kFloat32, {}).value();
  ASSERT_TRUE(Reduce(ReduceOp::kMax, n, {}, false, s, Pool()).ok());
  EXPECT_TRUE(std::isnan(s.GetAsDouble(0)));
}

TEST_P(ReduceTest, ArgMaxArgMin) {
  std::mt19937 rng(13);
  for (DType dt : {DType::kFloat32, DType::kInt32, DType::kFloat16, DType::kUInt8}) {
    for (int rep = 0; rep < 12; ++rep) {
      Shape shape = RandomShape(rng, 4, 6);
      if (shape.empty()) shape = {5};
      Tensor x = RandomView(dt, shape, static_cast<ViewKind>(rep % 4), rng, 0, 4);  // ties
      const int64_t axis = static_cast<int64_t>(rng() % shape.size());
      for (bool is_max : {true, false}) {
        for (bool last : {false, true}) {
          const bool keep = rng() % 2;
          const int64_t axes[] = {axis};
          Tensor y = Tensor::Empty(DType::kInt64, ReduceShape(shape, axes, keep).value()).value();
          ASSERT_TRUE(ArgReduce(is_max, x, axis, keep, last, y, Pool()).ok());
          for (int64_t o = 0; o < y.numel(); ++o) {
            // Reference: walk the axis for output o.
            Shape kept = shape;
            kept[static_cast<size_t>(axis)] = 1;
            auto idx = Unflatten(o, kept);
            int64_t best_i = 0;
            double best = 0;
            for (int64_t i = 0; i < shape[static_cast<size_t>(axis)]; ++i) {
              idx[static_cast<size_t>(axis)] = i;
              int64_t flat = 0;
              for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
              const double v = x.GetAsDouble(flat);
              const bool better = i == 0 || (is_max ? (last ? v >= best : v > best)
                                                    : (last ? v <= best : v < best));
              if (better) {
                best = v;
                best_i = i;
              }
            }
            ASSERT_EQ(y.GetAsDouble(o), best_i) << ShapeToString(shape) << " axis " << axis;
          }
        }
      }
    }
  }
}

TEST_P(ReduceTest, Errors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Tensor y = Tensor::Zeros(DType::kFloat32, {2}).value();
  const int64_t bad[] = {2};
  const int64_t dup[] = {1, -1};
  const int64_t ok[] = {1};
  EXPECT_FALSE(Reduce(ReduceOp::kSum, x, bad, false, y, Pool()).ok());
  EXPECT_FALSE(Reduce(ReduceOp::kSum, x, dup, false, y, Pool()).ok());
  Status s = Reduce(ReduceOp::kSum, x, ok, true, y, Pool());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[2]"), std::string::npos) << s.message();
  Tensor yi = Tensor::Zeros(DType::kInt32, {2}).value();
  EXPECT_FALSE(Reduce(ReduceOp::kSum, x, ok, false, yi, Pool()).ok());
  Tensor idx = Tensor::Zeros(DType::kInt64, {2}).value();
  EXPECT_TRUE(ArgReduce(true, x, 1, false, false, idx, Pool()).ok());
  EXPECT_FALSE(ArgReduce(true, x, 2, false, false, idx, Pool()).ok());
  EXPECT_FALSE(ArgReduce(true, x, 0, false, false, idx, Pool()).ok());
  EXPECT_FALSE(ArgReduce(true, x, 1, false, false, y, Pool()).ok());
  Tensor e = Tensor::Zeros(DType::kFloat32, {2, 0}).value();
  EXPECT_FALSE(ArgReduce(true, e, 1, false, false, idx, Pool()).ok());
  Tensor str = Tensor::Empty(DType::kString, {2}).value();
  Tensor s0 = Tensor::Empty(DType::kString, {}).value();
  EXPECT_FALSE(Reduce(ReduceOp::kSum, str, {}, false, s0, Pool()).ok());
}

INSTANTIATE_TEST_SUITE_P(Paths, ReduceTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
