#include "mlos/allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace mlos {
namespace {

TEST(AllocatorTest, AlignedAndReused) {
  CpuArenaAllocator alloc(1 << 20);
  void* a = alloc.Allocate(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % kTensorAlignment, 0u);
  alloc.Deallocate(a, 100);
  void* b = alloc.Allocate(120);  // same 128-byte class
  EXPECT_EQ(a, b);
  EXPECT_EQ(alloc.stats().cache_hits, 1u);
  alloc.Deallocate(b, 120);
  EXPECT_EQ(alloc.stats().bytes_in_use, 0u);
  EXPECT_EQ(alloc.stats().peak_bytes_in_use, 128u);
}

TEST(AllocatorTest, CacheIsBounded) {
  CpuArenaAllocator alloc(4096);
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(alloc.Allocate(1024));
  for (void* p : blocks) alloc.Deallocate(p, 1024);
  EXPECT_LE(alloc.stats().bytes_cached, 4096u);
  alloc.Trim();
  EXPECT_EQ(alloc.stats().bytes_cached, 0u);
}

TEST(AllocatorTest, HugeRequestFailsCleanly) {
  CpuArenaAllocator alloc;
  EXPECT_EQ(alloc.Allocate(SIZE_MAX - 8), nullptr);
}

TEST(AllocatorTest, HostAllocAlignment) {
  // Small blocks: tensor alignment; blocks of 2 MiB and more: a 2 MiB boundary (huge-page
  // friendly), and the whole requested range is writable.
  for (size_t n : {size_t{1}, size_t{100}, size_t{4096}, (size_t{2} << 20) - 1}) {
    void* p = AlignedHostAlloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kTensorAlignment, 0u) << n;
    static_cast<char*>(p)[n - 1] = 1;
    std::free(p);
  }
  for (size_t n : {size_t{2} << 20, (size_t{5} << 20) + 3}) {
    void* p = AlignedHostAlloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u) << n;
    std::memset(p, 1, n);
    std::free(p);
  }
  EXPECT_EQ(AlignedHostAlloc(~size_t{0} - 10), nullptr);  // rounding overflows
}

TEST(AllocatorTest, ConcurrentUse) {
  CpuArenaAllocator alloc;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        size_t n = 64u << (i % 8);
        void* p = alloc.Allocate(n);
        ASSERT_NE(p, nullptr);
        static_cast<char*>(p)[n - 1] = 1;
        alloc.Deallocate(p, n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(alloc.stats().bytes_in_use, 0u);
}

}  // namespace
}  // namespace mlos
