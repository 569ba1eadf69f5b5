// Elementwise operators: arithmetic, comparison and logic with numpy broadcasting, unary math,
// activations, Where, Clip, and the variadic Sum/Mean/Max/Min. Every numeric dtype the ONNX
// schema allows; 16-bit floats compute in float.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/channel_broadcast.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::graph::ops {
namespace {

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

enum class Cmp { kEq, kLt, kLe, kGt, kGe };

template <Cmp op>
Status CompareCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  if (a->dtype() != b->dtype()) return ctx.Error("operands have different dtypes");
  if (a->dtype() == DType::kBool) {
    return BroadcastBinary<bool, bool, bool>(ctx, *a, *b, DType::kBool, 0, [](bool x, bool y) {
      if constexpr (op == Cmp::kEq) return x == y;
      if constexpr (op == Cmp::kLt) return x < y;
      if constexpr (op == Cmp::kLe) return x <= y;
      if constexpr (op == Cmp::kGt) return x > y;
      return x >= y;
    });
  }
  if (a->dtype() == DType::kString) {
    if (op != Cmp::kEq) return ctx.Error("strings only compare for equality");
    return BroadcastBinary<std::string, std::string, bool>(
        ctx, *a, *b, DType::kBool, 0,
        [](const std::string& x, const std::string& y) { return x == y; });
  }
  return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    return BroadcastBinary<T, T, bool>(ctx, *a, *b, DType::kBool, 0, [](T xx, T yy) {
      C x = static_cast<C>(xx), y = static_cast<C>(yy);
      if constexpr (op == Cmp::kEq) return x == y;
      if constexpr (op == Cmp::kLt) return x < y;
      if constexpr (op == Cmp::kLe) return x <= y;
      if constexpr (op == Cmp::kGt) return x > y;
      return x >= y;
    });
  });
}

enum class Logic { kAnd, kOr, kXor };
template <Logic op>
Status LogicCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  if (a->dtype() != DType::kBool || b->dtype() != DType::kBool)
    return ctx.Error("needs bool inputs");
  return BroadcastBinary<bool, bool, bool>(ctx, *a, *b, DType::kBool, 0, [](bool x, bool y) {
    if constexpr (op == Logic::kAnd) return x && y;
    if constexpr (op == Logic::kOr) return x || y;
    return x != y;
  });
}

enum class BitOp { kAnd, kOr, kXor };
template <BitOp op>
Status BitwiseCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  if (a->dtype() != b->dtype() || !IsInteger(a->dtype()))
    return ctx.Error("needs integer inputs of one dtype");
  return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      return BroadcastBinary<T, T, T>(ctx, *a, *b, a->dtype(), 0, [](T x, T y) {
        if constexpr (op == BitOp::kAnd) return static_cast<T>(x & y);
        if constexpr (op == BitOp::kOr) return static_cast<T>(x | y);
        return static_cast<T>(x ^ y);
      });
    } else {
      return ctx.Error("needs integer inputs");
    }
  });
}

Status BitShiftCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  bool left = ctx.node().GetString("direction", "") == "LEFT";
  if (a->dtype() != b->dtype() || !IsUnsignedInteger(a->dtype()))
    return ctx.Error("needs unsigned integer inputs");
  return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      return BroadcastBinary<T, T, T>(ctx, *a, *b, a->dtype(), 0, [left](T x, T y) {
        if (static_cast<uint64_t>(y) >= sizeof(T) * 8) return T(0);
        return static_cast<T>(left ? x << y : x >> y);
      });
    } else {
      return ctx.Error("needs integer inputs");
    }
  });
}

Status NotCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->dtype() != DType::kBool) return ctx.Error("needs a bool input");
  return MapUnary<bool, bool>(ctx, *x, DType::kBool, [](bool v) { return !v; });
}

Status BitwiseNotCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchNumeric(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      return MapUnary<T, T>(ctx, *x, x->dtype(), [](T v) { return static_cast<T>(~v); });
    } else {
      return ctx.Error("needs an integer input");
    }
  });
}

