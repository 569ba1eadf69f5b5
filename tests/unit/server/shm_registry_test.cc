// ShmRegistry (HTTP system shared memory) and the KServe shm tensor helpers: key checks, window
// bounds against the object, refcounted lifetime across unregister, zero-copy float inputs,
// copied integer inputs, output size checks, truncated objects, concurrent use.
#include "server/shm_registry.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "server/kserve_shm.h"

namespace mlos::server {
namespace {

// A POSIX shm object made the way a client makes one; unlinked at the end.
class Object {
 public:
  explicit Object(size_t size) {
    static std::atomic<int> counter{0};
    char key[64];
    std::snprintf(key, sizeof key, "/mlos-unit-%d-%d", static_cast<int>(getpid()), counter++);
    key_ = key;
    fd_ = shm_open(key_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    EXPECT_GE(fd_, 0) << key_;
    EXPECT_EQ(ftruncate(fd_, static_cast<off_t>(size)), 0);
    map_ = static_cast<uint8_t*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    EXPECT_NE(map_, MAP_FAILED);
    size_ = size;
  }
  ~Object() {
    munmap(map_, size_);
    close(fd_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  uint8_t* bytes() const { return map_; }
  int fd() const { return fd_; }

 private:
  std::string key_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t size_ = 0;
};

TEST(ShmRegistryTest, KeysMustNameAnObjectInDevShm) {
  for (const char* ok : {"/a", "/mlos-test.1_x", "/A-Z.0"}) {
    EXPECT_TRUE(ShmRegistry::ValidateKey(ok).ok()) << ok;
  }
  for (const char* bad : {"", "/", "a", "//a", "/a/b", "/.", "/..", "/x y", "/x\n", "/\xc3\xa9"}) {
    EXPECT_FALSE(ShmRegistry::ValidateKey(bad).ok()) << bad;
  }
  EXPECT_FALSE(ShmRegistry::ValidateKey("/" + std::string(255, 'k')).ok());
  EXPECT_TRUE(ShmRegistry::ValidateKey("/" + std::string(254, 'k')).ok());
  EXPECT_FALSE(ShmRegistry::ValidateName("").ok());
  EXPECT_FALSE(ShmRegistry::ValidateName("a\tb").ok());
  EXPECT_FALSE(ShmRegistry::ValidateName(std::string(257, 'n')).ok());
  EXPECT_TRUE(ShmRegistry::ValidateName("my region/1").ok());
}

TEST(ShmRegistryTest, WindowIsCheckedAgainstTheObject) {
  Object obj(3 * 4096);
  ShmRegistry reg;
  const uint64_t kMax = UINT64_MAX;
  EXPECT_FALSE(reg.Register("r", obj.key(), 0, 0).ok());
  EXPECT_FALSE(reg.Register("r", obj.key(), 0, 3 * 4096 + 1).ok());
  EXPECT_FALSE(reg.Register("r", obj.key(), 3 * 4096, 1).ok());
  EXPECT_FALSE(reg.Register("r", obj.key(), kMax, 1).ok());
  EXPECT_FALSE(reg.Register("r", obj.key(), 1, kMax).ok());
  EXPECT_FALSE(reg.Register("r", obj.key(), kMax - 10, 20).ok());
  EXPECT_FALSE(reg.Register("r", "/mlos-unit-does-not-exist", 0, 16).ok());
  EXPECT_EQ(reg.size(), 0u);
  // An unaligned window ending exactly at the end of the object.
  ASSERT_TRUE(reg.Register("r", obj.key(), 4097, 2 * 4096 - 1).ok());
  ShmRegistry::RegionPtr r = reg.Find("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset(), 4097u);
  EXPECT_EQ(r->byte_size(), 2u * 4096 - 1);
  EXPECT_TRUE(r->writable());
  // The region's bytes are the object's bytes at the offset, both ways.
  obj.bytes()[4097] = 42;
  obj.bytes()[3 * 4096 - 1] = 43;
  EXPECT_EQ(r->data()[0], 42);
  EXPECT_EQ(r->data()[2 * 4096 - 2], 43);
  r->data()[5] = 7;
  EXPECT_EQ(obj.bytes()[4097 + 5], 7);
  // Tensor ranges relative to the region.
  EXPECT_TRUE(r->CheckRange(0, 2 * 4096 - 1, "t").ok());
  EXPECT_TRUE(r->CheckRange(2 * 4096 - 1, 0, "t").ok());
  EXPECT_FALSE(r->CheckRange(0, 2 * 4096, "t").ok());
  EXPECT_FALSE(r->CheckRange(2 * 4096, 0, "t").ok());
  EXPECT_FALSE(r->CheckRange(1, kMax, "t").ok());
  EXPECT_FALSE(r->CheckRange(kMax, 1, "t").ok());
  Status dup = reg.Register("r", obj.key(), 0, 16);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(r->StillBacked().ok());
}

TEST(ShmRegistryTest, UnregisterLeavesInFlightUsersTheirMapping) {
  ShmRegistry reg;
  ShmRegistry::RegionPtr held;
  {
    Object obj(4096);
    std::memset(obj.bytes(), 9, 4096);
    ASSERT_TRUE(reg.Register("r", obj.key(), 0, 4096).ok());
    held = reg.Find("r");
    EXPECT_TRUE(reg.Unregister("r").ok());
    EXPECT_EQ(reg.Unregister("r").code(), StatusCode::kNotFound);
    EXPECT_FALSE(reg.Find("r"));
  }  // the object is unlinked and the client's mapping gone
  EXPECT_EQ(held->data()[4095], 9);
  held.reset();
}

TEST(ShmRegistryTest, RegionLimitAndUnregisterAll) {
  Object obj(4096);
  ShmRegistry reg(2);
  ASSERT_TRUE(reg.Register("a", obj.key(), 0, 16).ok());
  ASSERT_TRUE(reg.Register("b", obj.key(), 16, 16).ok());
  EXPECT_EQ(reg.Register("c", obj.key(), 32, 16).code(), StatusCode::kResourceExhausted);
  std::vector<ShmRegistry::RegionPtr> all = reg.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->name(), "a");
  EXPECT_EQ(all[1]->name(), "b");
  reg.UnregisterAll();
  EXPECT_EQ(reg.size(), 0u);
  EXPECT_TRUE(reg.Register("c", obj.key(), 32, 16).ok());
}

TEST(ShmRegistryTest, ShrunkObjectIsDetected) {
  Object obj(8192);
  ShmRegistry reg;
  ASSERT_TRUE(reg.Register("r", obj.key(), 4096, 4096).ok());
  ASSERT_EQ(ftruncate(obj.fd(), 4096 + 100), 0);
  Status s = reg.Find("r")->StillBacked();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("shrank"), std::string::npos) << s.message();
}

ShmTensorRef Ref(const ShmRegistry& reg, const char* name, uint64_t offset, uint64_t size) {
  ShmTensorRef r;
  r.region = reg.Find(name);
  r.offset = offset;
  r.byte_size = size;
  return r;
}

TEST(KServeShmTest, FloatInputsAreViewsAndKeepTheRegionAlive) {
  Object obj(4096);
  ShmRegistry reg;
  ASSERT_TRUE(reg.Register("r", obj.key(), 64, 1024).ok());
  float* f = reinterpret_cast<float*>(obj.bytes() + 64 + 32);
  for (int i = 0; i < 6; ++i) f[i] = 0.5f * static_cast<float>(i);
  Tensor t;
  {
    Result<Tensor> r = ShmInputTensor(Ref(reg, "r", 32, 24), DType::kFloat32, {2, 3}, "x");
    ASSERT_TRUE(r.ok()) << r.status().message();
    t = std::move(r).value();
  }
  EXPECT_EQ(t.raw_data(), static_cast<void*>(reg.Find("r")->data() + 32));  // no copy
  EXPECT_FLOAT_EQ(t.GetAsDouble(5), 2.5);
  ASSERT_TRUE(reg.Unregister("r").ok());
  f[5] = 11.0f;  // still the same pages after unregister
  EXPECT_FLOAT_EQ(t.GetAsDouble(5), 11.0);
}

TEST(KServeShmTest, IntegerInputsAreCopiedAndSizesMustMatch) {
  Object obj(4096);
  ShmRegistry reg;
  ASSERT_TRUE(reg.Register("r", obj.key(), 0, 4096).ok());
  int64_t* v = reinterpret_cast<int64_t*>(obj.bytes() + 8);
  v[0] = 5;
  v[1] = -6;
  Result<Tensor> t = ShmInputTensor(Ref(reg, "r", 8, 16), DType::kInt64, {2}, "ids");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_NE(t->raw_data(), static_cast<void*>(v));
  v[0] = 99;  // the copy does not see later writes
  EXPECT_EQ(t->GetAsDouble(0), 5);
  EXPECT_EQ(t->GetAsDouble(1), -6);
  Result<Tensor> bad = ShmInputTensor(Ref(reg, "r", 8, 12), DType::kInt64, {2}, "ids");
  ASSERT_FALSE(bad.ok());
  for (const char* w : {"'ids'", "'r'", "12", "16"}) {
    EXPECT_NE(bad.status().message().find(w), std::string::npos) << bad.status().message();
  }
  // A float input at an unaligned offset is copied, not viewed misaligned.
  Result<Tensor> odd = ShmInputTensor(Ref(reg, "r", 9, 8), DType::kFloat32, {2}, "x");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(odd->raw_data()) % 4, 0u);
}

TEST(KServeShmTest, OutputsMustFitAndAreWrittenAtTheirOffset) {
  Object obj(4096);
  std::memset(obj.bytes(), 0xAB, 4096);
  ShmRegistry reg;
  ASSERT_TRUE(reg.Register("out", obj.key(), 100, 200).ok());
  Tensor y = Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4}).value();
  Result<uint64_t> small = WriteShmOutput(y, Ref(reg, "out", 0, 12), "y");
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("16"), std::string::npos);
  EXPECT_EQ(obj.bytes()[100], 0xAB);  // nothing written
  Result<uint64_t> n = WriteShmOutput(y, Ref(reg, "out", 40, 20), "y");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 16u);
  const float* got = reinterpret_cast<const float*>(obj.bytes() + 140);
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[3], 4.0f);
  EXPECT_EQ(obj.bytes()[139], 0xAB);
  EXPECT_EQ(obj.bytes()[156], 0xAB);
  // A transposed (non-contiguous) output is written row-major.
  Tensor yt = y.Permute(std::vector<int64_t>{1, 0}).value();
  ASSERT_TRUE(WriteShmOutput(yt, Ref(reg, "out", 0, 16), "yt").ok());
  const float* g2 = reinterpret_cast<const float*>(obj.bytes() + 100);
  EXPECT_EQ(g2[1], 3.0f);
  EXPECT_EQ(g2[2], 2.0f);
}

TEST(ShmRegistryTest, ConcurrentRegisterFindUnregister) {
  Object obj(4096);
  ShmRegistry reg;
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      const char* name = i == 0 ? "r0" : "r1";
      while (!stop) {
        (void)reg.Register(name, obj.key(), 0, 4096);
        (void)reg.Unregister(name);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      for (const char* n : {"r0", "r1"}) {
        if (ShmRegistry::RegionPtr r = reg.Find(n)) {
          reads += r->data()[4095] == 0;
        }
      }
      (void)reg.List();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GE(reads.load(), 0);
}

}  // namespace
}  // namespace mlos::server
