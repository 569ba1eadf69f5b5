// Strided iteration over N operands that share one (output) shape, for the elementwise, cast and
// copy kernels. Internal to the CPU kernels.
//
// BuildLayout() takes the output shape and, per operand, strides (in elements) already aligned
// to that shape (0 where an operand is broadcast), drops size-1 dimensions and merges dimensions
// that are contiguous for every operand, so a contiguous or row-broadcast case becomes one or
// two long dimensions. ForEachSegment() then walks any flat range [begin, end) of the output in
// row-major order as runs along the innermost dimension, which lets ParallelFor split the work
// anywhere. Pure functions over caller-owned data; thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "mlos/status.h"
#include "mlos/tensor.h"

namespace mlos::kernels::internal {

inline constexpr int kMaxIterDims = 16;

template <int N>
struct StridedLayout {
  int rank = 1;  // >= 1; a scalar is one dimension of size 1
  int64_t numel = 1;
  int64_t shape[kMaxIterDims] = {1};
  int64_t strides[N][kMaxIterDims] = {};
  int64_t inner() const { return shape[rank - 1]; }
  int64_t inner_stride(int k) const { return strides[k][rank - 1]; }
};

// Strides of `t` as seen from `out_shape` under numpy broadcasting (t's shape must broadcast to
// out_shape; the caller checked it).
inline std::array<int64_t, kMaxIterDims> BroadcastStrides(const Tensor& t,
                                                          std::span<const int64_t> out_shape) {
  std::array<int64_t, kMaxIterDims> s{};
  const int r = static_cast<int>(out_shape.size());
  const int tr = t.rank();
  for (int i = 0; i < tr; ++i) {
    const int o = r - tr + i;
    s[static_cast<size_t>(o)] = t.dim(i) == 1 ? 0 : t.strides()[static_cast<size_t>(i)];
  }
  return s;
}

template <int N>
Status BuildLayout(std::span<const int64_t> shape,
                   const std::array<std::array<int64_t, kMaxIterDims>, N>& strides,
                   StridedLayout<N>& L) {
  if (shape.size() > static_cast<size_t>(kMaxIterDims)) {
    return InvalidArgument("rank ", shape.size(), " exceeds the kernels' limit of ", kMaxIterDims);
  }
  L.rank = 0;
  L.numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    L.numel *= shape[i];
    if (shape[i] == 1) continue;
    const int r = L.rank;
    bool merge = r > 0;
    for (int k = 0; k < N && merge; ++k) {
      merge = strides[k][r - 1] == strides[k][i] * shape[i];
    }
    if (merge) {
      L.shape[r - 1] *= shape[i];
      for (int k = 0; k < N; ++k) L.strides[k][r - 1] = strides[k][i];
    } else {
      L.shape[r] = shape[i];
      for (int k = 0; k < N; ++k) L.strides[k][r] = strides[k][i];
      ++L.rank;
    }
  }
  if (L.rank == 0 || L.numel == 0) {
    L.rank = 1;
    L.shape[0] = L.numel;
    for (int k = 0; k < N; ++k) L.strides[k][0] = 0;
  }
  return Status::OK();
}

// fn(const int64_t* offsets /* N element offsets */, int64_t count) per innermost run.
template <int N, typename Fn>
void ForEachSegment(const StridedLayout<N>& L, int64_t begin, int64_t end, Fn&& fn) {
  if (begin >= end) return;
  const int last = L.rank - 1;
  int64_t idx[kMaxIterDims];
  int64_t off[N] = {};
  int64_t rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % L.shape[d];
    rem /= L.shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * L.strides[k][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t cnt = std::min(L.shape[last] - idx[last], end - pos);
    fn(static_cast<const int64_t*>(off), cnt);
    pos += cnt;
    if (pos >= end) break;
    // Move to the start of the next run: finish this row, then carry.
    for (int k = 0; k < N; ++k) off[k] -= idx[last] * L.strides[k][last];
    idx[last] = 0;
    for (int d = last - 1; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) off[k] += L.strides[k][d];
      if (idx[d] < L.shape[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= idx[d] * L.strides[k][d];
      idx[d] = 0;
    }
  }
}

// Outputs must not alias themselves: a stride-0 (broadcast) dimension of size > 1 would have
// several threads write one element.
inline Status CheckWritable(const Tensor& out, std::string_view op) {
  for (int d = 0; d < out.rank(); ++d) {
    if (out.dim(d) > 1 && out.strides()[static_cast<size_t>(d)] == 0) {
      return InvalidArgument(op, ": output ", ShapeToString(out.shape()),
                             " is a broadcast view (stride 0 on axis ", d, ")");
    }
  }
  return Status::OK();
}

// Grain (elements per parallel chunk) for elementwise work of the given per-element cost.
inline int64_t ElementwiseGrain(bool expensive) { return expensive ? 4096 : 32768; }

}  // namespace mlos::kernels::internal
