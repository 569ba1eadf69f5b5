#include "mlos/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mlos {
namespace {

TEST(DTypeTest, SizesAndNames) {
  EXPECT_EQ(DTypeSize(DType::kFloat32), 4u);
  EXPECT_EQ(DTypeSize(DType::kBFloat16), 2u);
  EXPECT_EQ(DTypeSize(DType::kInt64), 8u);
  EXPECT_EQ(DTypeSize(DType::kBool), 1u);
  for (int i = 0; i < kNumDTypes; ++i) {
    auto t = static_cast<DType>(i);
    Result<DType> parsed = ParseDType(DTypeName(t));
    ASSERT_TRUE(parsed.ok()) << DTypeName(t);
    EXPECT_EQ(*parsed, t);
  }
}

TEST(DTypeTest, ParsesOtherSpellings) {
  EXPECT_EQ(*ParseDType("FP32"), DType::kFloat32);
  EXPECT_EQ(*ParseDType("FLOAT"), DType::kFloat32);
  EXPECT_EQ(*ParseDType("BYTES"), DType::kString);
  EXPECT_EQ(*ParseDType("BF16"), DType::kBFloat16);
  EXPECT_FALSE(ParseDType("float33").ok());
}

TEST(DTypeTest, Float16RoundTrips) {
  for (float v : {0.f, -0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953f}) {
    EXPECT_EQ(static_cast<float>(Float16(v)), v) << v;
  }
  EXPECT_TRUE(std::isinf(static_cast<float>(Float16(1e6f))));
  EXPECT_TRUE(std::isnan(static_cast<float>(Float16(std::numeric_limits<float>::quiet_NaN()))));
  // Round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> 1.
  EXPECT_EQ(static_cast<float>(Float16(1.f + std::ldexp(1.f, -11))), 1.f);
  // Every half value converts to float and back to itself.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    uint16_t h = static_cast<uint16_t>(bits);
    float f = Float16::ToFloat(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(Float16::FromFloat(f), h) << bits;
  }
}

TEST(DTypeTest, BFloat16Rounds) {
  EXPECT_EQ(static_cast<float>(BFloat16(1.f)), 1.f);
  EXPECT_EQ(static_cast<float>(BFloat16(3.140625f)), 3.140625f);
  EXPECT_NEAR(static_cast<float>(BFloat16(3.14159265f)), 3.14159265f, 0.02f);
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(std::nanf("")))));
}

TEST(DTypeTest, VisitCoversEveryType) {
  for (int i = 0; i < kNumDTypes; ++i) {
    auto t = static_cast<DType>(i);
    DType seen = VisitDType(t, [](auto tag) { return kDTypeOf<decltype(tag)>; });
    EXPECT_EQ(seen, t);
  }
}

}  // namespace
}  // namespace mlos
