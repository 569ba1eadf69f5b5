// Scalar definitions of every elementwise op for every dtype: the portable path, and the
// reference the vectorised paths are tested against. Internal to the CPU kernels; pure functions.
//
// float16/bfloat16 load as float and store back rounded. Integer arithmetic wraps (two's
// complement) instead of overflowing, integer division by zero gives 0, shifts by the type's
// width or more give 0, and float->integer conversion saturates (NaN -> 0): input must never
// trigger undefined behaviour.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "mlos/half.h"

namespace mlos::kernels::internal {

template <typename T>
inline constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// The type arithmetic happens in.
template <typename T>
using ComputeT = std::conditional_t<kIsHalf<T>, float, T>;

template <typename T>
inline ComputeT<T> LoadC(const T& v) {
  if constexpr (kIsHalf<T>) {
    return static_cast<float>(v);
  } else {
    return v;
  }
}
template <typename T, typename C>
inline T StoreC(C v) {
  if constexpr (kIsHalf<T>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

// Float -> integer without undefined behaviour: truncates, saturates, NaN -> 0.
template <typename I, typename F>
inline I SaturatingFloatToInt(F f) {
  if (std::isnan(f)) return 0;
  constexpr F lo = static_cast<F>(std::numeric_limits<I>::min());
  // max() + 1 is a power of two, exact in F.
  constexpr F hi = static_cast<F>(std::numeric_limits<I>::max() / 2 + 1) * F(2);
  if (f <= lo) return std::numeric_limits<I>::min();
  if (f >= hi) return std::numeric_limits<I>::max();
  return static_cast<I>(f);
}

// Any numeric C++ value (bool, integers, float, double, half types) -> To.
template <typename To, typename From>
inline To ConvertValue(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (kIsHalf<From>) {
    return ConvertValue<To>(static_cast<float>(v));
  } else if constexpr (kIsHalf<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return SaturatingFloatToInt<To>(v);
  } else {
    return static_cast<To>(v);  // integer->integer wraps (C++20), ->float rounds
  }
}

template <typename T>
using UnsignedOf = std::make_unsigned_t<T>;

template <typename T>
inline T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return static_cast<T>(static_cast<UnsignedOf<T>>(a) + static_cast<UnsignedOf<T>>(b));
  } else {
    return a + b;
  }
}
template <typename T>
inline T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return static_cast<T>(static_cast<UnsignedOf<T>>(a) - static_cast<UnsignedOf<T>>(b));
  } else {
    return a - b;
  }
}
template <typename T>
inline T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Promote to unsigned of at least int width so uint16*uint16 cannot overflow int.
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, UnsignedOf<T>>;
    return static_cast<T>(static_cast<U>(static_cast<UnsignedOf<T>>(a)) *
                          static_cast<U>(static_cast<UnsignedOf<T>>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else {
    return a * b;
  }
}

template <typename T>
inline T IntDiv(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return WrapSub(T(0), a);  // avoids the INT_MIN / -1 trap
  }
  return static_cast<T>(a / b);
}
template <typename T>
inline T IntFmod(T a, T b) {  // sign of the dividend, like C
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
  }
  return static_cast<T>(a % b);
}
template <typename T>
inline T IntMod(T a, T b) {  // sign of the divisor, like Python/numpy
  T r = IntFmod(a, b);
  if constexpr (std::is_signed_v<T>) {
    if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
  }
  return r;
}
template <typename T>
inline T FloatMod(T a, T b) {
  T r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
template <typename T>
inline T IntPow(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exp % 2 == 0) ? 1 : -1;
      return 0;
    }
  }
  T result = 1;
  for (int i = 0; i < 64 && exp != 0; ++i) {
    if (exp & 1) result = WrapMul(result, base);
    base = WrapMul(base, base);
    exp = static_cast<T>(exp >> 1);
  }
  return result;
}
template <typename T>
inline bool ShiftOutOfRange(T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b < 0) return true;
  }
  return static_cast<uint64_t>(b) >= sizeof(T) * 8;
}
template <typename T>
inline T ShiftLeft(T a, T b) {
  if (ShiftOutOfRange(b)) return 0;
  return static_cast<T>(static_cast<UnsignedOf<T>>(a) << b);
}
template <typename T>
inline T ShiftRight(T a, T b) {
  if (ShiftOutOfRange(b)) {
    if constexpr (std::is_signed_v<T>) {
      if (a < 0) return T(-1);
    }
    return T(0);
  }
  return static_cast<T>(a >> b);
}

