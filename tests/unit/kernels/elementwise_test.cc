// Elementwise unary/binary kernels against double-precision references written here, over random
// shapes, dtypes and memory layouts, on both the AVX2 and the portable paths.
#include "kernels/cpu/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "kernel_test_util.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

struct UnaryCase {
  UnaryOp op;
  double lo, hi;  // input range
  std::function<double(double)> ref;
};

double RefSigmoid(double x) { return 1 / (1 + std::exp(-x)); }

std::vector<UnaryCase> UnaryCases() {
  return {
      {UnaryOp::kIdentity, -5, 5, [](double x) { return x; }},
      {UnaryOp::kNeg, -5, 5, [](double x) { return -x; }},
      {UnaryOp::kAbs, -5, 5, [](double x) { return std::fabs(x); }},
      {UnaryOp::kSign, -3, 3, [](double x) { return double((x > 0) - (x < 0)); }},
      {UnaryOp::kReciprocal, 0.5, 4, [](double x) { return 1 / x; }},
      {UnaryOp::kSqrt, 0, 9, [](double x) { return std::sqrt(x); }},
      {UnaryOp::kExp, -80, 80, [](double x) { return std::exp(x); }},
      {UnaryOp::kLog, 0.01, 100, [](double x) { return std::log(x); }},
      {UnaryOp::kFloor, -5, 5, [](double x) { return std::floor(x); }},
      {UnaryOp::kCeil, -5, 5, [](double x) { return std::ceil(x); }},
      {UnaryOp::kRound, -5, 5, [](double x) { return std::nearbyint(x); }},
      {UnaryOp::kSin, -3, 3, [](double x) { return std::sin(x); }},
      {UnaryOp::kCos, -3, 3, [](double x) { return std::cos(x); }},
      {UnaryOp::kTan, -1.2, 1.2, [](double x) { return std::tan(x); }},
      {UnaryOp::kAsin, -0.99, 0.99, [](double x) { return std::asin(x); }},
      {UnaryOp::kAcos, -0.99, 0.99, [](double x) { return std::acos(x); }},
      {UnaryOp::kAtan, -5, 5, [](double x) { return std::atan(x); }},
      {UnaryOp::kSinh, -5, 5, [](double x) { return std::sinh(x); }},
      {UnaryOp::kCosh, -5, 5, [](double x) { return std::cosh(x); }},
      {UnaryOp::kAsinh, -5, 5, [](double x) { return std::asinh(x); }},
      {UnaryOp::kAcosh, 1.01, 5, [](double x) { return std::acosh(x); }},
      {UnaryOp::kAtanh, -0.95, 0.95, [](double x) { return std::atanh(x); }},
      {UnaryOp::kTanh, -6, 6, [](double x) { return std::tanh(x); }},
      {UnaryOp::kSigmoid, -30, 30, RefSigmoid},
      {UnaryOp::kRelu, -5, 5, [](double x) { return x > 0 ? x : 0; }},
      {UnaryOp::kGelu, -8, 8, [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }},
      {UnaryOp::kErf, -4, 4, [](double x) { return std::erf(x); }},
      {UnaryOp::kSoftplus, -20, 20, [](double x) { return std::log1p(std::exp(x)); }},
      {UnaryOp::kSoftsign, -5, 5, [](double x) { return x / (1 + std::fabs(x)); }},
      {UnaryOp::kSilu, -30, 30, [](double x) { return x * RefSigmoid(x); }},
  };
}

const DType kAllNumeric[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat64,
                             DType::kInt8,    DType::kInt16,   DType::kInt32,    DType::kInt64,
                             DType::kUInt8,   DType::kUInt16,  DType::kUInt32,   DType::kUInt64};

class ElementwiseTest : public BothPaths {};

