#include "mlos/allocator.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <new>

namespace mlos {

void* AlignedHostAlloc(size_t nbytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  size_t rounded = (nbytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (rounded < nbytes) return nullptr;  // overflow
  if (rounded >= kHugePage) {
    const size_t huge = (rounded + kHugePage - 1) / kHugePage * kHugePage;
    if (huge < rounded) return nullptr;
    void* p = std::aligned_alloc(kHugePage, huge);
    if (p != nullptr) madvise(p, huge, MADV_HUGEPAGE);  // advisory: failure only costs speed
    return p;
  }
  return std::aligned_alloc(kTensorAlignment, rounded == 0 ? kTensorAlignment : rounded);
}

CpuArenaAllocator::CpuArenaAllocator(size_t max_cached_bytes)
    : max_cached_bytes_(max_cached_bytes) {}

CpuArenaAllocator::~CpuArenaAllocator() { Trim(); }

int CpuArenaAllocator::ClassOf(size_t nbytes) {
  if (nbytes <= (size_t{1} << kMinClassLog2)) return 0;
  int log2 = static_cast<int>(std::bit_width(nbytes - 1));
  if (log2 > kMaxClassLog2) return -1;
  return log2 - kMinClassLog2;
}

void* CpuArenaAllocator::Allocate(size_t nbytes) {
  int cls = ClassOf(nbytes);
  void* ptr = nullptr;
  size_t block = cls < 0 ? nbytes : (size_t{1} << (cls + kMinClassLog2));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cls >= 0 && !free_lists_[cls].empty()) {
      ptr = free_lists_[cls].back();
      free_lists_[cls].pop_back();
      stats_.bytes_cached -= block;
      stats_.cache_hits++;
    }
  }
  if (ptr == nullptr) ptr = AlignedHostAlloc(block);
  if (ptr == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.allocations++;
  stats_.bytes_in_use += block;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use) {
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }
  return ptr;
}

void CpuArenaAllocator::Deallocate(void* ptr, size_t nbytes) {
  if (ptr == nullptr) return;
  int cls = ClassOf(nbytes);
  size_t block = cls < 0 ? nbytes : (size_t{1} << (cls + kMinClassLog2));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use -= block;
    if (cls >= 0 && stats_.bytes_cached + block <= max_cached_bytes_) {
      free_lists_[cls].push_back(ptr);
      stats_.bytes_cached += block;
      return;
    }
  }
  std::free(ptr);
}

AllocatorStats CpuArenaAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CpuArenaAllocator::Trim() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& list : free_lists_) {
    for (void* p : list) std::free(p);
    list.clear();
  }
  stats_.bytes_cached = 0;
}

Allocator& DefaultAllocator() {
  static CpuArenaAllocator* allocator = new CpuArenaAllocator();  // never destroyed: see header
  return *allocator;
}

}  // namespace mlos
