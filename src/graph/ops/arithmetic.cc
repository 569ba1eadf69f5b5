// Arithmetic with numpy broadcasting (Add, Sub, Mul, Div, Pow, Mod), Where, and the variadic
// Sum/Mean/Max/Min, for every numeric dtype the ONNX schema allows; 16-bit floats compute in
// float. Float32 same-shape, trailing-row and per-channel operands take vector paths.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/channel_broadcast.h"
#include "graph/ops/elementwise_common.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::graph::ops {
namespace {

using namespace elementwise;  // NOLINT

enum class Bin { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFmod };

template <Bin op, typename C>
inline C ApplyBin(C a, C b) {
  if constexpr (op == Bin::kAdd) return a + b;
  if constexpr (op == Bin::kSub) return a - b;
  if constexpr (op == Bin::kMul) return a * b;
  if constexpr (op == Bin::kDiv) {
    if constexpr (std::is_integral_v<C>) {
      return b == 0 ? C(0) : static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
  if constexpr (op == Bin::kMax) {
    if constexpr (std::is_floating_point_v<C>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
    }
    return a > b ? a : b;
  }
  if constexpr (op == Bin::kMin) {
    if constexpr (std::is_floating_point_v<C>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
    }
    return a < b ? a : b;
  }
  if constexpr (op == Bin::kFmod) {
    if constexpr (std::is_integral_v<C>) {
      return b == 0 ? C(0) : static_cast<C>(a % b);
    } else {
      return std::fmod(a, b);
    }
  }
  if constexpr (op == Bin::kMod) {  // Python-style: the sign of the divisor
    if constexpr (std::is_integral_v<C>) {
      if (b == 0) return C(0);
      C r = static_cast<C>(a % b);
      if constexpr (std::is_signed_v<C>) {
        if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
      }
      return r;
    } else {
      C r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
  }
  return a;
}

// True when `row` is [1, ..., 1, N] of rank <= full's rank, with N full's last dimension: the
// bias/residual row of a transformer's adds, broadcast over full's rows.
bool IsTrailingRow(const Tensor& full, const Tensor& row) {
  if (full.rank() == 0 || row.rank() == 0 || row.rank() > full.rank()) return false;
  const int64_t n = full.shape().back();
  if (row.shape().back() != n || row.numel() != n) return false;
  return true;
}

// Float32 Add/Sub/Mul/Div of contiguous operands that are either the same shape or a tensor and
// a trailing row: vector bodies over whole rows instead of the generic broadcast loop. Sets *st
// and returns true when it handled the node.
template <Bin op>
bool TryFloatRowBinary(OpContext& ctx, const Tensor& a, const Tensor& b, Status* st) {
  if constexpr (op != Bin::kAdd && op != Bin::kSub && op != Bin::kMul && op != Bin::kDiv) {
    return false;
  } else {
    if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 ||
        !kernels::KernelsUseAvx2() || !a.is_contiguous() || !b.is_contiguous()) {
      return false;
    }
    constexpr kernels::BinaryOp kop = op == Bin::kAdd   ? kernels::BinaryOp::kAdd
                                      : op == Bin::kSub ? kernels::BinaryOp::kSub
                                      : op == Bin::kMul ? kernels::BinaryOp::kMul
                                                        : kernels::BinaryOp::kDiv;
    const bool same = a.shape() == b.shape();
    const bool b_row = !same && IsTrailingRow(a, b);
    const bool a_row = !same && !b_row && IsTrailingRow(b, a);
    if (!same && !a_row && !b_row) return false;
    const Shape& shape = a_row ? b.shape() : a.shape();
    auto out_r = ctx.Output(0, DType::kFloat32, shape);
    if (!out_r.ok()) {
      *st = out_r.status();
      return true;
    }
    *st = Status::OK();
    const int64_t total = out_r->numel();
    if (total == 0) return true;
    const float* pa = static_cast<const float*>(a.raw_data());
    const float* pb = static_cast<const float*>(b.raw_data());
    float* po = static_cast<float*>(out_r->raw_data());
    // Below ~32K elements one thread does it faster than a parallel region starts.
    constexpr int64_t kGrain = 32768;
    if (same) {
      ctx.pool().ParallelFor(total, kGrain, [&](int64_t i0, int64_t i1) {
        kernels::internal::BinaryF32Avx2(kop, pa + i0, 1, pb + i0, 1, po + i0, i1 - i0);
      });
      return true;
    }
    const int64_t n = shape.back(), rows = total / n;
    ctx.pool().ParallelFor(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* x = a_row ? pa : pa + r * n;
        const float* y = b_row ? pb : pb + r * n;
        kernels::internal::BinaryF32Avx2(kop, x, 1, y, 1, po + r * n, n);
      }
    });
    return true;
  }
}

template <Bin op>
Status ArithCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  if (Status st; TryFloatRowBinary<op>(ctx, *a, *b, &st)) return st;
  if (op == Bin::kMod && ctx.node().GetInt("fmod", 0) != 0) {
    return ArithCompute<Bin::kFmod>(ctx);
  }
  if (a->dtype() != b->dtype()) {
    if constexpr (op == Bin::kPow) {
      // Pow allows a different exponent type: the exponent goes through double, the result
      // has the base's type.
      MLOS_ASSIGN_OR_RETURN(Tensor bd, Tensor::Empty(DType::kFloat64, b->shape()));
      for (int64_t i = 0; i < b->numel(); ++i)
        static_cast<double*>(bd.raw_data())[i] = b->GetAsDouble(i);
      return DispatchNumeric(a->dtype(), ctx, [&](auto ta) -> Status {
        using A = decltype(ta);
        return BroadcastBinary<A, double, A>(ctx, *a, bd, a->dtype(), 0, [](A x, double y) {
          return FromCalc<A>(static_cast<CalcT<A>>(std::pow(static_cast<double>(ToF(x)), y)));
        });
      });
    }
    return ctx.Error("operands have different dtypes " + std::string(DTypeName(a->dtype())) +
                     " and " + std::string(DTypeName(b->dtype())));
  }
  if constexpr (op == Bin::kAdd || op == Bin::kSub || op == Bin::kMul || op == Bin::kDiv) {
    constexpr kernels::BinaryOp kop = op == Bin::kAdd   ? kernels::BinaryOp::kAdd
                                      : op == Bin::kSub ? kernels::BinaryOp::kSub
                                      : op == Bin::kMul ? kernels::BinaryOp::kMul
                                                        : kernels::BinaryOp::kDiv;
    Status st;  // [N, C, H, W] op [N|1, C, 1, 1]: its own path (channel_broadcast.h)
    if (TryChannelBroadcastF32(ctx, kop, *a, *b, &st)) return st;
  }
  return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    return BroadcastBinary<T, T, T>(ctx, *a, *b, a->dtype(), 0, [](T x, T y) {
      if constexpr (op == Bin::kPow) {
        if constexpr (std::is_integral_v<C>) {
          return static_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(y)));
        } else {
          return FromCalc<T>(static_cast<C>(std::pow(static_cast<C>(x), static_cast<C>(y))));
        }
      } else {
        return FromCalc<T>(ApplyBin<op, C>(static_cast<C>(x), static_cast<C>(y)));
      }
    });
  });
}