void CheckUnary(const UnaryCase& c, DType dt, const Tensor& x, std::mt19937&) {
  SCOPED_TRACE(std::string(UnaryOpName(c.op)) + " " + std::string(DTypeName(dt)) + " " +
               ShapeToString(x.shape()));
  Result<DType> rt = UnaryResultType(c.op, dt);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  Tensor y = Tensor::Empty(*rt, x.shape()).value();
  ASSERT_TRUE(Unary(c.op, x, y, Pool()).ok());
  const double rtol = Tolerance(dt, 2e-6);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double xv = x.GetAsDouble(i);
    double want = c.ref(xv);
    if (IsInteger(dt)) want = static_cast<double>(static_cast<int64_t>(want));
    const double got = y.GetAsDouble(i);
    if (dt == DType::kFloat16 && std::fabs(want) > 65504) {
      ASSERT_TRUE(std::isinf(got)) << i << ": x=" << xv << " got " << got;
    } else if (dt == DType::kFloat16 || dt == DType::kBFloat16) {
      // Reference from the rounded input, compared with half precision.
      ASSERT_TRUE(Close(got, want, rtol, 1e-3))
          << i << ": x=" << xv << " got " << got << " want " << want;
    } else {
      ASSERT_TRUE(Close(got, want, rtol, rtol * 1e-1))
          << i << ": x=" << xv << " got " << got << " want " << want;
    }
  }
}

TEST_P(ElementwiseTest, UnaryAllOpsFloatTypesAndLayouts) {
  std::mt19937 rng(1);
  const ViewKind kinds[] = {ViewKind::kContiguous, ViewKind::kPermuted, ViewKind::kSliced,
                            ViewKind::kBroadcast};
  for (const UnaryCase& c : UnaryCases()) {
    for (DType dt : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16}) {
      for (ViewKind k : kinds) {
        Shape shape = RandomShape(rng, 4, 9);
        CheckUnary(c, dt, RandomView(dt, shape, k, rng, c.lo, c.hi), rng);
      }
    }
    // Long contiguous float32 array: the vector body and its tail, split over threads.
    CheckUnary(c, DType::kFloat32, RandomTensor(DType::kFloat32, {70001}, rng, c.lo, c.hi), rng);
  }
}

TEST_P(ElementwiseTest, VectorMathEdgeValues) {
  const std::vector<float> vals = {0.f,   -0.f,   1e-30f, -1e-30f, 1e-7f,  0.39f,    0.41f,
                                   0.49f, 0.51f,  -0.49f, -0.51f,  1.f,    -1.f,     3.f,
                                   -3.f,  9.f,    -9.f,   20.f,    -20.f,  88.f,     88.7f,
                                   -87.f, -100.f, 100.f,  1e30f,   -1e30f, INFINITY, -INFINITY};
  Tensor x = Tensor::FromVector<float>({static_cast<int64_t>(vals.size())}, vals).value();
  for (const UnaryCase& c : UnaryCases()) {
    if (c.op != UnaryOp::kExp && c.op != UnaryOp::kTanh && c.op != UnaryOp::kSigmoid &&
        c.op != UnaryOp::kErf && c.op != UnaryOp::kGelu && c.op != UnaryOp::kSilu) {
      continue;
    }
    Tensor y = Tensor::Empty(DType::kFloat32, x.shape()).value();
    ASSERT_TRUE(Unary(c.op, x, y, Pool()).ok());
    for (size_t i = 0; i < vals.size(); ++i) {
      const double want = c.ref(vals[i]);
      const double got = y.GetAsDouble(static_cast<int64_t>(i));
      // Values beyond float range, or denormal, compare with an absolute floor.
      const bool overflow = std::fabs(want) > 3.4e38;
      if (overflow) {
        EXPECT_TRUE(std::isinf(got)) << UnaryOpName(c.op) << "(" << vals[i] << ") = " << got;
      } else {
        // erf/erfc tails are ill-conditioned: rounding x to float alone moves the result by
        // about x^2 ulp, so the bound grows with x^2 there.
        const bool tail = c.op == UnaryOp::kGelu || c.op == UnaryOp::kErf;
        const double rtol = tail ? 3e-6 * std::max(1.0, double(vals[i]) * vals[i] / 4.0) : 3e-6;
        EXPECT_TRUE(Close(got, want, rtol, 1e-37))
            << UnaryOpName(c.op) << "(" << vals[i] << ") = " << got << " want " << want;
      }
    }
    Tensor nan = Tensor::FromVector<float>({9}, std::vector<float>(9, NAN)).value();
    Tensor yn = Tensor::Empty(DType::kFloat32, {9}).value();
    ASSERT_TRUE(Unary(c.op, nan, yn, Pool()).ok());
    for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(yn.GetAsDouble(i))) << UnaryOpName(c.op);
  }
}

