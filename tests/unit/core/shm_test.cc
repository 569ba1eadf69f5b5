#include "mlos/shm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "mlos/tensor.h"

namespace mlos {
namespace {

TEST(ShmTest, CreateSealAndRemap) {
  auto region = *ShmRegion::Create("test", 4096);
  std::memset(region->data(), 7, 4096);
  ASSERT_TRUE(region->Seal().ok());
  EXPECT_TRUE(region->size_sealed());
  EXPECT_NE(ftruncate(region->fd(), 100), 0);  // sealed: cannot shrink

  // A second mapping of the same fd sees the same bytes (as another process would).
  auto other = *ShmRegion::Map(dup(region->fd()), 4096);
  EXPECT_EQ(static_cast<char*>(other->data())[4095], 7);
  EXPECT_EQ(ShmRegion::Map(dup(region->fd()), 8192).status().code(), StatusCode::kOutOfRange);
}

TEST(ShmTest, RangeChecks) {
  auto region = *ShmRegion::Create("range", 1024);
  EXPECT_TRUE(region->CheckRange(0, 1024).ok());
  EXPECT_TRUE(region->CheckRange(1024, 0).ok());
  EXPECT_FALSE(region->CheckRange(1, 1024).ok());
  EXPECT_FALSE(region->CheckRange(UINT64_MAX, 2).ok());
  EXPECT_FALSE(region->CheckRange(8, UINT64_MAX - 4).ok());
  EXPECT_FALSE(ShmRegion::Map(-1, 10).ok());
  EXPECT_FALSE(ShmRegion::Create("zero", 0).ok());
}

TEST(ShmTest, TensorInSharedMemory) {
  auto region = *ShmRegion::Create("tensor", 256);
  auto storage = *Storage::FromShm(region, 64, 64);
  Tensor t = *Tensor::FromStorage(storage, DType::kFloat32, {4, 4});
  t.at<float>({0, 0}) = 3.f;
  EXPECT_EQ(static_cast<float*>(region->data())[16], 3.f);
  EXPECT_EQ(t.storage()->shm_offset(), 64u);
  EXPECT_FALSE(Storage::FromShm(region, 200, 64).ok());
}

}  // namespace
}  // namespace mlos