// Unary float math (and integer where the math is exact: Abs, Neg, Sign).
enum class Un {
  kAbs,
  kNeg,
  kSign,
  kReciprocal,
  kSqrt,
  kExp,
  kLog,
  kFloor,
  kCeil,
  kRound,
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kAsinh,
  kAcosh,
  kAtanh,
  kTanh,
  kSigmoid,
  kRelu,
  kErf,
  kSoftplus,
  kSoftsign,
  kIdentityF,
};

template <Un op, typename C>
inline C ApplyUn(C x) {
  if constexpr (op == Un::kAbs) return x < C(0) ? static_cast<C>(-x) : x;
  if constexpr (op == Un::kNeg) return static_cast<C>(-x);
  if constexpr (op == Un::kSign) return x > C(0) ? C(1) : (x < C(0) ? C(-1) : C(0));
  if constexpr (op == Un::kRelu) return x > C(0) ? x : C(0);
  if constexpr (std::is_floating_point_v<C>) {
    if constexpr (op == Un::kReciprocal) return C(1) / x;
    if constexpr (op == Un::kSqrt) return std::sqrt(x);
    if constexpr (op == Un::kExp) return std::exp(x);
    if constexpr (op == Un::kLog) return std::log(x);
    if constexpr (op == Un::kFloor) return std::floor(x);
    if constexpr (op == Un::kCeil) return std::ceil(x);
    if constexpr (op == Un::kRound) return std::nearbyint(x);  // half to even (default mode)
    if constexpr (op == Un::kSin) return std::sin(x);
    if constexpr (op == Un::kCos) return std::cos(x);
    if constexpr (op == Un::kTan) return std::tan(x);
    if constexpr (op == Un::kAsin) return std::asin(x);
    if constexpr (op == Un::kAcos) return std::acos(x);
    if constexpr (op == Un::kAtan) return std::atan(x);
    if constexpr (op == Un::kSinh) return std::sinh(x);
    if constexpr (op == Un::kCosh) return std::cosh(x);
    if constexpr (op == Un::kAsinh) return std::asinh(x);
    if constexpr (op == Un::kAcosh) return std::acosh(x);
    if constexpr (op == Un::kAtanh) return std::atanh(x);
    if constexpr (op == Un::kTanh) return std::tanh(x);
    if constexpr (op == Un::kSigmoid) {
      return x >= C(0) ? C(1) / (C(1) + std::exp(-x)) : std::exp(x) / (C(1) + std::exp(x));
    }
    if constexpr (op == Un::kErf) return std::erf(x);
    if constexpr (op == Un::kSoftplus) return x > C(20) ? x : std::log1p(std::exp(x));
    if constexpr (op == Un::kSoftsign) return x / (C(1) + std::abs(x));
  }
  return x;
}

template <Un op, bool kIntegers>
Status UnaryCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    if constexpr (!kIntegers && !std::is_floating_point_v<C>) {
      return ctx.Error("needs a floating-point input");
    } else {
      return MapUnary<T, T>(ctx, *x, x->dtype(),
                            [](T v) { return FromCalc<T>(ApplyUn<op, C>(static_cast<C>(v))); });
    }
  };
  if (kIntegers) return DispatchNumeric(x->dtype(), ctx, run);
  return DispatchFloat(x->dtype(), ctx, run);
}

// Float activations with attributes.
template <typename F>
Status FloatMap(OpContext& ctx, F f) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchFloat(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    return MapUnary<T, T>(ctx, *x, x->dtype(), [&f](T v) {
      return FromCalc<T>(static_cast<C>(f(static_cast<double>(ToF(v)))));
    });
  });
}

