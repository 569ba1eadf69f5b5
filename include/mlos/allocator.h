// Allocators hand out 64-byte-aligned CPU memory for tensor storage.
//
// Contract: every Allocator is thread-safe. Allocate returns nullptr on failure (never throws);
// Deallocate must get the same size that was asked for. CpuArenaAllocator keeps freed blocks in
// power-of-two size classes for reuse, up to a byte cap, so steady-state inference does not go
// to the system allocator; blocks over the largest class go straight to the OS.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace mlos {

inline constexpr size_t kTensorAlignment = 64;

// 64-byte-aligned host memory (nullptr on failure or overflow), released with std::free.
// Blocks of 2 MiB and more start on a 2 MiB boundary and are advised as transparent huge pages:
// CNN activations of several MB are streamed by every layer, and with 4 KiB pages those reads
// stall on TLB misses (kernels usually run THP in "madvise" mode, so nothing is huge unasked).
void* AlignedHostAlloc(size_t nbytes);

struct AllocatorStats {
  size_t bytes_in_use = 0;  // handed out and not yet returned
  size_t peak_bytes_in_use = 0;
  size_t bytes_cached = 0;  // held in free lists for reuse
  uint64_t allocations = 0;
  uint64_t cache_hits = 0;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* Allocate(size_t nbytes) = 0;
  virtual void Deallocate(void* ptr, size_t nbytes) = 0;
  virtual std::string_view name() const = 0;
  virtual AllocatorStats stats() const = 0;
};

class CpuArenaAllocator final : public Allocator {
 public:
  // `max_cached_bytes` bounds the memory kept in free lists after release.
  explicit CpuArenaAllocator(size_t max_cached_bytes = size_t{512} << 20);
  ~CpuArenaAllocator() override;
  CpuArenaAllocator(const CpuArenaAllocator&) = delete;
  CpuArenaAllocator& operator=(const CpuArenaAllocator&) = delete;

  void* Allocate(size_t nbytes) override;
  void Deallocate(void* ptr, size_t nbytes) override;
  std::string_view name() const override { return "cpu-arena"; }
  AllocatorStats stats() const override;
  // Returns every cached block to the system.
  void Trim();

 private:
  static constexpr int kMinClassLog2 = 6;   // 64 B
  static constexpr int kMaxClassLog2 = 28;  // 256 MiB; larger blocks are not cached
  static constexpr int kNumClasses = kMaxClassLog2 - kMinClassLog2 + 1;

  static int ClassOf(size_t nbytes);

  const size_t max_cached_bytes_;
  mutable std::mutex mu_;
  std::vector<void*> free_lists_[kNumClasses];
  AllocatorStats stats_;
};

// The process-wide default CPU allocator. Like malloc, it is the one piece of process state that
// tensors created without a runtime use; it is thread-safe and lives until exit.
Allocator& DefaultAllocator();

}  // namespace mlos
