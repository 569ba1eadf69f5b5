// Elementwise unary and binary kernels with numpy broadcasting, over every numeric dtype, and
// dtype casts. Outputs are preallocated by the caller with the shape and dtype the *Shape/*Type
// helpers give; inputs may be non-contiguous views. float16/bfloat16 compute in float32.
#pragma once

#include <span>
#include <string_view>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

enum class UnaryOp : uint8_t {
  kIdentity, kNeg, kAbs, kSign, kReciprocal, kSqrt, kExp, kLog, kFloor, kCeil, kRound,
  kSin, kCos, kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh,
  kTanh, kSigmoid, kRelu, kGelu, kErf, kSoftplus, kSoftsign, kSilu, kNot, kIsNaN, kIsInf,
};
enum class BinaryOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod, kFmod,
  kEqual, kLess, kLessEqual, kGreater, kGreaterEqual,  // -> bool
  kAnd, kOr, kXor,                                     // bool operands
  kBitAnd, kBitOr, kBitXor, kShiftLeft, kShiftRight,   // integer operands
};

// Parses "add", "subtract"/"sub", "multiply"/"mul", "divide"/"div", "exp", "relu", ...
Result<UnaryOp> ParseUnaryOp(std::string_view name);
Result<BinaryOp> ParseBinaryOp(std::string_view name);
std::string_view UnaryOpName(UnaryOp op);
std::string_view BinaryOpName(BinaryOp op);

// The dtype of op's result for inputs of `in` (bool for comparisons and IsNaN/IsInf/Not), or
// InvalidArgument when the op does not apply to that dtype (e.g. Sqrt on int8, And on float).
Result<DType> UnaryResultType(UnaryOp op, DType in);
Result<DType> BinaryResultType(BinaryOp op, DType a, DType b);

// y = op(x); y has x's shape and UnaryResultType's dtype.
Status Unary(UnaryOp op, const Tensor& x, Tensor& y, ThreadPool& pool);
// out = op(a, b) with numpy broadcasting; out has BroadcastShapes(a, b) and BinaryResultType.
Status Binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out, ThreadPool& pool);
// y = x converted to y.dtype() (same shape). Float->int truncates toward zero as C++ does;
// to/from string parses and prints numbers (ONNX Cast semantics).
Status Cast(const Tensor& x, Tensor& y, ThreadPool& pool);

}  // namespace mlos::kernels