Status LeakyReluCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 0.01f);
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->dtype() == DType::kFloat32) {
    float af = static_cast<float>(a);
    return MapUnary<float, float>(ctx, *x, DType::kFloat32,
                                  [af](float v) { return v >= 0 ? v : v * af; });
  }
  return FloatMap(ctx, [a](double v) { return v >= 0 ? v : v * a; });
}
Status EluCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 1.f);
  return FloatMap(ctx, [a](double v) { return v >= 0 ? v : a * (std::exp(v) - 1); });
}
Status CeluCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 1.f);
  return FloatMap(
      ctx, [a](double v) { return std::max(0.0, v) + std::min(0.0, a * (std::exp(v / a) - 1)); });
}
Status SeluCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 1.67326319217681884765625f);
  double g = ctx.node().GetFloat("gamma", 1.05070102214813232421875f);
  return FloatMap(ctx, [a, g](double v) { return v > 0 ? g * v : g * (a * std::exp(v) - a); });
}
Status HardSigmoidCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 0.2f), b = ctx.node().GetFloat("beta", 0.5f);
  return FloatMap(ctx, [a, b](double v) { return std::max(0.0, std::min(1.0, a * v + b)); });
}
Status HardSwishCompute(OpContext& ctx) {
  return FloatMap(ctx, [](double v) { return v * std::max(0.0, std::min(1.0, v / 6 + 0.5)); });
}
Status ThresholdedReluCompute(OpContext& ctx) {
  double a = ctx.node().GetFloat("alpha", 1.f);
  return FloatMap(ctx, [a](double v) { return v > a ? v : 0.0; });
}
Status ShrinkCompute(OpContext& ctx) {
  double bias = ctx.node().GetFloat("bias", 0.f), lambd = ctx.node().GetFloat("lambd", 0.5f);
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchNumeric(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    return MapUnary<T, T>(ctx, *x, x->dtype(), [=](T tv) {
      double v = static_cast<double>(static_cast<C>(tv));
      double r = v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0);
      return FromCalc<T>(static_cast<C>(r));
    });
  });
}
Status MishCompute(OpContext& ctx) {
  return FloatMap(ctx, [](double v) { return v * std::tanh(std::log1p(std::exp(v))); });
}
Status GeluCompute(OpContext& ctx) {  // com.microsoft / opset 20 style
  return FloatMap(ctx, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
}

Status IsNaNCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchFloat(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    return MapUnary<T, bool>(ctx, *x, DType::kBool,
                             [](T v) { return std::isnan(static_cast<double>(ToF(v))); });
  });
}
Status IsInfCompute(OpContext& ctx) {
  bool neg = ctx.node().GetInt("detect_negative", 1) != 0;
  bool pos = ctx.node().GetInt("detect_positive", 1) != 0;
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchFloat(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    return MapUnary<T, bool>(ctx, *x, DType::kBool, [=](T tv) {
      double v = static_cast<double>(ToF(tv));
      return std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
    });
  });
}

Status ClipCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  return DispatchNumeric(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
    if (ctx.opset() < 11) {
      lo = static_cast<C>(ctx.node().GetFloat("min", -std::numeric_limits<float>::max()));
      hi = static_cast<C>(ctx.node().GetFloat("max", std::numeric_limits<float>::max()));
    } else {
      if (ctx.has_input(1)) lo = static_cast<C>(ScalarAsDouble(ctx.input(1)));
      if (ctx.has_input(2)) hi = static_cast<C>(ScalarAsDouble(ctx.input(2)));
    }
    return MapUnary<T, T>(ctx, *x, x->dtype(), [lo, hi](T v) {
      C c = static_cast<C>(v);
      return FromCalc<T>(c < lo ? lo : (c > hi ? hi : c));
    });
  });
}

