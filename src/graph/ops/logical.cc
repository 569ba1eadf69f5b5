// Comparison (Equal, Less, ...), boolean logic (And, Or, Xor, Not) and bitwise ops (BitwiseAnd,
// BitwiseOr, BitwiseXor, BitwiseNot, BitShift) with numpy broadcasting.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/elementwise_common.h"
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

using namespace elementwise;  // NOLINT

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

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(logical) {
  using namespace mlos::graph::ops;  // NOLINT
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
}