TEST_P(ElementwiseTest, UnaryIntegerAndBool) {
  std::mt19937 rng(2);
  for (DType dt : kAllNumeric) {
    if (IsFloating(dt)) continue;
    for (UnaryOp op :
         {UnaryOp::kIdentity, UnaryOp::kAbs, UnaryOp::kSign, UnaryOp::kRelu, UnaryOp::kNeg}) {
      if (op == UnaryOp::kNeg && IsUnsignedInteger(dt)) {
        EXPECT_FALSE(UnaryResultType(op, dt).ok());
        continue;
      }
      const double lo = IsUnsignedInteger(dt) ? 0 : -100;
      for (const UnaryCase& c : UnaryCases()) {
        if (c.op == op)
          CheckUnary(c, dt, RandomTensor(dt, RandomShape(rng, 3, 7), rng, lo, 100), rng);
      }
    }
    EXPECT_FALSE(UnaryResultType(UnaryOp::kExp, dt).ok());
  }
  // Not on bool; IsNaN / IsInf to bool.
  Tensor b = BoolTensor({3}, {1, 0, 1});
  Tensor nb = Tensor::Empty(DType::kBool, {3}).value();
  ASSERT_TRUE(Unary(UnaryOp::kNot, b, nb, Pool()).ok());
  EXPECT_EQ(nb.GetAsDouble(0), 0);
  EXPECT_EQ(nb.GetAsDouble(1), 1);
  Tensor f = Tensor::FromVector<float>({3}, {1.f, NAN, -INFINITY}).value();
  Tensor isnan = Tensor::Empty(DType::kBool, {3}).value();
  ASSERT_TRUE(Unary(UnaryOp::kIsNaN, f, isnan, Pool()).ok());
  EXPECT_EQ(isnan.GetAsDouble(1), 1);
  EXPECT_EQ(isnan.GetAsDouble(2), 0);
  ASSERT_TRUE(Unary(UnaryOp::kIsInf, f, isnan, Pool()).ok());
  EXPECT_EQ(isnan.GetAsDouble(2), 1);
  // INT_MIN negation wraps instead of trapping.
  Tensor m = Tensor::FromVector<int32_t>({1}, {INT32_MIN}).value();
  Tensor mn = Tensor::Empty(DType::kInt32, {1}).value();
  ASSERT_TRUE(Unary(UnaryOp::kNeg, m, mn, Pool()).ok());
  EXPECT_EQ(mn.GetAsDouble(0), INT32_MIN);
}

struct BinaryCase {
  BinaryOp op;
  std::function<double(double, double)> ref;
  bool nonzero_b = false;
};

std::vector<BinaryCase> ArithCases() {
  return {
      {BinaryOp::kAdd, [](double a, double b) { return a + b; }},
      {BinaryOp::kSub, [](double a, double b) { return a - b; }},
      {BinaryOp::kMul, [](double a, double b) { return a * b; }},
      {BinaryOp::kDiv, [](double a, double b) { return a / b; }, true},
      {BinaryOp::kMax, [](double a, double b) { return std::max(a, b); }},
      {BinaryOp::kMin, [](double a, double b) { return std::min(a, b); }},
      {BinaryOp::kPow, [](double a, double b) { return std::pow(a, b); }},
      {BinaryOp::kMod,
       [](double a, double b) {
         double r = std::fmod(a, b);
         return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
       },
       true},
      {BinaryOp::kFmod, [](double a, double b) { return std::fmod(a, b); }, true},
      {BinaryOp::kEqual, [](double a, double b) { return double(a == b); }},
      {BinaryOp::kLess, [](double a, double b) { return double(a < b); }},
      {BinaryOp::kLessEqual, [](double a, double b) { return double(a <= b); }},
      {BinaryOp::kGreater, [](double a, double b) { return double(a > b); }},
      {BinaryOp::kGreaterEqual, [](double a, double b) { return double(a >= b); }},
  };
}

