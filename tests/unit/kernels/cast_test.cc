// Cast between all dtype pairs, against a reference written here, over strided views; strings
// parse and print; invalid strings and shape mismatches give a Status.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/elementwise.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

const DType kNumeric[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat64,
                          DType::kInt8,    DType::kInt16,   DType::kInt32,    DType::kInt64,
                          DType::kUInt8,   DType::kUInt16,  DType::kUInt32,   DType::kUInt64,
                          DType::kBool};

// The value v (exactly representable in the source) as the target dtype would hold it.
double Expected(double v, DType to) {
  if (to == DType::kBool) return v != 0;
  if (IsFloating(to)) return v;  // compared with the target's precision
  const double t = std::trunc(v);
  return VisitDType(to, [&](auto tag) -> double {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (t < 0 && std::is_unsigned_v<T>) {
        // Negative integral source values wrap modulo 2^bits like C++ conversions.
        return static_cast<double>(static_cast<T>(static_cast<int64_t>(t)));
      }
      return static_cast<double>(static_cast<T>(static_cast<int64_t>(t)));
    } else {
      return t;
    }
  });
}

TEST(CastTest, AllNumericPairsAndLayouts) {
  std::mt19937 rng(5);
  const ViewKind kinds[] = {ViewKind::kContiguous, ViewKind::kPermuted, ViewKind::kSliced,
                            ViewKind::kBroadcast};
  int rep = 0;
  for (DType from : kNumeric) {
    for (DType to : kNumeric) {
      SCOPED_TRACE(std::string(DTypeName(from)) + " -> " + std::string(DTypeName(to)));
      // Values every numeric type holds (non-negative when either side is unsigned, since a
      // negative float -> unsigned is saturated rather than wrapped).
      const bool unsig = IsUnsignedInteger(from) || IsUnsignedInteger(to);
      const Shape shape = RandomShape(rng, 3, 6);
      Tensor x = RandomView(from, shape, kinds[rep++ % 4], rng, unsig ? 0 : -100, 100);
      Tensor y = Tensor::Empty(to, shape).value();
      ASSERT_TRUE(Cast(x, y, Pool()).ok());
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = x.GetAsDouble(i);
        const double want = Expected(v, to);
        const double tol = IsFloating(to) ? Tolerance(to, 1e-7) : 0;
        ASSERT_TRUE(Close(y.GetAsDouble(i), want, tol, 0)) << v << " -> " << y.GetAsDouble(i);
      }
    }
  }
}

TEST(CastTest, FloatToIntSaturatesAndTruncates) {
  Tensor x = Tensor::FromVector<float>({6}, {1e20f, -1e20f, NAN, -2.7f, 2.7f, 300.f}).value();
  Tensor y = Tensor::Empty(DType::kInt32, {6}).value();
  ASSERT_TRUE(Cast(x, y, Pool()).ok());
  EXPECT_EQ(y.GetAsDouble(0), INT32_MAX);
  EXPECT_EQ(y.GetAsDouble(1), INT32_MIN);
  EXPECT_EQ(y.GetAsDouble(2), 0);
  EXPECT_EQ(y.GetAsDouble(3), -2);
  EXPECT_EQ(y.GetAsDouble(4), 2);
  Tensor u8 = Tensor::Empty(DType::kUInt8, {6}).value();
  ASSERT_TRUE(Cast(x, u8, Pool()).ok());
  EXPECT_EQ(u8.GetAsDouble(1), 0);
  EXPECT_EQ(u8.GetAsDouble(5), 255);
  Tensor i64 = Tensor::Empty(DType::kUInt64, {6}).value();
  ASSERT_TRUE(Cast(x, i64, Pool()).ok());
  EXPECT_EQ(i64.GetAsDouble(0), 18446744073709551615.0);
}