Status WhereCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* c, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* y, ctx.RequireTensor(2));
  if (c->dtype() != DType::kBool || x->dtype() != y->dtype()) return ctx.Error("bad dtypes");
  auto s1 = BroadcastShapes(c->shape(), x->shape());
  if (!s1.ok()) return ctx.Error(s1.status().message());
  auto s2 = BroadcastShapes(*s1, y->shape());
  if (!s2.ok()) return ctx.Error(s2.status().message());
  Shape shape = *s2;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), shape));
  MLOS_ASSIGN_OR_RETURN(Tensor cv, c->BroadcastTo(shape));
  MLOS_ASSIGN_OR_RETURN(Tensor xv, x->BroadcastTo(shape));
  MLOS_ASSIGN_OR_RETURN(Tensor yv, y->BroadcastTo(shape));
  std::array<std::vector<int64_t>, 4> st{cv.strides(), xv.strides(), yv.strides(),
                                         ContiguousStrides(shape)};
  CoalesceDims<4>(&shape, &st);
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const bool* pc = static_cast<const bool*>(cv.raw_data());
    const T* px = static_cast<const T*>(xv.raw_data());
    const T* py = static_cast<const T*>(yv.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    ParallelStridedLoop<4>(
        ctx.pool(), shape, st,
        [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& s) {
          for (int64_t i = 0; i < n; ++i) {
            po[off[3] + i * s[3]] =
                pc[off[0] + i * s[0]] ? px[off[1] + i * s[1]] : py[off[2] + i * s[2]];
          }
        });
    return Status::OK();
  };
  if (x->dtype() == DType::kString) return run(std::string{});
  return DispatchBySize(x->dtype(), ctx, run);
}

// Sum, Mean, Max, Min over 1..N inputs with broadcasting.
template <Bin op, bool kMean>
Status VariadicCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* first, ctx.RequireTensor(0));
  Shape shape = first->shape();
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(i));
    if (b->dtype() != first->dtype()) return ctx.Error("inputs have different dtypes");
    auto s = BroadcastShapes(shape, b->shape());
    if (!s.ok()) return ctx.Error(s.status().message());
    shape = *s;
  }
  if (ctx.num_inputs() == 1) return CopyToOutput(ctx, 0, *first, first->shape());
  return DispatchNumeric(first->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    Tensor acc = *first;
    const int n = ctx.num_inputs();
    for (int i = 1; i < n; ++i) {
      const bool last = i == n - 1;
      Tensor dst;
      if (last) {
        MLOS_ASSIGN_OR_RETURN(dst, ctx.Output(0, first->dtype(), shape));
      } else {
        auto ps = BroadcastShapes(acc.shape(), ctx.input(i).shape());
        MLOS_ASSIGN_OR_RETURN(dst, Tensor::Empty(first->dtype(), *ps));
      }
      const C scale = static_cast<C>(n);
      auto fn = [=](T x, T y) {
        C r = ApplyBin<op, C>(static_cast<C>(x), static_cast<C>(y));
        if (kMean && last) r = static_cast<C>(r / scale);
        return FromCalc<T>(r);
      };
      Status st = BroadcastBinaryInto<T, T, T>(ctx.pool(), acc, ctx.input(i), dst, fn);
      if (!st.ok()) return st;
      acc = dst;
    }
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(arithmetic) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Add", ArithCompute<Bin::kAdd>);
  r.Add("Sub", ArithCompute<Bin::kSub>);
  r.Add("Mul", ArithCompute<Bin::kMul>);
  r.Add("Div", ArithCompute<Bin::kDiv>);
  r.Add("Pow", ArithCompute<Bin::kPow>);
  r.Add("Mod", ArithCompute<Bin::kMod>);
  r.Add("Where", WhereCompute);
  r.Add("Sum", VariadicCompute<Bin::kAdd, false>);
  r.Add("Mean", VariadicCompute<Bin::kAdd, true>);
  r.Add("Max", VariadicCompute<Bin::kMax, false>);
  r.Add("Min", VariadicCompute<Bin::kMin, false>);
}