// Pairs of shapes that broadcast, including scalars, empty and row/column patterns.
std::pair<Shape, Shape> RandomBroadcastPair(std::mt19937& rng) {
  Shape out = RandomShape(rng, 4, 6);
  Shape a = out, b = out;
  std::uniform_int_distribution<int> coin(0, 3);
  for (size_t i = 0; i < out.size(); ++i) {
    if (coin(rng) == 0) a[i] = 1;
    if (coin(rng) == 0) b[i] = 1;
  }
  // Drop some leading axes of one side.
  if (!b.empty() && coin(rng) == 0)
    b.erase(b.begin(), b.begin() + std::uniform_int_distribution<size_t>(0, b.size())(rng));
  return {a, b};
}

void CheckBinary(const BinaryCase& c, DType dt, const Tensor& a, const Tensor& b) {
  SCOPED_TRACE(std::string(BinaryOpName(c.op)) + " " + std::string(DTypeName(dt)) + " " +
               ShapeToString(a.shape()) + " " + ShapeToString(b.shape()));
  Result<DType> rt = BinaryResultType(c.op, dt, dt);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  Shape out_shape = BroadcastShapes(a.shape(), b.shape()).value();
  Tensor out = Tensor::Empty(*rt, out_shape).value();
  Status s = Binary(c.op, a, b, out, Pool());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const bool is_bool = *rt == DType::kBool;
  const double rtol = is_bool ? 0 : Tolerance(dt, 1e-6);
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = Unflatten(i, out_shape);
    const double av = AtBroadcast(a, idx), bv = AtBroadcast(b, idx);
    double want = c.ref(av, bv);
    if (IsInteger(dt) && c.op == BinaryOp::kDiv) want = std::trunc(want);
    if (IsInteger(dt) && !is_bool) want = WrapToDType(dt, want);
    const double got = out.GetAsDouble(i);
    ASSERT_TRUE(Close(got, want, rtol, rtol * 1e-2))
        << i << ": " << av << ", " << bv << " got " << got << " want " << want;
  }
}

TEST_P(ElementwiseTest, BinaryBroadcastAllDtypesAndLayouts) {
  std::mt19937 rng(3);
  const ViewKind kinds[] = {ViewKind::kContiguous, ViewKind::kPermuted, ViewKind::kSliced,
                            ViewKind::kBroadcast};
  for (const BinaryCase& c : ArithCases()) {
    for (DType dt : kAllNumeric) {
      for (int rep = 0; rep < 3; ++rep) {
        auto [sa, sb] = RandomBroadcastPair(rng);
        double lo = IsUnsignedInteger(dt) ? 0 : -20, hi = 20;
        double blo = lo, bhi = hi;
        if (c.op == BinaryOp::kPow) {
          lo = IsUnsignedInteger(dt) ? 0 : -3;
          hi = 3;
          blo = 0;
          bhi = 3;
          if (IsFloating(dt)) lo = 0.1;
        }
        if (c.nonzero_b) blo = IsUnsignedInteger(dt) ? 1 : blo;
        Tensor a = RandomView(dt, sa, kinds[rep % 4], rng, lo, hi);
        Tensor b = RandomView(dt, sb, kinds[(rep + 1) % 4], rng, blo, bhi);
        if (c.nonzero_b) {
          // Replace zeros by one so the double reference is defined.
          Tensor bc = b.Clone().value();
          VisitDType(dt, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_same_v<T, std::string>) {
              T* p = static_cast<T*>(bc.raw_data());
              for (int64_t i = 0; i < bc.numel(); ++i) {
                if (static_cast<double>(p[i]) == 0) p[i] = static_cast<T>(1.f);
              }
            }
          });
          b = bc;
        }
        CheckBinary(c, dt, a, b);
      }
    }
  }
}

