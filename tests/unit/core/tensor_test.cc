#include "mlos/tensor.h"

#include <gtest/gtest.h>

#include <numeric>

namespace mlos {
namespace {

Tensor Iota(Shape shape) {
  int64_t n = *NumElements(shape);
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.f);
  return *Tensor::FromVector<float>(std::move(shape), v);
}

TEST(TensorTest, CreateAndAccess) {
  Tensor t = *Tensor::Zeros(DType::kFloat32, {3, 3});
  EXPECT_EQ(t.numel(), 9);
  EXPECT_EQ(t.nbytes(), 36u);
  EXPECT_TRUE(t.is_contiguous());
  t.at<float>({1, 2}) = 5.f;
  EXPECT_EQ(t.data<float>()[5], 5.f);
  EXPECT_THROW(t.at<float>({3, 0}), KernelError);
  EXPECT_THROW(t.at<float>({0}), KernelError);
  EXPECT_THROW(t.data<int32_t>(), KernelError);
}

TEST(TensorTest, RejectsBadShapes) {
  EXPECT_EQ(Tensor::Empty(DType::kFloat32, {2, -1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Tensor::Empty(DType::kFloat32, {int64_t{1} << 40, int64_t{1} << 40}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(Tensor::FromVector<float>({2, 2}, std::vector<float>{1, 2, 3}).ok());
}

TEST(TensorTest, EmptyAndScalar) {
  Tensor e = *Tensor::Zeros(DType::kFloat32, {0, 4});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.Clone().ok());
  Tensor s = Tensor::Scalar<int64_t>(7);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.item<int64_t>(), 7);
  EXPECT_EQ(s.item<double>(), 7.0);
}

TEST(TensorTest, PermuteSliceAndContiguous) {
  Tensor t = Iota({2, 3, 4});
  Tensor p = *t.Permute(std::vector<int64_t>{2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at<float>({3, 1, 2}), t.at<float>({1, 2, 3}));
  Tensor c = *p.Contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.data<float>()[0], 0.f);
  EXPECT_EQ(c.data<float>()[1], 4.f);

  Tensor s = *t.Slice(2, 1, 4, 2);  // elements 1 and 3 of the last axis
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.at<float>({1, 2, 1}), 23.f);
  Tensor neg = *t.Slice(-1, -2, 100);
  EXPECT_EQ(neg.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(neg.at<float>({0, 0, 0}), 2.f);
  EXPECT_FALSE(t.Slice(3, 0, 1).ok());
  EXPECT_FALSE(t.Permute(std::vector<int64_t>{0, 0, 1}).ok());
}

TEST(TensorTest, ReshapeAndBroadcast) {
  Tensor t = Iota({2, 6});
  Tensor r = *t.Reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 4}));
  EXPECT_EQ(r.storage(), t.storage());  // a view
  EXPECT_FALSE(t.Reshape({5, -1}).ok());
  EXPECT_FALSE(t.Reshape({-1, -1}).ok());
  Tensor transposed = *t.Permute(std::vector<int64_t>{1, 0});
  Tensor flat = *transposed.Reshape({12});  // needs a copy
  EXPECT_EQ(flat.data<float>()[1], 6.f);

  Tensor row = Iota({1, 3});
  Tensor b = *row.BroadcastTo({4, 3});
  EXPECT_EQ(b.strides(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(b.at<float>({3, 2}), 2.f);
  EXPECT_FALSE(row.BroadcastTo({4, 2}).ok());
  EXPECT_EQ(*BroadcastShapes(Shape{5, 1, 3}, Shape{4, 1}), (Shape{5, 4, 3}));
  EXPECT_FALSE(BroadcastShapes(Shape{2}, Shape{3}).ok());
}

TEST(TensorTest, FromStorageChecksBounds) {
  auto storage = *Storage::Allocate(64, DType::kFloat32);
  EXPECT_TRUE(Tensor::FromStorage(storage, DType::kFloat32, {4, 4}).ok());
  EXPECT_EQ(Tensor::FromStorage(storage, DType::kFloat32, {4, 5}).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_FALSE(Tensor::FromStorage(storage, DType::kFloat32, {4}, {}, 13).ok());
  EXPECT_TRUE(Tensor::FromStorage(storage, DType::kFloat32, {4}, {}, 12).ok());
}

TEST(TensorTest, StringTensors) {
  Tensor t = *Tensor::Empty(DType::kString, {2, 2});
  t.at<std::string>({0, 1}) = "hello";
  Tensor p = *t.Permute(std::vector<int64_t>{1, 0});
  Tensor c = *p.Clone();
  EXPECT_EQ(c.at<std::string>({1, 0}), "hello");
  EXPECT_NE(c.ToString().find("\"hello\""), std::string::npos);
}

}  // namespace
}  // namespace mlos