Status PReluCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* slope, ctx.RequireTensor(1));
  Tensor s = *slope;
  // Opset < 7 slopes of shape [C] apply along axis 1 (unidirectional broadcast from axis 1).
  if (s.rank() == 1 && x->rank() > 2 && s.dim(0) == x->dim(1) && s.dim(0) != x->shape().back()) {
    Shape ns(static_cast<size_t>(x->rank() - 1), 1);
    ns[0] = s.dim(0);
    MLOS_ASSIGN_OR_RETURN(s, s.Reshape(ns));
  }
  return DispatchNumeric(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    return BroadcastBinary<T, T, T>(ctx, *x, s, x->dtype(), 0, [](T a, T b) {
      C v = static_cast<C>(a);
      return FromCalc<T>(v < C(0) ? static_cast<C>(v * static_cast<C>(b)) : v);
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

MLOS_REGISTER_OPS(elementwise) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Add", ArithCompute<Bin::kAdd>);
  r.Add("Sub", ArithCompute<Bin::kSub>);
  r.Add("Mul", ArithCompute<Bin::kMul>);
  r.Add("Div", ArithCompute<Bin::kDiv>);
  r.Add("Pow", ArithCompute<Bin::kPow>);
  r.Add("Mod", ArithCompute<Bin::kMod>);
  r.Add("Equal", CompareCompute<Cmp::kEq>);
  r.Add("Less", CompareCompute<Cmp::kLt>);
  r.Add("LessOrEqual", CompareCompute<Cmp::kLe>);
  r.Add("Greater", CompareCompute<Cmp::kGt>);
  r.Add("GreaterOrEqual", CompareCompute<Cmp::kGe>);
  r.Add("And", LogicCompute<Logic::kAnd>);
  r.Add("Or", LogicCompute<Logic::kOr>);
  r.Add("Xor", LogicCompute<Logic::kXor>);
  r.Add("Not", NotCompute);
  r.Add("BitwiseAnd", BitwiseCompute<BitOp::kAnd>);
  r.Add("BitwiseOr", BitwiseCompute<BitOp::kOr>);
  r.Add("BitwiseXor", BitwiseCompute<BitOp::kXor>);
  r.Add("BitwiseNot", BitwiseNotCompute);
  r.Add("BitShift", BitShiftCompute);
  r.Add("Abs", UnaryCompute<Un::kAbs, true>);
  r.Add("Neg", UnaryCompute<Un::kNeg, true>);
  r.Add("Sign", UnaryCompute<Un::kSign, true>);
  r.Add("Relu", UnaryCompute<Un::kRelu, true>);
  r.Add("Reciprocal", UnaryCompute<Un::kReciprocal, false>);
  r.Add("Sqrt", UnaryCompute<Un::kSqrt, false>);
  r.Add("Exp", UnaryCompute<Un::kExp, false>);
  r.Add("Log", UnaryCompute<Un::kLog, false>);
  r.Add("Floor", UnaryCompute<Un::kFloor, false>);
  r.Add("Ceil", UnaryCompute<Un::kCeil, false>);
  r.Add("Round", UnaryCompute<Un::kRound, false>);
  r.Add("Sin", UnaryCompute<Un::kSin, false>);
  r.Add("Cos", UnaryCompute<Un::kCos, false>);
  r.Add("Tan", UnaryCompute<Un::kTan, false>);
  r.Add("Asin", UnaryCompute<Un::kAsin, false>);
  r.Add("Acos", UnaryCompute<Un::kAcos, false>);
  r.Add("Atan", UnaryCompute<Un::kAtan, false>);
  r.Add("Sinh", UnaryCompute<Un::kSinh, false>);
  r.Add("Cosh", UnaryCompute<Un::kCosh, false>);
  r.Add("Asinh", UnaryCompute<Un::kAsinh, false>);
  r.Add("Acosh", UnaryCompute<Un::kAcosh, false>);
  r.Add("Atanh", UnaryCompute<Un::kAtanh, false>);
  r.Add("Tanh", UnaryCompute<Un::kTanh, false>);
  r.Add("Sigmoid", UnaryCompute<Un::kSigmoid, false>);
  r.Add("Erf", UnaryCompute<Un::kErf, false>);
  r.Add("Softplus", UnaryCompute<Un::kSoftplus, false>);
  r.Add("Softsign", UnaryCompute<Un::kSoftsign, false>);
  r.Add("LeakyRelu", LeakyReluCompute);
  r.Add("Elu", EluCompute);
  r.Add("Celu", CeluCompute);
  r.Add("Selu", SeluCompute);
  r.Add("HardSigmoid", HardSigmoidCompute);
  r.Add("HardSwish", HardSwishCompute);
  r.Add("ThresholdedRelu", ThresholdedReluCompute);
  r.Add("Shrink", ShrinkCompute);
  r.Add("Mish", MishCompute);
  r.Add("Gelu", GeluCompute, 1, "com.microsoft");
  r.Add("Gelu", GeluCompute, 1, "mlos");
  r.Add("IsNaN", IsNaNCompute);
  r.Add("IsInf", IsInfCompute);
  r.Add("Clip", ClipCompute);
  r.Add("PRelu", PReluCompute);
  r.Add("Where", WhereCompute);
  r.Add("Sum", VariadicCompute<Bin::kAdd, false>);
  r.Add("Mean", VariadicCompute<Bin::kAdd, true>);
  r.Add("Max", VariadicCompute<Bin::kMax, false>);
  r.Add("Min", VariadicCompute<Bin::kMin, false>);
}