TEST_P(ElementwiseTest, BinaryFloat32FastPaths) {
  std::mt19937 rng(4);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1000, 67}, {1000, 67}},  // same shape
      {{1000, 67}, {}},          // scalar
      {{}, {1000, 67}},
      {{1000, 67}, {67}},       // row broadcast
      {{1000, 67}, {1000, 1}},  // column broadcast
      {{1000, 1}, {1, 67}},     // outer product
      {{1}, {1}},
      {{0, 5}, {5}},  // empty
  };
  for (const BinaryCase& c : ArithCases()) {
    if (c.op == BinaryOp::kPow || c.op == BinaryOp::kMod || c.op == BinaryOp::kFmod) continue;
    for (auto& [sa, sb] : shapes) {
      Tensor a = RandomTensor(DType::kFloat32, sa, rng, -10, 10);
      Tensor b = RandomTensor(DType::kFloat32, sb, rng, 0.5, 10);
      CheckBinary(c, DType::kFloat32, a, b);
    }
  }
  // NaN propagates through max/min as ONNX asks.
  Tensor a = Tensor::FromVector<float>({9}, {NAN, 1, 2, 3, 4, 5, 6, 7, NAN}).value();
  Tensor b = Tensor::FromVector<float>({9}, {0, NAN, 0, 0, 0, 0, 0, 0, 0}).value();
  Tensor out = Tensor::Empty(DType::kFloat32, {9}).value();
  for (BinaryOp op : {BinaryOp::kMax, BinaryOp::kMin}) {
    ASSERT_TRUE(Binary(op, a, b, out, Pool()).ok());
    EXPECT_TRUE(std::isnan(out.GetAsDouble(0)));
    EXPECT_TRUE(std::isnan(out.GetAsDouble(1)));
    EXPECT_TRUE(std::isnan(out.GetAsDouble(8)));
    EXPECT_FALSE(std::isnan(out.GetAsDouble(2)));
  }
}

