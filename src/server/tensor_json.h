// JSON <-> tensor conversion for the inference routes (MLOS Core and KServe v2).
//
// Input: a JSON number, bool, string or nested arrays of them becomes a tensor of the declared
// dtype; nested arrays must be rectangular; every value must fit the dtype (1.5 is not an
// int64, 300 is not a uint8, "a" is not a float). Shapes come from SolveShape. Output: tensors
// become flat JSON arrays (floats in their shortest round-trip form; NaN/Inf as null).
// Errors name the input and the offending value or dimension. Pure functions; thread-safe.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/tensor_info.h"

namespace mlos::server {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Shape and element count of a JSON value (scalars have shape []); checks rectangularity.
Status JsonShape(const rapidjson::Value& v, std::string_view name, Shape* shape, int64_t* count);

// The shape to run with: the nested shape when it fits the declared one, else the declared
// shape with its dynamic (-1) dimensions solved from the element count (leading dynamic
// dimensions 1, the last one takes the rest).
Result<Shape> SolveShape(const TensorInfo& declared, const Shape& nested, int64_t count);

// Converts `v` (a scalar or nested array, `count` elements) into a new tensor of `dtype`
// and `shape` (same element count).
Result<Tensor> JsonToTensor(const rapidjson::Value& v, DType dtype, const Shape& shape,
                            std::string_view name);

// Writes the elements of `t` as one flat JSON array.
void WriteTensorValues(const Tensor& t, JsonWriter* w);
void WriteShape(const Shape& s, JsonWriter* w);

// The binary tensor data extension (also the layout of tensors in shared memory): `bytes` holds
// the elements of `shape` row-major, BYTES elements as u32 little-endian length + bytes, BOOL
// as one byte each. The size must match exactly; errors name input `name`. Always copies.
Result<Tensor> TensorFromBinary(std::string_view bytes, DType dtype, const Shape& shape,
                                std::string_view name);
// Appends the elements of `t` in that layout.
void AppendBinary(const Tensor& t, std::string* out);

// KServe v2 datatype names ("FP32", "INT64", "BYTES", ...).
std::string_view KServeDatatype(DType t);
Result<DType> ParseKServeDatatype(std::string_view name);

// Parses `text` into `doc`; InvalidArgument with the offset and reason on malformed JSON.
Status ParseJson(std::string_view text, rapidjson::Document* doc);

}  // namespace mlos::server
