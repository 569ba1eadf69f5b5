// Unary math (Abs ... Softsign), the activations with attributes (LeakyRelu, Elu, Gelu, ...),
// IsNaN/IsInf, Clip and PRelu, for every dtype the ONNX schema allows; 16-bit floats compute in
// float.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/elementwise_common.h"
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

using namespace elementwise;  // NOLINT

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

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(unary_math) {
  using namespace mlos::graph::ops;  // NOLINT
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
}
