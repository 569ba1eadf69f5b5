// The geometry of a reduction or arg-reduction: which input elements feed which output, with
// the kept and reduced axes each coalesced. Internal to the CPU kernels; plain data.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cpu/strided_iter.h"
#include "mlos/status.h"
#include "mlos/tensor.h"

namespace mlos::kernels::internal {

struct ReduceGeometry {
  // Kept axes (outer, in output order) and reduced axes (inner), each coalesced.
  std::vector<int64_t> kept_shape, kept_strides;
  std::vector<int64_t> red_shape, red_strides;
  int64_t out_n = 1;  // number of outputs
  int64_t red_n = 1;  // elements reduced into each output

  // Input element offset of output o (row-major over the kept axes).
  int64_t OuterOffset(int64_t o) const {
    int64_t off = 0;
    for (size_t d = kept_shape.size(); d-- > 0;) {
      off += (o % kept_shape[d]) * kept_strides[d];
      o /= kept_shape[d];
    }
    return off;
  }
};

// Appends (dim, stride) to a coalesced list, merging with the previous entry when contiguous.
inline void AppendDim(std::vector<int64_t>& shape, std::vector<int64_t>& strides, int64_t dim,
                      int64_t stride) {
  if (dim == 1) return;
  if (!shape.empty() && strides.back() == stride * dim) {
    shape.back() *= dim;
    strides.back() = stride;
    return;
  }
  shape.push_back(dim);
  strides.push_back(stride);
}

// `reduced[d]` says whether input axis d is reduced.
inline ReduceGeometry MakeReduceGeometry(const Tensor& x, const std::vector<bool>& reduced) {
  ReduceGeometry g;
  for (int d = 0; d < x.rank(); ++d) {
    const int64_t dim = x.dim(d), stride = x.strides()[static_cast<size_t>(d)];
    if (reduced[static_cast<size_t>(d)]) {
      g.red_n *= dim;
      AppendDim(g.red_shape, g.red_strides, dim, stride);
    } else {
      g.out_n *= dim;
      AppendDim(g.kept_shape, g.kept_strides, dim, stride);
    }
  }
  return g;
}

// Calls fn(offset, count, stride) for each innermost run of the reduced axes, relative to base.
template <typename Fn>
void ForEachReducedRun(const ReduceGeometry& g, int64_t base, Fn&& fn) {
  const size_t r = g.red_shape.size();
  if (r == 0) {
    fn(base, int64_t{1}, int64_t{1});
    return;
  }
  const int64_t inner = g.red_shape[r - 1], inner_stride = g.red_strides[r - 1];
  if (r == 1) {
    fn(base, inner, inner_stride);
    return;
  }
  int64_t idx[kMaxIterDims] = {};
  int64_t off = base;
  while (true) {
    fn(off, inner, inner_stride);
    size_t d = r - 1;
    while (d-- > 0) {
      ++idx[d];
      off += g.red_strides[d];
      if (idx[d] < g.red_shape[d]) break;
      off -= idx[d] * g.red_strides[d];
      idx[d] = 0;
      if (d == 0) return;
    }
  }
}

}  // namespace mlos::kernels::internal
