// A grow-only, 64-byte-aligned float buffer for kernel scratch (packed panels, padded planes).
// Not thread-safe: kernels keep one per thread and use, as a function-local `thread_local
// ScratchBuffer`, so buffers that are live at the same time stay distinct. Get returns nullptr
// when the memory cannot be had; callers fall back to a path that needs none or fail cleanly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace mlos::kernels::internal {

class ScratchBuffer {
 public:
  // At least `floats` floats (the micro-kernels load packed panels aligned); the previous
  // contents are lost when the buffer grows.
  float* Get(int64_t floats) {
    if (floats > capacity_) {
      buf_.reset();
      capacity_ = 0;
      const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
      buf_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (buf_ == nullptr) return nullptr;
      capacity_ = floats;
    }
    return buf_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> buf_;
  int64_t capacity_ = 0;
};

}  // namespace mlos::kernels::internal