template <typename C>
inline C Sigmoid(C x) {
  if (x >= 0) return C(1) / (C(1) + std::exp(-x));
  C e = std::exp(x);
  return e / (C(1) + e);
}

// op(x) in the compute type C. Ops that do not apply to C (rejected earlier by
// UnaryResultType) compile to a harmless default.
template <UnaryOp Op, typename C>
inline auto UnaryScalar(C x) {
  constexpr bool kFloat = std::is_floating_point_v<C>;
  constexpr bool kBool = std::is_same_v<C, bool>;
  using U = UnaryOp;
  if constexpr (Op == U::kNot) {
    return !static_cast<bool>(x);
  } else if constexpr (Op == U::kIsNaN) {
    if constexpr (kFloat)
      return static_cast<bool>(std::isnan(x));
    else
      return false;
  } else if constexpr (Op == U::kIsInf) {
    if constexpr (kFloat)
      return static_cast<bool>(std::isinf(x));
    else
      return false;
  } else if constexpr (Op == U::kIdentity || kBool) {
    return x;
  } else if constexpr (Op == U::kNeg) {
    return WrapSub(C(0), x);
  } else if constexpr (Op == U::kAbs) {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else if constexpr (kFloat)
      return std::fabs(x);
    else
      return x < 0 ? WrapSub(C(0), x) : x;
  } else if constexpr (Op == U::kSign) {
    if constexpr (kFloat) {
      if (std::isnan(x)) return x;
    }
    if constexpr (std::is_unsigned_v<C>) {
      return static_cast<C>(x > C(0));
    } else {
      return static_cast<C>((x > C(0)) - (x < C(0)));
    }
  } else if constexpr (Op == U::kRelu) {
    return x > C(0) ? x : C(0);
  } else if constexpr (!kFloat) {
    return x;  // the remaining ops are floating-point only
  } else if constexpr (Op == U::kReciprocal) {
    return C(1) / x;
  } else if constexpr (Op == U::kSqrt) {
    return std::sqrt(x);
  } else if constexpr (Op == U::kExp) {
    return std::exp(x);
  } else if constexpr (Op == U::kLog) {
    return std::log(x);
  } else if constexpr (Op == U::kFloor) {
    return std::floor(x);
  } else if constexpr (Op == U::kCeil) {
    return std::ceil(x);
  } else if constexpr (Op == U::kRound) {
    return std::nearbyint(x);  // half to even under the default rounding mode, as ONNX asks
  } else if constexpr (Op == U::kSin) {
    return std::sin(x);
  } else if constexpr (Op == U::kCos) {
    return std::cos(x);
  } else if constexpr (Op == U::kTan) {
    return std::tan(x);
  } else if constexpr (Op == U::kAsin) {
    return std::asin(x);
  } else if constexpr (Op == U::kAcos) {
    return std::acos(x);
  } else if constexpr (Op == U::kAtan) {
    return std::atan(x);
  } else if constexpr (Op == U::kSinh) {
    return std::sinh(x);
  } else if constexpr (Op == U::kCosh) {
    return std::cosh(x);
  } else if constexpr (Op == U::kAsinh) {
    return std::asinh(x);
  } else if constexpr (Op == U::kAcosh) {
    return std::acosh(x);
  } else if constexpr (Op == U::kAtanh) {
    return std::atanh(x);
  } else if constexpr (Op == U::kTanh) {
    return std::tanh(x);
  } else if constexpr (Op == U::kSigmoid) {
    return Sigmoid(x);
  } else if constexpr (Op == U::kGelu) {
    return C(0.5) * x * std::erfc(-x * C(0.70710678118654752440));
  } else if constexpr (Op == U::kErf) {
    return std::erf(x);
  } else if constexpr (Op == U::kSoftplus) {
    // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
    return (x > C(0) ? x : C(0)) + std::log1p(std::exp(-std::fabs(x)));
  } else if constexpr (Op == U::kSoftsign) {
    return x / (C(1) + std::fabs(x));
  } else if constexpr (Op == U::kSilu) {
    return x * Sigmoid(x);
  } else {
    static_assert(Op == U::kIdentity, "unhandled unary op");
    return x;
  }
}