TEST(CastTest, Strings) {
  Tensor s = Tensor::Empty(DType::kString, {6}).value();
  std::string* p = static_cast<std::string*>(s.raw_data());
  p[0] = "3.5";
  p[1] = "-1e-5";
  p[2] = "1E8";
  p[3] = "INF";
  p[4] = "NaN";
  p[5] = "+7";
  Tensor f = Tensor::Empty(DType::kFloat32, {6}).value();
  ASSERT_TRUE(Cast(s, f, Pool()).ok());
  EXPECT_EQ(f.GetAsDouble(0), 3.5);
  EXPECT_FLOAT_EQ(static_cast<float>(f.GetAsDouble(1)), -1e-5f);
  EXPECT_EQ(f.GetAsDouble(2), 1e8);
  EXPECT_TRUE(std::isinf(f.GetAsDouble(3)));
  EXPECT_TRUE(std::isnan(f.GetAsDouble(4)));
  EXPECT_EQ(f.GetAsDouble(5), 7);
  // Numbers print in their shortest round-trip form and parse back.
  Tensor back = Tensor::Empty(DType::kString, {6}).value();
  ASSERT_TRUE(Cast(f, back, Pool()).ok());
  const std::string* b = static_cast<const std::string*>(back.raw_data());
  EXPECT_EQ(b[0], "3.5");
  EXPECT_EQ(b[3], "INF");
  EXPECT_EQ(b[4], "NaN");
  Tensor i = Tensor::FromVector<int64_t>({2, 1}, {-42, 9000000000}).value();
  Tensor is = Tensor::Empty(DType::kString, {2, 1}).value();
  ASSERT_TRUE(Cast(i, is, Pool()).ok());
  EXPECT_EQ(static_cast<const std::string*>(is.raw_data())[0], "-42");
  EXPECT_EQ(static_cast<const std::string*>(is.raw_data())[1], "9000000000");
  Tensor i2 = Tensor::Empty(DType::kInt64, {2, 1}).value();
  ASSERT_TRUE(Cast(is, i2, Pool()).ok());
  EXPECT_EQ(i2.GetAsDouble(1), 9000000000.0);
  // Strided string -> string copy.
  Tensor t = is.Permute(std::vector<int64_t>{1, 0}).value();
  Tensor ts = Tensor::Empty(DType::kString, {1, 2}).value();
  ASSERT_TRUE(Cast(t, ts, Pool()).ok());
  EXPECT_EQ(static_cast<const std::string*>(ts.raw_data())[1], "9000000000");
  // Bool from text.
  Tensor bs = Tensor::Empty(DType::kString, {3}).value();
  auto* bp = static_cast<std::string*>(bs.raw_data());
  bp[0] = "true";
  bp[1] = "0";
  bp[2] = "False";
  Tensor bb = Tensor::Empty(DType::kBool, {3}).value();
  ASSERT_TRUE(Cast(bs, bb, Pool()).ok());
  EXPECT_EQ(bb.GetAsDouble(0), 1);
  EXPECT_EQ(bb.GetAsDouble(1), 0);
  EXPECT_EQ(bb.GetAsDouble(2), 0);
}

TEST(CastTest, Errors) {
  Tensor s = Tensor::Empty(DType::kString, {2}).value();
  static_cast<std::string*>(s.raw_data())[0] = "12";
  static_cast<std::string*>(s.raw_data())[1] = "twelve";
  Tensor f = Tensor::Empty(DType::kFloat32, {2}).value();
  Status st = Cast(s, f, Pool());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("twelve"), std::string::npos);
  Tensor u = Tensor::Empty(DType::kUInt8, {2}).value();
  static_cast<std::string*>(s.raw_data())[1] = "-3";
  EXPECT_TRUE(Cast(s, u, Pool()).ok());  // parsed as a float and saturated to 0
  EXPECT_EQ(u.GetAsDouble(1), 0);
  Tensor g = Tensor::Empty(DType::kFloat32, {3}).value();
  EXPECT_FALSE(Cast(f, g, Pool()).ok());
  Tensor undefined;
  EXPECT_FALSE(Cast(undefined, g, Pool()).ok());
  Tensor e0 = Tensor::Empty(DType::kFloat32, {0, 3}).value();
  Tensor e1 = Tensor::Empty(DType::kString, {0, 3}).value();
  EXPECT_TRUE(Cast(e0, e1, Pool()).ok());
}

}  // namespace
}  // namespace mlos::kernels
