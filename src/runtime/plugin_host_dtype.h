// Mapping between mlos::DType and the SMI dtype codes (ONNX TensorProto numbering).
// Header-only; shared by the host and the built-in plugins. Thread-safe (pure functions).
#pragma once

#include <cstdint>

#include "mlos/dtype.h"
#include "mlos/smi_spec.h"

namespace mlos::runtime {

// The SMI code for `t`, or SMI_DTYPE_UNDEFINED (strings have no SMI representation).
constexpr int32_t SmiFromDType(DType t) {
  switch (t) {
    case DType::kFloat32:
      return SMI_DTYPE_FLOAT32;
    case DType::kFloat16:
      return SMI_DTYPE_FLOAT16;
    case DType::kBFloat16:
      return SMI_DTYPE_BFLOAT16;
    case DType::kFloat64:
      return SMI_DTYPE_FLOAT64;
    case DType::kInt8:
      return SMI_DTYPE_INT8;
    case DType::kInt16:
      return SMI_DTYPE_INT16;
    case DType::kInt32:
      return SMI_DTYPE_INT32;
    case DType::kInt64:
      return SMI_DTYPE_INT64;
    case DType::kUInt8:
      return SMI_DTYPE_UINT8;
    case DType::kUInt16:
      return SMI_DTYPE_UINT16;
    case DType::kUInt32:
      return SMI_DTYPE_UINT32;
    case DType::kUInt64:
      return SMI_DTYPE_UINT64;
    case DType::kBool:
      return SMI_DTYPE_BOOL;
    case DType::kString:
      break;
  }
  return SMI_DTYPE_UNDEFINED;
}

// False for codes outside the table.
constexpr bool DTypeFromSmi(int32_t code, DType* out) {
  switch (code) {
    case SMI_DTYPE_FLOAT32:
      *out = DType::kFloat32;
      return true;
    case SMI_DTYPE_FLOAT16:
      *out = DType::kFloat16;
      return true;
    case SMI_DTYPE_BFLOAT16:
      *out = DType::kBFloat16;
      return true;
    case SMI_DTYPE_FLOAT64:
      *out = DType::kFloat64;
      return true;
    case SMI_DTYPE_INT8:
      *out = DType::kInt8;
      return true;
    case SMI_DTYPE_INT16:
      *out = DType::kInt16;
      return true;
    case SMI_DTYPE_INT32:
      *out = DType::kInt32;
      return true;
    case SMI_DTYPE_INT64:
      *out = DType::kInt64;
      return true;
    case SMI_DTYPE_UINT8:
      *out = DType::kUInt8;
      return true;
    case SMI_DTYPE_UINT16:
      *out = DType::kUInt16;
      return true;
    case SMI_DTYPE_UINT32:
      *out = DType::kUInt32;
      return true;
    case SMI_DTYPE_UINT64:
      *out = DType::kUInt64;
      return true;
    case SMI_DTYPE_BOOL:
      *out = DType::kBool;
      return true;
    default:
      return false;
  }
}

}  // namespace mlos::runtime
