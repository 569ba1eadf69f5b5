// Transpose of every element size (and strings) against index arithmetic, random permutations,
// strided inputs, the tiled path, and bad permutations.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

void CheckTranspose(const Tensor& x, const std::vector<int64_t>& perm) {
  SCOPED_TRACE(ShapeToString(x.shape()) + " perm " + ShapeToString(perm));
  Shape ys;
  for (int64_t p : perm) ys.push_back(x.shape()[static_cast<size_t>(p)]);
  Tensor y = Tensor::Empty(x.dtype(), ys).value();
  Status s = Transpose(x, perm, y, Pool());
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int64_t i = 0; i < y.numel(); ++i) {
    auto yi = Unflatten(i, ys);
    std::vector<int64_t> xi(yi.size());
    for (size_t d = 0; d < perm.size(); ++d) xi[static_cast<size_t>(perm[d])] = yi[d];
    int64_t flat = 0;
    for (size_t d = 0; d < xi.size(); ++d) flat = flat * x.shape()[d] + xi[d];
    ASSERT_EQ(y.GetAsDouble(i), x.GetAsDouble(flat)) << i;
  }
}

TEST(TransposeTest, RandomPermsAllSizes) {
  std::mt19937 rng(31);
  const DType dts[] = {DType::kUInt8, DType::kFloat16, DType::kFloat32, DType::kInt64,
                       DType::kBool};
  for (int rep = 0; rep < 60; ++rep) {
    Shape shape = RandomShape(rng, 5, 7);
    const DType dt = dts[rep % 5];
    Tensor x = RandomView(dt, shape, static_cast<ViewKind>(rep % 4), rng, 0, 100);
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    CheckTranspose(x, perm);
  }
  // Tiled path: large 2-D and batched transposes with ragged tiles.
  CheckTranspose(RandomTensor(DType::kFloat32, {257, 131}, rng, 0, 1000), {1, 0});
  CheckTranspose(RandomTensor(DType::kUInt8, {3, 67, 45}, rng, 0, 200), {0, 2, 1});
  CheckTranspose(RandomTensor(DType::kInt64, {2, 33, 5, 40}, rng, 0, 1000), {3, 1, 0, 2});
  CheckTranspose(RandomTensor(DType::kFloat32, {0, 3}, rng, 0, 1), {1, 0});
  CheckTranspose(RandomTensor(DType::kFloat32, {}, rng, 0, 1), {});
}

TEST(TransposeTest, StringsAndDefaultPerm) {
  Tensor s = Tensor::Empty(DType::kString, {2, 3}).value();
  auto* p = static_cast<std::string*>(s.raw_data());
  for (int i = 0; i < 6; ++i)
    p[i] = std::string(static_cast<size_t>(i + 20), static_cast<char>('a' + i));
  Tensor y = Tensor::Empty(DType::kString, {3, 2}).value();
  ASSERT_TRUE(Transpose(s, {}, y, Pool()).ok());  // empty perm reverses the axes
  auto* q = static_cast<const std::string*>(y.raw_data());
  EXPECT_EQ(q[1], p[3]);
  EXPECT_EQ(q[2], p[1]);
  EXPECT_EQ(q[5], p[5]);
}

TEST(TransposeTest, Errors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  Tensor y = Tensor::Zeros(DType::kFloat32, {3, 2}).value();
  const int64_t dup[] = {0, 0};
  const int64_t short_perm[] = {0};
  const int64_t big[] = {0, 2};
  const int64_t id[] = {0, 1};
  EXPECT_FALSE(Transpose(x, dup, y, Pool()).ok());
  EXPECT_FALSE(Transpose(x, short_perm, y, Pool()).ok());
  EXPECT_FALSE(Transpose(x, big, y, Pool()).ok());
  Status s = Transpose(x, id, y, Pool());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[3, 2]"), std::string::npos);
  Tensor yi = Tensor::Zeros(DType::kInt32, {3, 2}).value();
  const int64_t sw[] = {1, 0};
  EXPECT_FALSE(Transpose(x, sw, yi, Pool()).ok());
  EXPECT_TRUE(Transpose(x, sw, y, Pool()).ok());
}

}  // namespace
}  // namespace mlos::kernels
