// Small helpers shared by the nn kernels (softmax, layer norm, conv, pool): product of a range
// of dimensions, and running a kernel into a contiguous temporary when the caller's output is a
// strided view. Internal to the CPU kernels.
#pragma once

#include <cstdint>

#include "mlos/status.h"
#include "mlos/tensor.h"

namespace mlos::kernels::internal {

inline int64_t DimProduct(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s[static_cast<size_t>(i)];
  return p;
}

// Calls fn(out) with `y` itself when contiguous, else with a contiguous temporary that is then
// copied into y.
template <typename Fn>
Status WithContiguousOutput(Tensor& y, Fn&& fn) {
  if (y.is_contiguous()) return fn(y);
  MLOS_ASSIGN_OR_RETURN(Tensor tmp, Tensor::Empty(y.dtype(), y.shape()));
  MLOS_RETURN_IF_ERROR(fn(tmp));
  return y.CopyFrom(tmp);
}

}  // namespace mlos::kernels::internal
