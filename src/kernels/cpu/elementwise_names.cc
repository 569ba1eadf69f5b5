// Names and result types of the elementwise ops (data-driven tables).
#include <array>
#include <string>

#include "kernels/cpu/elementwise.h"

namespace mlos::kernels {
namespace {

struct UnaryInfo {
  UnaryOp op;
  std::string_view name;
  std::string_view alias;
  enum Domain { kFloat, kSigned, kNumeric, kBoolOnly, kToBool } domain;
};

constexpr UnaryInfo kUnary[] = {
    {UnaryOp::kIdentity, "identity", "", UnaryInfo::kNumeric},
    {UnaryOp::kNeg, "negative", "neg", UnaryInfo::kSigned},
    {UnaryOp::kAbs, "abs", "absolute", UnaryInfo::kNumeric},
    {UnaryOp::kSign, "sign", "", UnaryInfo::kNumeric},
    {UnaryOp::kReciprocal, "reciprocal", "", UnaryInfo::kFloat},
    {UnaryOp::kSqrt, "sqrt", "", UnaryInfo::kFloat},
    {UnaryOp::kExp, "exp", "", UnaryInfo::kFloat},
    {UnaryOp::kLog, "log", "", UnaryInfo::kFloat},
    {UnaryOp::kFloor, "floor", "", UnaryInfo::kFloat},
    {UnaryOp::kCeil, "ceil", "", UnaryInfo::kFloat},
    {UnaryOp::kRound, "round", "", UnaryInfo::kFloat},
    {UnaryOp::kSin, "sin", "", UnaryInfo::kFloat},
    {UnaryOp::kCos, "cos", "", UnaryInfo::kFloat},
    {UnaryOp::kTan, "tan", "", UnaryInfo::kFloat},
    {UnaryOp::kAsin, "asin", "arcsin", UnaryInfo::kFloat},
    {UnaryOp::kAcos, "acos", "arccos", UnaryInfo::kFloat},
    {UnaryOp::kAtan, "atan", "arctan", UnaryInfo::kFloat},
    {UnaryOp::kSinh, "sinh", "", UnaryInfo::kFloat},
    {UnaryOp::kCosh, "cosh", "", UnaryInfo::kFloat},
    {UnaryOp::kAsinh, "asinh", "arcsinh", UnaryInfo::kFloat},
    {UnaryOp::kAcosh, "acosh", "arccosh", UnaryInfo::kFloat},
    {UnaryOp::kAtanh, "atanh", "arctanh", UnaryInfo::kFloat},
    {UnaryOp::kTanh, "tanh", "", UnaryInfo::kFloat},
    {UnaryOp::kSigmoid, "sigmoid", "", UnaryInfo::kFloat},
    {UnaryOp::kRelu, "relu", "", UnaryInfo::kNumeric},
    {UnaryOp::kGelu, "gelu", "", UnaryInfo::kFloat},
    {UnaryOp::kErf, "erf", "", UnaryInfo::kFloat},
    {UnaryOp::kSoftplus, "softplus", "", UnaryInfo::kFloat},
    {UnaryOp::kSoftsign, "softsign", "", UnaryInfo::kFloat},
    {UnaryOp::kSilu, "silu", "swish", UnaryInfo::kFloat},
    {UnaryOp::kNot, "not", "logical_not", UnaryInfo::kBoolOnly},
    {UnaryOp::kIsNaN, "isnan", "", UnaryInfo::kToBool},
    {UnaryOp::kIsInf, "isinf", "", UnaryInfo::kToBool},
};

struct BinaryInfo {
  BinaryOp op;
  std::string_view name;
  std::string_view alias;
  enum Domain { kArith, kSignedOrFloat, kCompare, kLogical, kBitwise } domain;
};

constexpr BinaryInfo kBinary[] = {
    {BinaryOp::kAdd, "add", "", BinaryInfo::kArith},
    {BinaryOp::kSub, "subtract", "sub", BinaryInfo::kArith},
    {BinaryOp::kMul, "multiply", "mul", BinaryInfo::kArith},
    {BinaryOp::kDiv, "divide", "div", BinaryInfo::kArith},
    {BinaryOp::kPow, "power", "pow", BinaryInfo::kArith},
    {BinaryOp::kMax, "maximum", "max", BinaryInfo::kArith},
    {BinaryOp::kMin, "minimum", "min", BinaryInfo::kArith},
    {BinaryOp::kMod, "mod", "remainder", BinaryInfo::kArith},
    {BinaryOp::kFmod, "fmod", "", BinaryInfo::kArith},
    {BinaryOp::kEqual, "equal", "eq", BinaryInfo::kCompare},
    {BinaryOp::kLess, "less", "lt", BinaryInfo::kCompare},
    {BinaryOp::kLessEqual, "less_equal", "le", BinaryInfo::kCompare},
    {BinaryOp::kGreater, "greater", "gt", BinaryInfo::kCompare},
    {BinaryOp::kGreaterEqual, "greater_equal", "ge", BinaryInfo::kCompare},
    {BinaryOp::kAnd, "logical_and", "and", BinaryInfo::kLogical},
    {BinaryOp::kOr, "logical_or", "or", BinaryInfo::kLogical},
    {BinaryOp::kXor, "logical_xor", "xor", BinaryInfo::kLogical},
    {BinaryOp::kBitAnd, "bitwise_and", "", BinaryInfo::kBitwise},
    {BinaryOp::kBitOr, "bitwise_or", "", BinaryInfo::kBitwise},
    {BinaryOp::kBitXor, "bitwise_xor", "", BinaryInfo::kBitwise},
    {BinaryOp::kShiftLeft, "left_shift", "shl", BinaryInfo::kBitwise},
    {BinaryOp::kShiftRight, "right_shift", "shr", BinaryInfo::kBitwise},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const UnaryInfo* FindUnary(UnaryOp op) {
  for (const auto& i : kUnary) {
    if (i.op == op) return &i;
  }
  return nullptr;
}
const BinaryInfo* FindBinary(BinaryOp op) {
  for (const auto& i : kBinary) {
    if (i.op == op) return &i;
  }
  return nullptr;
}

}  // namespace

Result<UnaryOp> ParseUnaryOp(std::string_view name) {
  const std::string n = Lower(name);
  for (const auto& i : kUnary) {
    if (n == i.name || (!i.alias.empty() && n == i.alias)) return i.op;
  }
  return InvalidArgument("unknown unary op '", name, "'");
}

Result<BinaryOp> ParseBinaryOp(std::string_view name) {
  const std::string n = Lower(name);
  for (const auto& i : kBinary) {
    if (n == i.name || (!i.alias.empty() && n == i.alias)) return i.op;
  }
  return InvalidArgument("unknown binary op '", name, "'");
}

std::string_view UnaryOpName(UnaryOp op) {
  const UnaryInfo* i = FindUnary(op);
  return i ? i->name : std::string_view("unknown");
}
std::string_view BinaryOpName(BinaryOp op) {
  const BinaryInfo* i = FindBinary(op);
  return i ? i->name : std::string_view("unknown");
}

Result<DType> UnaryResultType(UnaryOp op, DType in) {
  const UnaryInfo* i = FindUnary(op);
  if (i == nullptr) return InvalidArgument("unknown unary op ", static_cast<int>(op));
  bool ok = false;
  DType out = in;
  switch (i->domain) {
    case UnaryInfo::kFloat:
      ok = IsFloating(in);
      break;
    case UnaryInfo::kSigned:
      ok = IsFloating(in) || IsSignedInteger(in);
      break;
    case UnaryInfo::kNumeric:
      ok = IsNumeric(in);
      break;
    case UnaryInfo::kBoolOnly:
      ok = in == DType::kBool;
      break;
    case UnaryInfo::kToBool:
      ok = IsNumeric(in);
      out = DType::kBool;
      break;
  }
  if (!ok) {
    return InvalidArgument("unary op ", i->name, " does not apply to dtype ", DTypeName(in));
  }
  return out;
}

Result<DType> BinaryResultType(BinaryOp op, DType a, DType b) {
  const BinaryInfo* i = FindBinary(op);
  if (i == nullptr) return InvalidArgument("unknown binary op ", static_cast<int>(op));
  if (a != b) {
    return InvalidArgument("binary op ", i->name, " needs operands of one dtype, got ",
                           DTypeName(a), " and ", DTypeName(b));
  }
  bool ok = false;
  DType out = a;
  switch (i->domain) {
    case BinaryInfo::kArith:
      ok = IsNumeric(a);
      break;
    case BinaryInfo::kSignedOrFloat:
      ok = IsFloating(a) || IsSignedInteger(a);
      break;
    case BinaryInfo::kCompare:
      ok = IsNumeric(a) || a == DType::kBool;
      out = DType::kBool;
      break;
    case BinaryInfo::kLogical:
      ok = a == DType::kBool;
      break;
    case BinaryInfo::kBitwise:
      ok = IsInteger(a);
      break;
  }
  if (!ok) {
    return InvalidArgument("binary op ", i->name, " does not apply to dtype ", DTypeName(a));
  }
  return out;
}

}  // namespace mlos::kernels
