// JSON <-> tensor conversion: shape solving, dtype checks, output formatting.
#include "server/tensor_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mlos::server {
namespace {

rapidjson::Document Parse(const char* text) {
  rapidjson::Document d;
  EXPECT_TRUE(ParseJson(text, &d).ok()) << text;
  return d;
}

TensorInfo Info(const char* name, DType t, Shape s) {
  TensorInfo i;
  i.name = name;
  i.dtype = t;
  i.shape = std::move(s);
  return i;
}

Result<Tensor> Convert(const char* json, const TensorInfo& info) {
  rapidjson::Document d = Parse(json);
  Shape nested;
  int64_t count = 0;
  MLOS_RETURN_IF_ERROR(JsonShape(d, info.name, &nested, &count));
  MLOS_ASSIGN_OR_RETURN(Shape s, SolveShape(info, nested, count));
  return JsonToTensor(d, info.dtype, s, info.name);
}

TEST(SolveShape, FlatIntoDeclared) {
  TensorInfo bert = Info("input_ids", DType::kInt64, {-1, -1});
  EXPECT_EQ(*SolveShape(bert, {5}, 5), (Shape{1, 5}));
  EXPECT_EQ(*SolveShape(bert, {2, 3}, 6), (Shape{2, 3}));
  TensorInfo img = Info("pixels", DType::kFloat32, {-1, 64});
  EXPECT_EQ(*SolveShape(img, {64}, 64), (Shape{1, 64}));
  EXPECT_EQ(*SolveShape(img, {128}, 128), (Shape{2, 64}));
  EXPECT_FALSE(SolveShape(img, {63}, 63).ok());
  EXPECT_FALSE(SolveShape(img, {1, 32}, 32).ok());  // same rank, wrong fixed dim
  TensorInfo fixed = Info("x", DType::kFloat32, {2, 2});
  EXPECT_EQ(*SolveShape(fixed, {4}, 4), (Shape{2, 2}));
  EXPECT_FALSE(SolveShape(fixed, {5}, 5).ok());
  TensorInfo any = Info("x", DType::kFloat32, {});
  EXPECT_EQ(*SolveShape(any, {3, 2}, 6), (Shape{3, 2}));
}

TEST(JsonToTensor, DtypesConvertAndCheck) {
  Result<Tensor> t = Convert("[[1, 2, 3]]", Info("ids", DType::kInt64, {-1, -1}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), (Shape{1, 3}));
  EXPECT_EQ(t->data<int64_t>()[2], 3);
  t = Convert("[1, 0, true, false]", Info("m", DType::kBool, {-1}));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->data<bool>()[0]);
  EXPECT_FALSE(t->data<bool>()[3]);
  t = Convert("[0.5, -2]", Info("h", DType::kFloat16, {2}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(static_cast<float>(t->data<Float16>()[0]), 0.5f);
  t = Convert("[1.5]", Info("b", DType::kBFloat16, {1}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(static_cast<float>(t->data<BFloat16>()[0]), 1.5f);
  t = Convert("[\"a\", \"bc\"]", Info("s", DType::kString, {-1}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data<std::string>()[1], "bc");
  t = Convert("[2.0, 3]", Info("i", DType::kInt32, {-1}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data<int32_t>()[0], 2);
}

TEST(JsonToTensor, Errors) {
  EXPECT_FALSE(Convert("[1.5]", Info("i", DType::kInt64, {-1})).ok());
  EXPECT_FALSE(Convert("[300]", Info("u", DType::kUInt8, {-1})).ok());
  EXPECT_FALSE(Convert("[-1]", Info("u", DType::kUInt32, {-1})).ok());
  EXPECT_FALSE(Convert("[\"x\"]", Info("f", DType::kFloat32, {-1})).ok());
  EXPECT_FALSE(Convert("[2]", Info("b", DType::kBool, {-1})).ok());
  EXPECT_FALSE(Convert("[[1, 2], [3]]", Info("r", DType::kFloat32, {-1, -1})).ok());
  EXPECT_FALSE(Convert("[[1, 2], 3]", Info("r", DType::kFloat32, {-1})).ok());
  EXPECT_FALSE(Convert("[1, [2]]", Info("r", DType::kFloat32, {-1})).ok());
  EXPECT_FALSE(Convert("[null]", Info("n", DType::kFloat32, {-1})).ok());
  Status s = Convert("[\"x\"]", Info("pixels", DType::kFloat32, {-1})).status();
  EXPECT_NE(s.message().find("pixels"), std::string::npos) << s.message();
  std::string deep(40, '[');
  deep += "1" + std::string(40, ']');
  EXPECT_FALSE(Convert(deep.c_str(), Info("d", DType::kFloat32, {})).ok());
}

TEST(WriteTensorValues, ShortestFloatsAndNulls) {
  Tensor t = *Tensor::FromVector<float>({4}, std::vector<float>{0.1f, 1.0f, -2.5f, NAN});
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  WriteTensorValues(t, &w);
  EXPECT_STREQ(sb.GetString(), "[0.1,1,-2.5,null]");
}

TEST(KServeDatatype, RoundTrip) {
  for (int i = 0; i < kNumDTypes; ++i) {
    DType t = static_cast<DType>(i);
    EXPECT_EQ(*ParseKServeDatatype(KServeDatatype(t)), t);
  }
  EXPECT_FALSE(ParseKServeDatatype("FP128").ok());
}

TEST(ParseJson, ReportsOffset) {
  rapidjson::Document d;
  Status s = ParseJson("{\"a\": [1, 2", &d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("offset"), std::string::npos);
}

}  // namespace
}  // namespace mlos::server
