// Helpers shared by operator files: input/attribute access with checked errors, strided
// broadcasting loops, dtype dispatch. Header-only; no state.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/op_registry.h"
#include "graph/tensor_proto.h"
#include "mlos/dtype.h"
#include "mlos/half.h"
#include "mlos/tensor.h"

namespace mlos::graph::ops {

// Reads a 1-D (or scalar) integer tensor (int64 or int32) into a vector.
inline Result<std::vector<int64_t>> ToInt64s(const Tensor& t) {
  std::vector<int64_t> out;
  MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
  out.reserve(static_cast<size_t>(c.numel()));
  if (c.dtype() == DType::kInt64) {
    const auto* p = static_cast<const int64_t*>(c.raw_data());
    out.assign(p, p + c.numel());
  } else if (c.dtype() == DType::kInt32) {
    const auto* p = static_cast<const int32_t*>(c.raw_data());
    out.assign(p, p + c.numel());
  } else {
    return InvalidArgument("expected an int64 or int32 tensor, got ", DTypeName(c.dtype()));
  }
  return out;
}

// Scalar of any numeric dtype as double.
// The numeric (non-string) dtype named by an ONNX TensorProto.DataType attribute value;
// `what` names the attribute in the error.
inline Result<DType> NumericDTypeAttr(const OpContext& ctx, int64_t onnx_type, const char* what) {
  auto dt = DTypeFromOnnx(static_cast<int>(onnx_type));
  if (!dt.ok() || *dt == DType::kString) {
    return ctx.Error(std::string("unsupported ") + what + " " + std::to_string(onnx_type));
  }
  return *dt;
}

inline double ScalarAsDouble(const Tensor& t) { return t.numel() > 0 ? t.GetAsDouble(0) : 0.0; }

// Visits the elements of `shape` (row-major) with N operands given by element strides; calls
// fn(offsets, inner_count, inner_strides) once per innermost row. Offsets are in elements.
template <size_t N, typename Fn>
void StridedLoop(const Shape& shape, const std::array<const int64_t*, N>& strides, Fn&& fn) {
  const int rank = static_cast<int>(shape.size());
  std::array<int64_t, N> off{};
  if (rank == 0) {
    std::array<int64_t, N> st{};
    fn(off, int64_t{1}, st);
    return;
  }
  for (int64_t d : shape) {
    if (d == 0) return;
  }
  std::array<int64_t, N> inner{};
  for (size_t k = 0; k < N; ++k) inner[k] = strides[k][rank - 1];
  const int64_t n_inner = shape[rank - 1];
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  while (true) {
    fn(off, n_inner, inner);
    int d = rank - 2;
    for (; d >= 0; --d) {
      ++idx[d];
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// Collapses adjacent dims that are contiguous for every operand, for faster loops.
template <size_t N>
void CoalesceDims(Shape* shape, std::array<std::vector<int64_t>, N>* strides) {
  Shape s;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape->size(); ++d) {
    if ((*shape)[d] == 1) continue;
    bool merge = !s.empty();
    if (merge) {
      for (size_t k = 0; k < N; ++k) {
        if (st[k].back() != (*strides)[k][d] * (*shape)[d]) merge = false;
      }
    }
    if (merge) {
      s.back() *= (*shape)[d];
      for (size_t k = 0; k < N; ++k) st[k].back() = (*strides)[k][d];
    } else {
      s.push_back((*shape)[d]);
      for (size_t k = 0; k < N; ++k) st[k].push_back((*strides)[k][d]);
    }
  }
  *shape = std::move(s);
  *strides = std::move(st);
}

// float conversions for float-like element types.
template <typename T>
inline float ToF(T v) {
  return static_cast<float>(v);
}

// Calls fn(T{}) with the C++ type of `t` when Accept(t) holds, else returns an error naming
// the dtype. Built on VisitDType; fn is only instantiated for the accepted types.
template <bool (*Accept)(DType), typename Fn>
Status DispatchIf(DType t, const OpContext& ctx, Fn&& fn) {
  return VisitDType(t, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string>) {
      if constexpr (Accept(kDTypeOf<T>)) return fn(T{});
    }
    return ctx.Error(std::string("unsupported dtype ") + std::string(DTypeName(t)));
  });
}

// Calls fn(T{}) for float32/float64/float16/bfloat16, else returns an error.
template <typename Fn>
Status DispatchFloat(DType t, const OpContext& ctx, Fn&& fn) {
  return DispatchIf<&IsFloating>(t, ctx, std::forward<Fn>(fn));
}

// Calls fn(T{}) for every numeric dtype (bool excluded).
template <typename Fn>
Status DispatchNumeric(DType t, const OpContext& ctx, Fn&& fn) {
  return DispatchIf<&IsNumeric>(t, ctx, std::forward<Fn>(fn));
}

// Calls fn(T{}) for every dtype with a fixed-size element (strings excluded), by element size
// only: for ops that move bytes (Gather, Transpose, Concat...).
template <typename Fn>
Status DispatchBySize(DType t, const OpContext& ctx, Fn&& fn) {
  switch (DTypeSize(t)) {
    case 1:
      return fn(uint8_t{});
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    default:
      return ctx.Error("unsupported element size");
  }
}

// Copies any tensor (strings too) into a fresh contiguous output `i` of ctx.
inline Status CopyToOutput(OpContext& ctx, int i, const Tensor& src, Shape shape) {
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(i, src.dtype(), std::move(shape)));
  MLOS_ASSIGN_OR_RETURN(Tensor view, src.Reshape(out.shape()));
  return out.CopyFrom(view);
}

// Normalises `axis` against `rank`, with an error naming the node.
inline Result<int> Axis(const OpContext& ctx, int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
    return ctx.Error("axis " + std::to_string(axis) + " out of range for rank " +
                     std::to_string(rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace mlos::graph::ops

namespace mlos::graph::ops {

// The arithmetic type of an element type: float for the 16-bit floats, else itself.
template <typename T>
using CalcT =
    std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>, float, T>;

// StridedLoop over `shape` split across the pool along its outermost dimension.
template <size_t N, typename Fn>
void ParallelStridedLoop(ThreadPool& pool, const Shape& shape,
                         const std::array<std::vector<int64_t>, N>& strides, Fn&& fn) {
  std::array<const int64_t*, N> sp;
  for (size_t k = 0; k < N; ++k) sp[k] = strides[k].data();
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (total == 0) return;
  if (shape.empty() || total < 32768 || pool.num_threads() == 1) {
    StridedLoop<N>(shape, sp, fn);
    return;
  }
  if (shape.size() == 1) {
    pool.ParallelFor(shape[0], 16384, [&](int64_t b, int64_t e) {
      std::array<int64_t, N> off, st;
      for (size_t k = 0; k < N; ++k) {
        off[k] = b * strides[k][0];
        st[k] = strides[k][0];
      }
      fn(off, e - b, st);
    });
    return;
  }
  Shape sub(shape.begin() + 1, shape.end());
  std::array<const int64_t*, N> subp;
  for (size_t k = 0; k < N; ++k) subp[k] = strides[k].data() + 1;
  int64_t inner = total / shape[0];
  pool.ParallelFor(shape[0], std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t i = b; i < e; ++i) {
                       StridedLoop<N>(sub, subp,
                                      [&](std::array<int64_t, N> off, int64_t n,
                                          const std::array<int64_t, N>& st) {
                                        for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][0];
                                        fn(off, n, st);
                                      });
                     }
                   });
}

}  // namespace mlos::graph::ops