template <BinaryOp Op, typename C>
inline auto BinaryScalar(C a, C b) {
  constexpr bool kFloat = std::is_floating_point_v<C>;
  constexpr bool kInt = std::is_integral_v<C> && !std::is_same_v<C, bool>;
  using B = BinaryOp;
  if constexpr (Op == B::kEqual) {
    return a == b;
  } else if constexpr (Op == B::kLess) {
    return a < b;
  } else if constexpr (Op == B::kLessEqual) {
    return a <= b;
  } else if constexpr (Op == B::kGreater) {
    return a > b;
  } else if constexpr (Op == B::kGreaterEqual) {
    return a >= b;
  } else if constexpr (Op == B::kAnd) {
    return static_cast<bool>(a) && static_cast<bool>(b);
  } else if constexpr (Op == B::kOr) {
    return static_cast<bool>(a) || static_cast<bool>(b);
  } else if constexpr (Op == B::kXor) {
    return static_cast<bool>(a) != static_cast<bool>(b);
  } else if constexpr (Op == B::kAdd) {
    return WrapAdd(a, b);
  } else if constexpr (Op == B::kSub) {
    return WrapSub(a, b);
  } else if constexpr (Op == B::kMul) {
    return WrapMul(a, b);
  } else if constexpr (Op == B::kDiv) {
    if constexpr (kInt)
      return IntDiv(a, b);
    else
      return static_cast<C>(a / b);
  } else if constexpr (Op == B::kPow) {
    if constexpr (kInt)
      return IntPow(a, b);
    else
      return static_cast<C>(std::pow(a, b));
  } else if constexpr (Op == B::kMax) {
    if constexpr (kFloat) {
      if (std::isnan(a) || std::isnan(b)) return a + b;  // NaN propagates, as ONNX asks
    }
    return a > b ? a : b;
  } else if constexpr (Op == B::kMin) {
    if constexpr (kFloat) {
      if (std::isnan(a) || std::isnan(b)) return a + b;
    }
    return a < b ? a : b;
  } else if constexpr (Op == B::kMod) {
    if constexpr (kInt)
      return IntMod(a, b);
    else if constexpr (kFloat)
      return FloatMod(a, b);
    else
      return a;
  } else if constexpr (Op == B::kFmod) {
    if constexpr (kInt)
      return IntFmod(a, b);
    else if constexpr (kFloat)
      return static_cast<C>(std::fmod(a, b));
    else
      return a;
  } else if constexpr (!kInt) {
    return a;  // bitwise ops are integer-only
  } else if constexpr (Op == B::kBitAnd) {
    return static_cast<C>(a & b);
  } else if constexpr (Op == B::kBitOr) {
    return static_cast<C>(a | b);
  } else if constexpr (Op == B::kBitXor) {
    return static_cast<C>(a ^ b);
  } else if constexpr (Op == B::kShiftLeft) {
    return ShiftLeft(a, b);
  } else {
    static_assert(Op == B::kShiftRight, "unhandled binary op");
    return ShiftRight(a, b);
  }
}

}  // namespace mlos::kernels::internal