TEST_P(ElementwiseTest, IntegerEdgeCasesDoNotTrap) {
  Tensor a = Tensor::FromVector<int32_t>({4}, {INT32_MIN, 7, -7, 5}).value();
  Tensor b = Tensor::FromVector<int32_t>({4}, {-1, 0, 2, -3}).value();
  Tensor out = Tensor::Empty(DType::kInt32, {4}).value();
  ASSERT_TRUE(Binary(BinaryOp::kDiv, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), INT32_MIN);  // wraps
  EXPECT_EQ(out.GetAsDouble(1), 0);          // division by zero gives 0
  EXPECT_EQ(out.GetAsDouble(2), -3);
  ASSERT_TRUE(Binary(BinaryOp::kMod, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(2), 1);  // sign of divisor
  EXPECT_EQ(out.GetAsDouble(3), -1);
  ASSERT_TRUE(Binary(BinaryOp::kFmod, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(2), -1);  // sign of dividend
  ASSERT_TRUE(Binary(BinaryOp::kMul, a, a, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), 0);  // wraps
  Tensor sh = Tensor::FromVector<int32_t>({4}, {40, 1, 2, -1}).value();
  ASSERT_TRUE(Binary(BinaryOp::kShiftLeft, b, sh, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), 0);
  EXPECT_EQ(out.GetAsDouble(1), 0);
  EXPECT_EQ(out.GetAsDouble(2), 8);
  EXPECT_EQ(out.GetAsDouble(3), 0);
  ASSERT_TRUE(Binary(BinaryOp::kShiftRight, a, Tensor::Scalar<int32_t>(1), out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(1), 3);
  EXPECT_EQ(out.GetAsDouble(2), -4);
  ASSERT_TRUE(Binary(BinaryOp::kBitXor, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(2), static_cast<double>(-7 ^ 2));
  ASSERT_TRUE(Binary(BinaryOp::kPow, Tensor::FromVector<int32_t>({3}, {2, -1, 3}).value(),
                     Tensor::FromVector<int32_t>({3}, {10, 3, -1}).value(),
                     out = Tensor::Empty(DType::kInt32, {3}).value(), Pool())
                  .ok());
  EXPECT_EQ(out.GetAsDouble(0), 1024);
  EXPECT_EQ(out.GetAsDouble(1), -1);
  EXPECT_EQ(out.GetAsDouble(2), 0);
}

TEST_P(ElementwiseTest, LogicalOps) {
  Tensor a = BoolTensor({2, 2}, {1, 1, 0, 0});
  Tensor b = BoolTensor({2}, {1, 0});
  Tensor out = Tensor::Empty(DType::kBool, {2, 2}).value();
  ASSERT_TRUE(Binary(BinaryOp::kAnd, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), 1);
  EXPECT_EQ(out.GetAsDouble(1), 0);
  ASSERT_TRUE(Binary(BinaryOp::kOr, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(2), 1);
  EXPECT_EQ(out.GetAsDouble(3), 0);
  ASSERT_TRUE(Binary(BinaryOp::kXor, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), 0);
  EXPECT_EQ(out.GetAsDouble(1), 1);
  ASSERT_TRUE(Binary(BinaryOp::kEqual, a, b, out, Pool()).ok());
  EXPECT_EQ(out.GetAsDouble(0), 1);
  EXPECT_EQ(out.GetAsDouble(3), 1);
}

TEST_P(ElementwiseTest, ErrorsAreStatusNotCrash) {
  Tensor a = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Tensor b = Tensor::Zeros(DType::kFloat32, {4}).value();
  Tensor out = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Status s = Binary(BinaryOp::kAdd, a, b, out, Pool());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[4]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("add"), std::string::npos) << s.message();
  // Wrong output shape and dtype.
  Tensor bad = Tensor::Zeros(DType::kFloat32, {3, 2}).value();
  EXPECT_FALSE(Binary(BinaryOp::kAdd, a, a, bad, Pool()).ok());
  Tensor bad_dt = Tensor::Zeros(DType::kInt32, {2, 3}).value();
  EXPECT_FALSE(Binary(BinaryOp::kAdd, a, a, bad_dt, Pool()).ok());
  EXPECT_FALSE(Binary(BinaryOp::kLess, a, a, out, Pool()).ok());  // needs bool out
  EXPECT_FALSE(Unary(UnaryOp::kExp, a, bad, Pool()).ok());
  // Mixed dtypes and ops that do not apply.
  Tensor i = Tensor::Zeros(DType::kInt32, {2, 3}).value();
  EXPECT_FALSE(Binary(BinaryOp::kAdd, a, i, out, Pool()).ok());
  EXPECT_FALSE(Binary(BinaryOp::kAnd, a, a, out, Pool()).ok());
  EXPECT_FALSE(Binary(BinaryOp::kBitAnd, a, a, out, Pool()).ok());
  EXPECT_FALSE(Unary(UnaryOp::kSqrt, i, i, Pool()).ok());
  EXPECT_FALSE(Unary(static_cast<UnaryOp>(200), a, out, Pool()).ok());
  EXPECT_FALSE(Binary(static_cast<BinaryOp>(200), a, a, out, Pool()).ok());
  Tensor undefined;
  EXPECT_FALSE(Unary(UnaryOp::kExp, undefined, out, Pool()).ok());
  // A broadcast view cannot be an output.
  Tensor row = Tensor::Zeros(DType::kFloat32, {1, 3}).value();
  Tensor bview = row.BroadcastTo({2, 3}).value();
  EXPECT_FALSE(Binary(BinaryOp::kAdd, a, a, bview, Pool()).ok());
  EXPECT_FALSE(Unary(UnaryOp::kExp, a, bview, Pool()).ok());
  Tensor s1 = Tensor::Empty(DType::kString, {2, 3}).value();
  EXPECT_FALSE(Unary(UnaryOp::kAbs, s1, s1, Pool()).ok());
  EXPECT_FALSE(Binary(BinaryOp::kAdd, s1, s1, s1, Pool()).ok());
}

TEST(ElementwiseNames, ParseAndName) {
  EXPECT_EQ(*ParseBinaryOp("Add"), BinaryOp::kAdd);
  EXPECT_EQ(*ParseBinaryOp("sub"), BinaryOp::kSub);
  EXPECT_EQ(*ParseBinaryOp("multiply"), BinaryOp::kMul);
  EXPECT_EQ(*ParseBinaryOp("div"), BinaryOp::kDiv);
  EXPECT_EQ(*ParseUnaryOp("relu"), UnaryOp::kRelu);
  EXPECT_EQ(*ParseUnaryOp("EXP"), UnaryOp::kExp);
  EXPECT_FALSE(ParseUnaryOp("nope").ok());
  EXPECT_FALSE(ParseBinaryOp("").ok());
  for (int i = 0; i <= static_cast<int>(UnaryOp::kIsInf); ++i) {
    auto op = static_cast<UnaryOp>(i);
    EXPECT_EQ(*ParseUnaryOp(UnaryOpName(op)), op);
  }
  for (int i = 0; i <= static_cast<int>(BinaryOp::kShiftRight); ++i) {
    auto op = static_cast<BinaryOp>(i);
    EXPECT_EQ(*ParseBinaryOp(BinaryOpName(op)), op);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ElementwiseTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
