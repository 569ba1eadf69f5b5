// Element types of tensors, their sizes and names, and the mapping to C++ types.
// Names follow numpy ("float32", "int64", "bool"); ParseDType also accepts the ONNX and
// KServe spellings ("FLOAT", "FP32", "INT64", "BYTES" for strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mlos/half.h"
#include "mlos/status.h"

namespace mlos {

enum class DType : uint8_t {
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kBool,
  kString,  // elements are std::string objects, constructed and destroyed with the storage
};

inline constexpr int kNumDTypes = static_cast<int>(DType::kString) + 1;

size_t DTypeSize(DType t);
std::string_view DTypeName(DType t);
Result<DType> ParseDType(std::string_view name);

constexpr bool IsFloating(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64;
}
constexpr bool IsSignedInteger(DType t) {
  return t == DType::kInt8 || t == DType::kInt16 || t == DType::kInt32 || t == DType::kInt64;
}
constexpr bool IsUnsignedInteger(DType t) {
  return t == DType::kUInt8 || t == DType::kUInt16 || t == DType::kUInt32 || t == DType::kUInt64;
}
constexpr bool IsInteger(DType t) { return IsSignedInteger(t) || IsUnsignedInteger(t); }
constexpr bool IsNumeric(DType t) { return IsFloating(t) || IsInteger(t); }

// C++ type -> DType.
template <typename T>
struct DTypeOf;
#define MLOS_DTYPE_OF_(cpp, tag)               \
  template <>                                  \
  struct DTypeOf<cpp> {                        \
    static constexpr DType value = DType::tag; \
  };
MLOS_DTYPE_OF_(float, kFloat32)
MLOS_DTYPE_OF_(Float16, kFloat16)
MLOS_DTYPE_OF_(BFloat16, kBFloat16)
MLOS_DTYPE_OF_(double, kFloat64)
MLOS_DTYPE_OF_(int8_t, kInt8)
MLOS_DTYPE_OF_(int16_t, kInt16)
MLOS_DTYPE_OF_(int32_t, kInt32)
MLOS_DTYPE_OF_(int64_t, kInt64)
MLOS_DTYPE_OF_(uint8_t, kUInt8)
MLOS_DTYPE_OF_(uint16_t, kUInt16)
MLOS_DTYPE_OF_(uint32_t, kUInt32)
MLOS_DTYPE_OF_(uint64_t, kUInt64)
MLOS_DTYPE_OF_(bool, kBool)
MLOS_DTYPE_OF_(std::string, kString)
#undef MLOS_DTYPE_OF_

template <typename T>
inline constexpr DType kDTypeOf = DTypeOf<T>::value;

// Calls fn(T{}) with the C++ type of `t`, e.g. MLOS_VISIT_DTYPE(t, [&](auto tag) {
// using T = decltype(tag); ... }). Every dtype is covered; string passes std::string.
template <typename Fn>
decltype(auto) VisitDType(DType t, Fn&& fn) {
  switch (t) {
    case DType::kFloat32:
      return fn(float{});
    case DType::kFloat16:
      return fn(Float16{});
    case DType::kBFloat16:
      return fn(BFloat16{});
    case DType::kFloat64:
      return fn(double{});
    case DType::kInt8:
      return fn(int8_t{});
    case DType::kInt16:
      return fn(int16_t{});
    case DType::kInt32:
      return fn(int32_t{});
    case DType::kInt64:
      return fn(int64_t{});
    case DType::kUInt8:
      return fn(uint8_t{});
    case DType::kUInt16:
      return fn(uint16_t{});
    case DType::kUInt32:
      return fn(uint32_t{});
    case DType::kUInt64:
      return fn(uint64_t{});
    case DType::kBool:
      return fn(bool{});
    case DType::kString:
      break;
  }
  return fn(std::string{});
}

}  // namespace mlos
