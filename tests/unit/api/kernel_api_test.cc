// KernelAPI: the seed's calls, results against hand-computed values, and misuse as KernelError.
#include "kernel_api.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using mlos::DType;
using mlos::KernelError;
using mlos::StatusCode;

StatusCode CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const KernelError& e) {
    return e.code();
  }
  return StatusCode::kOk;
}

TEST(KernelApiTest, SeedExample) {
  KernelAPI kernel;
  Tensor tensor = kernel.create_tensor({3, 3});
  EXPECT_EQ(tensor.dtype(), DType::kFloat32);
  EXPECT_EQ(tensor.shape(), (mlos::Shape{3, 3}));
  Tensor result = kernel.matrix_multiply(tensor, tensor);
  EXPECT_EQ(result.shape(), (mlos::Shape{3, 3}));
  for (int i = 0; i < 9; ++i) EXPECT_EQ(result.data<float>()[i], 0.f);
  EXPECT_GE(kernel.num_threads(), 1);
}

TEST(KernelApiTest, MatrixMultiplyValues) {
  KernelAPI kernel;
  Tensor a = kernel.create_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = kernel.create_tensor({3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor c = kernel.matrix_multiply(a, b);
  EXPECT_EQ(c.at<float>({0, 0}), 58.f);
  EXPECT_EQ(c.at<float>({0, 1}), 64.f);
  EXPECT_EQ(c.at<float>({1, 0}), 139.f);
  EXPECT_EQ(c.at<float>({1, 1}), 154.f);
}

TEST(KernelApiTest, ElementwiseOperations) {
  KernelAPI kernel;
  Tensor a = kernel.create_tensor({2, 2}, {1, -2, 3, -4});
  Tensor b = kernel.create_tensor({2}, {10, 20});
  Tensor sum = kernel.tensor_operations(a, "add", b);
  EXPECT_EQ(sum.at<float>({1, 1}), 16.f);
  Tensor diff = kernel.tensor_operations(a, "subtract", b);
  EXPECT_EQ(diff.at<float>({0, 1}), -22.f);
  Tensor prod = kernel.tensor_operations(a, "multiply", 2.0);
  EXPECT_EQ(prod.at<float>({1, 0}), 6.f);
  Tensor quo = kernel.tensor_operations(a, "divide", b);
  EXPECT_FLOAT_EQ(quo.at<float>({0, 0}), 0.1f);
  Tensor relu = kernel.tensor_operations(a, "relu");
  EXPECT_EQ(relu.at<float>({0, 1}), 0.f);
  EXPECT_EQ(kernel.tensor_operations(a, "sum").item<float>(), -2.f);
  Tensor less = kernel.tensor_operations(a, "less", 0.0);
  EXPECT_EQ(less.dtype(), DType::kBool);
  EXPECT_TRUE(less.at<bool>({0, 1}));
  Tensor t = kernel.tensor_operations(a, "transpose");
  EXPECT_EQ(t.at<float>({0, 1}), 3.f);
}

TEST(KernelApiTest, IntegerTensors) {
  KernelAPI kernel;
  Tensor a = kernel.create_tensor({3}, DType::kInt32);
  a.at<int32_t>({0}) = 7;
  Tensor b = kernel.tensor_operations(a, "add", 5.0);
  EXPECT_EQ(b.dtype(), DType::kInt32);
  EXPECT_EQ(b.at<int32_t>({0}), 12);
  EXPECT_EQ(b.at<int32_t>({2}), 5);
}

TEST(KernelApiTest, MisuseThrowsKernelError) {
  KernelAPI kernel;
  Tensor a = kernel.create_tensor({2, 3});
  EXPECT_EQ(CodeOf([&] { kernel.matrix_multiply(a, a); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel.tensor_operations(a, "frobnicate"); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel.tensor_operations(a, "add", kernel.create_tensor({4})); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { a.at<float>({2, 0}); }), StatusCode::kOutOfRange);
  EXPECT_EQ(CodeOf([&] { kernel.create_tensor({-1}); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel.matrix_multiply(Tensor(), a); }), StatusCode::kInvalidArgument);
  Tensor ints = kernel.create_tensor({2, 2}, DType::kInt64);
  EXPECT_EQ(CodeOf([&] { kernel.matrix_multiply(ints, ints); }), StatusCode::kInvalidArgument);
  try {
    kernel.matrix_multiply(a, a);
  } catch (const KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(KernelApiTest, MemoryBuffers) {
  KernelAPI kernel;
  mlos::MemoryBuffer mem = kernel.allocate_memory(256);
  EXPECT_EQ(mem.size(), 256u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mem.data()) % 64, 0u);
  Tensor view = mem.as_tensor(DType::kFloat32, {8, 8});
  view.at<float>({7, 7}) = 1.5f;
  EXPECT_EQ(static_cast<float*>(mem.data())[63], 1.5f);
  EXPECT_EQ(CodeOf([&] { mem.as_tensor(DType::kFloat32, {8, 9}); }), StatusCode::kOutOfRange);

  mlos::SharedMemoryBuffer shm = kernel.shared_memory_buffer(4096);
  EXPECT_GE(shm.fd(), 0);
  shm.seal();
  Tensor s = shm.as_tensor(DType::kFloat32, {4}, 64);
  s.at<float>({0}) = 2.f;
  EXPECT_EQ(static_cast<float*>(shm.data())[16], 2.f);
  EXPECT_EQ(CodeOf([&] { shm.as_tensor(DType::kFloat32, {4}, 2); }), StatusCode::kInvalidArgument);
}

}  // namespace
