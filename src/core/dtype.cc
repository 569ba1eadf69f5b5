#include "mlos/dtype.h"

#include <array>
#include <cctype>

namespace mlos {
namespace {

struct DTypeInfo {
  DType type;
  size_t size;
  std::string_view name;
};

constexpr std::array<DTypeInfo, kNumDTypes> kInfo = {{
    {DType::kFloat32, 4, "float32"},
    {DType::kFloat16, 2, "float16"},
    {DType::kBFloat16, 2, "bfloat16"},
    {DType::kFloat64, 8, "float64"},
    {DType::kInt8, 1, "int8"},
    {DType::kInt16, 2, "int16"},
    {DType::kInt32, 4, "int32"},
    {DType::kInt64, 8, "int64"},
    {DType::kUInt8, 1, "uint8"},
    {DType::kUInt16, 2, "uint16"},
    {DType::kUInt32, 4, "uint32"},
    {DType::kUInt64, 8, "uint64"},
    {DType::kBool, 1, "bool"},
    {DType::kString, sizeof(std::string), "string"},
}};

// Aliases from ONNX (TensorProto names), KServe v2 datatypes and common shorthand.
struct Alias {
  std::string_view name;
  DType type;
};
constexpr Alias kAliases[] = {
    {"float", DType::kFloat32}, {"fp32", DType::kFloat32},  {"half", DType::kFloat16},
    {"fp16", DType::kFloat16},  {"bf16", DType::kBFloat16}, {"double", DType::kFloat64},
    {"fp64", DType::kFloat64},  {"bytes", DType::kString},  {"str", DType::kString},
    {"boolean", DType::kBool},  {"long", DType::kInt64},    {"int", DType::kInt32},
};

}  // namespace

size_t DTypeSize(DType t) { return kInfo[static_cast<size_t>(t)].size; }

std::string_view DTypeName(DType t) {
  auto i = static_cast<size_t>(t);
  return i < kInfo.size() ? kInfo[i].name : std::string_view("invalid");
}

Result<DType> ParseDType(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& info : kInfo) {
    if (info.name == lower) return info.type;
  }
  for (const auto& alias : kAliases) {
    if (alias.name == lower) return alias.type;
  }
  return InvalidArgument("unknown dtype '", name, "'");
}

}  // namespace mlos
