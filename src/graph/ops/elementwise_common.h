// Shared by the elementwise op families (arithmetic.cc, logical.cc, unary_math.cc): numpy
// broadcasting of a binary function into an output, and a unary map, over every element type,
// parallel on the pool. Header-only templates; include only from ops/*.cc.
#pragma once

#include <array>
#include <vector>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops::elementwise {

template <typename T>
inline T FromCalc(CalcT<T> v) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return T(v);
  } else {
    return static_cast<T>(v);
  }
}

// out[i] = f(a[i], b[i]) with broadcasting into a preallocated `out` of the broadcast shape.
template <typename A, typename B, typename O, typename F>
Status BroadcastBinaryInto(ThreadPool& pool, const Tensor& a, const Tensor& b, Tensor& out, F f) {
  Shape shape = out.shape();
  MLOS_ASSIGN_OR_RETURN(Tensor av, a.BroadcastTo(shape));
  MLOS_ASSIGN_OR_RETURN(Tensor bv, b.BroadcastTo(shape));
  std::array<std::vector<int64_t>, 3> st{av.strides(), bv.strides(), ContiguousStrides(shape)};
  CoalesceDims<3>(&shape, &st);
  const A* pa = static_cast<const A*>(av.raw_data());
  const B* pb = static_cast<const B*>(bv.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  ParallelStridedLoop<3>(
      pool, shape, st,
      [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& s) {
        const A* x = pa + off[0];
        const B* y = pb + off[1];
        O* z = po + off[2];
        if (s[0] == 1 && s[1] == 1) {
          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
        } else if (s[0] == 1 && s[1] == 0) {
          const B yv = y[0];
          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
        } else if (s[0] == 0 && s[1] == 1) {
          const A xv = x[0];
          for (int64_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) {
            z[i * s[2]] = f(x[i * s[0]], y[i * s[1]]);
          }
        }
      });
  return Status::OK();
}

template <typename A, typename B, typename O, typename F>
Status BroadcastBinary(OpContext& ctx, const Tensor& a, const Tensor& b, DType out_dtype,
                       int out_index, F f) {
  auto shape_r = BroadcastShapes(a.shape(), b.shape());
  if (!shape_r.ok()) return ctx.Error(shape_r.status().message());
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(out_index, out_dtype, *shape_r));
  return BroadcastBinaryInto<A, B, O>(ctx.pool(), a, b, out, f);
}

// out = f(x) elementwise, same shape.
template <typename X, typename O, typename F>
Status MapUnary(OpContext& ctx, const Tensor& x, DType out_dtype, F f) {
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, out_dtype, x.shape()));
  Shape shape = x.shape();
  std::array<std::vector<int64_t>, 2> st{x.strides(), ContiguousStrides(shape)};
  CoalesceDims<2>(&shape, &st);
  const X* px = static_cast<const X*>(x.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  ParallelStridedLoop<2>(
      ctx.pool(), shape, st,
      [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& s) {
        const X* a = px + off[0];
        O* z = po + off[1];
        if (s[0] == 1) {
          for (int64_t i = 0; i < n; ++i) z[i] = f(a[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) z[i * s[1]] = f(a[i * s[0]]);
        }
      });
  return Status::OK();
}

}  // namespace mlos::graph::ops::elementwise
