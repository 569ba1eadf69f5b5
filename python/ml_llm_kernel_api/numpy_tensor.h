// numpy <-> mlos::Tensor conversions for the ml_llm_kernel_api module, without copies where the
// layout allows: an array becomes a Tensor over the array's own buffer (the array is kept alive
// by the storage), a Tensor becomes an array over the tensor's storage (kept alive by a capsule).
// Thread-safety: call with the GIL held; the owners they create take the GIL to release.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "kernel_api.h"

namespace mlos::py {

namespace pyb = pybind11;

// numpy dtype <-> DType; TypeError-like KernelError for unsupported dtypes.
DType DTypeFromNumpy(const pyb::dtype& dt);
pyb::dtype NumpyFromDType(DType t);

// Shared-memory regions made by shared_memory_buffer(): an array whose bytes lie inside one
// of them becomes a Tensor viewing the region, so remote inference sends it by reference.
class RegionIndex {
 public:
  void Add(const std::shared_ptr<ShmRegion>& r);
  // The live region containing [p, p + n), if any.
  std::shared_ptr<ShmRegion> Find(const void* p, size_t n);

 private:
  std::vector<std::weak_ptr<ShmRegion>> regions_;
};

// Any array-like -> Tensor. A C-contiguous array of a supported dtype is viewed in place;
// anything else is converted (one copy) first. `want` >= 0 casts to that DType.
Tensor ToTensor(const pyb::handle& obj, RegionIndex* regions, int want = -1);
// Tensor -> numpy array viewing the same bytes (strides kept).
pyb::array ToNumpy(const Tensor& t);

}  // namespace mlos::py
