// Conversion between ONNX TensorProto / SequenceProto and mlos Tensors / Values, with
// external-data resolution. Used by the loader (initializers, Constant attributes) and by mlosctl
// (test-data .pb files). Every size and offset from the proto is checked before it is used.
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "graph/op_registry.h"
#include "mlos/status.h"
#include "mlos/tensor.h"

namespace onnx {
class TensorProto;
class SequenceProto;
}  // namespace onnx

namespace mlos::graph {

// ONNX TensorProto.DataType -> DType; Unimplemented for complex and unknown types.
Result<DType> DTypeFromOnnx(int onnx_type);
int OnnxFromDType(DType t);

// `base_dir` resolves external data ("" forbids it). The tensor owns its bytes.
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir);
Status TensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* proto);

// Parses a serialized TensorProto or SequenceProto file (test data). `want_sequence` picks the
// message type.
Result<Value> ValueFromPbBytes(std::string_view bytes, bool want_sequence);
// Parses a serialized OptionalProto (test data of optional-typed graph inputs and outputs): an
// empty optional becomes a Value of kind kNone, else the tensor or sequence it holds.
Result<Value> OptionalValueFromPbBytes(std::string_view bytes);
Result<std::string> ValueToPbBytes(const Value& v, const std::string& name);

}  // namespace mlos::graph
