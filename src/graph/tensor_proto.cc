#include "graph/tensor_proto.h"

#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace mlos::graph {
namespace {

using onnx::TensorProto;

// Reads [offset, offset+length) of `path` (length -1: to the end), refusing paths that leave
// base_dir.
Result<std::string> ReadExternal(const std::string& base_dir, const std::string& location,
                                 int64_t offset, int64_t length) {
  if (base_dir.empty()) return InvalidArgument("external data '", location, "' without a base dir");
  namespace fs = std::filesystem;
  fs::path rel(location);
  if (rel.is_absolute() || location.find("..") != std::string::npos) {
    return InvalidArgument("external data location '", location, "' leaves the model folder");
  }
  fs::path p = fs::path(base_dir) / rel;
  std::ifstream f(p, std::ios::binary);
  if (!f) return NotFound("external data file '", p.string(), "' cannot be opened");
  f.seekg(0, std::ios::end);
  int64_t size = static_cast<int64_t>(f.tellg());
  if (offset < 0 || offset > size) {
    return OutOfRange("external data offset ", offset, " outside '", location, "' of ", size,
                      " bytes");
  }
  if (length < 0) length = size - offset;
  if (length > size - offset) {
    return OutOfRange("external data range ", offset, "+", length, " outside '", location, "' of ",
                      size, " bytes");
  }
  std::string out(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(out.data(), length);
  if (!f) return DataLoss("short read from external data '", location, "'");
  return out;
}

template <typename Dst, typename Src>
void CopyConvert(const Src& src, Dst* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(src.Get(static_cast<int>(i)));
}

}  // namespace

Result<DType> DTypeFromOnnx(int t) {
  switch (t) {
    case TensorProto::FLOAT:
      return DType::kFloat32;
    case TensorProto::UINT8:
      return DType::kUInt8;
    case TensorProto::INT8:
      return DType::kInt8;
    case TensorProto::UINT16:
      return DType::kUInt16;
    case TensorProto::INT16:
      return DType::kInt16;
    case TensorProto::INT32:
      return DType::kInt32;
    case TensorProto::INT64:
      return DType::kInt64;
    case TensorProto::STRING:
      return DType::kString;
    case TensorProto::BOOL:
      return DType::kBool;
    case TensorProto::FLOAT16:
      return DType::kFloat16;
    case TensorProto::DOUBLE:
      return DType::kFloat64;
    case TensorProto::UINT32:
      return DType::kUInt32;
    case TensorProto::UINT64:
      return DType::kUInt64;
    case TensorProto::BFLOAT16:
      return DType::kBFloat16;
    default:
      return Unimplemented("ONNX tensor data type ", t, " is not supported");
  }
}

int OnnxFromDType(DType t) {
  switch (t) {
    case DType::kFloat32:
      return TensorProto::FLOAT;
    case DType::kFloat16:
      return TensorProto::FLOAT16;
    case DType::kBFloat16:
      return TensorProto::BFLOAT16;
    case DType::kFloat64:
      return TensorProto::DOUBLE;
    case DType::kInt8:
      return TensorProto::INT8;
    case DType::kInt16:
      return TensorProto::INT16;
    case DType::kInt32:
      return TensorProto::INT32;
    case DType::kInt64:
      return TensorProto::INT64;
    case DType::kUInt8:
      return TensorProto::UINT8;
    case DType::kUInt16:
      return TensorProto::UINT16;
    case DType::kUInt32:
      return TensorProto::UINT32;
    case DType::kUInt64:
      return TensorProto::UINT64;
    case DType::kBool:
      return TensorProto::BOOL;
    case DType::kString:
      return TensorProto::STRING;
  }
  return TensorProto::UNDEFINED;
}

Result<Tensor> TensorFromProto(const TensorProto& proto, const std::string& base_dir) {
  const std::string& tname = proto.name();
  if (proto.has_segment()) return Unimplemented("tensor '", tname, "': segmented tensors");
  MLOS_ASSIGN_OR_RETURN(DType dtype, DTypeFromOnnx(proto.data_type()));
  Shape shape(proto.dims().begin(), proto.dims().end());
  auto numel_r = NumElements(shape);
  if (!numel_r.ok()) return numel_r.status().WithContext("tensor '" + tname + "'");
  const int64_t n = *numel_r;
  const size_t esize = DTypeSize(dtype);
  if (dtype != DType::kString &&
      static_cast<uint64_t>(n) > (uint64_t{1} << 40) / std::max<size_t>(esize, 1)) {
    return ResourceExhausted("tensor '", tname, "' of shape ", ShapeToString(shape),
                             " is too large");
  }

  std::string external;
  const std::string* raw = proto.has_raw_data() ? &proto.raw_data() : nullptr;
  if (proto.data_location() == TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : proto.external_data()) {
      try {
        if (kv.key() == "location") location = kv.value();
        if (kv.key() == "offset") offset = std::stoll(kv.value());
        if (kv.key() == "length") length = std::stoll(kv.value());
      } catch (...) {
        return InvalidArgument("tensor '", tname, "': bad external_data field '", kv.key(), "'");
      }
    }
    MLOS_ASSIGN_OR_RETURN(external, ReadExternal(base_dir, location, offset, length));
    raw = &external;
  }

  if (dtype == DType::kString) {
    if (proto.string_data_size() != n) {
      return DataLoss("tensor '", tname, "' has ", proto.string_data_size(), " strings for shape ",
                      ShapeToString(shape));
    }
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, shape));
    auto* out = static_cast<std::string*>(t.raw_data());
    for (int64_t i = 0; i < n; ++i) out[i] = proto.string_data(static_cast<int>(i));
    return t;
  }

  MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, shape));
  void* dst = t.raw_data();
  const size_t nbytes = static_cast<size_t>(n) * esize;
  if (raw != nullptr) {
    if (raw->size() != nbytes) {
      return DataLoss("tensor '", tname, "' has ", raw->size(), " raw bytes, shape ",
                      ShapeToString(shape), " of ", DTypeName(dtype), " needs ", nbytes);
    }
    if (nbytes) std::memcpy(dst, raw->data(), nbytes);
    return t;
  }
  auto need = [&](int have) -> Status {
    if (have != n) {
      return DataLoss("tensor '", tname, "' has ", have, " values for shape ",
                      ShapeToString(shape));
    }
    return Status::OK();
  };
  switch (dtype) {
    case DType::kFloat32:
      MLOS_RETURN_IF_ERROR(need(proto.float_data_size()));
      CopyConvert(proto.float_data(), static_cast<float*>(dst), n);
      break;
    case DType::kFloat64:
      MLOS_RETURN_IF_ERROR(need(proto.double_data_size()));
      CopyConvert(proto.double_data(), static_cast<double*>(dst), n);
      break;
    case DType::kInt64:
      MLOS_RETURN_IF_ERROR(need(proto.int64_data_size()));
      CopyConvert(proto.int64_data(), static_cast<int64_t*>(dst), n);
      break;
    case DType::kUInt32:
      MLOS_RETURN_IF_ERROR(need(proto.uint64_data_size()));
      CopyConvert(proto.uint64_data(), static_cast<uint32_t*>(dst), n);
      break;
    case DType::kUInt64:
      MLOS_RETURN_IF_ERROR(need(proto.uint64_data_size()));
      CopyConvert(proto.uint64_data(), static_cast<uint64_t*>(dst), n);
      break;
    case DType::kInt32:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      CopyConvert(proto.int32_data(), static_cast<int32_t*>(dst), n);
      break;
    case DType::kInt16:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      CopyConvert(proto.int32_data(), static_cast<int16_t*>(dst), n);
      break;
    case DType::kInt8:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      CopyConvert(proto.int32_data(), static_cast<int8_t*>(dst), n);
      break;
    case DType::kUInt16:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      CopyConvert(proto.int32_data(), static_cast<uint16_t*>(dst), n);
      break;
    case DType::kUInt8:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      CopyConvert(proto.int32_data(), static_cast<uint8_t*>(dst), n);
      break;
    case DType::kBool:
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      for (int64_t i = 0; i < n; ++i) {
        static_cast<bool*>(dst)[i] = proto.int32_data(static_cast<int>(i)) != 0;
      }
      break;
    case DType::kFloat16:
    case DType::kBFloat16: {
      MLOS_RETURN_IF_ERROR(need(proto.int32_data_size()));
      auto* bits = static_cast<uint16_t*>(dst);  // the int32 fields carry the raw bit patterns
      for (int64_t i = 0; i < n; ++i) {
        bits[i] = static_cast<uint16_t>(proto.int32_data(static_cast<int>(i)));
      }
      break;
    }
    case DType::kString:
      break;
  }
  return t;
}

Status TensorToProto(const Tensor& t, const std::string& name, TensorProto* proto) {
  proto->Clear();
  proto->set_name(name);
  proto->set_data_type(OnnxFromDType(t.dtype()));
  for (int64_t d : t.shape()) proto->add_dims(d);
  MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
  if (t.dtype() == DType::kString) {
    const auto* s = static_cast<const std::string*>(c.raw_data());
    for (int64_t i = 0; i < c.numel(); ++i) proto->add_string_data(s[i]);
    return Status::OK();
  }
  proto->set_raw_data(c.raw_data(), c.nbytes());
  return Status::OK();
}

namespace {

// A SequenceProto of tensors as a Value (other element types are not supported).
Result<Value> SequenceValue(const onnx::SequenceProto& seq) {
  std::vector<Tensor> items;
  DType dt = DType::kFloat32;
  if (seq.elem_type() != onnx::SequenceProto::TENSOR &&
      seq.elem_type() != onnx::SequenceProto::UNDEFINED) {
    return Unimplemented("sequence element type ", seq.elem_type());
  }
  for (const auto& tp : seq.tensor_values()) {
    MLOS_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(tp, ""));
    dt = t.dtype();
    items.push_back(std::move(t));
  }
  return Value::FromSequence(std::move(items), dt);
}

}  // namespace

Result<Value> ValueFromPbBytes(std::string_view bytes, bool want_sequence) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return ResourceExhausted("protobuf message of ", bytes.size(), " bytes is too large");
  }
  if (want_sequence) {
    onnx::SequenceProto seq;
    if (!seq.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return DataLoss("cannot parse SequenceProto");
    }
    return SequenceValue(seq);
  }
  TensorProto tp;
  if (!tp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return DataLoss("cannot parse TensorProto");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(tp, ""));
  return Value::FromTensor(std::move(t));
}

Result<Value> OptionalValueFromPbBytes(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return ResourceExhausted("protobuf message of ", bytes.size(), " bytes is too large");
  }
  onnx::OptionalProto opt;
  if (!opt.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return DataLoss("cannot parse OptionalProto");
  }
  switch (opt.elem_type()) {
    case onnx::OptionalProto::UNDEFINED:
      return Value{};  // the empty optional
    case onnx::OptionalProto::TENSOR: {
      MLOS_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(opt.tensor_value(), ""));
      return Value::FromTensor(std::move(t));
    }
    case onnx::OptionalProto::SEQUENCE:
      return SequenceValue(opt.sequence_value());
    default:
      return Unimplemented("optional element type ", opt.elem_type());
  }
}

Result<std::string> ValueToPbBytes(const Value& v, const std::string& name) {
  std::string out;
  if (v.kind == Value::Kind::kSequence) {
    onnx::SequenceProto seq;
    seq.set_name(name);
    seq.set_elem_type(onnx::SequenceProto::TENSOR);
    for (const Tensor& t : v.seq)
      MLOS_RETURN_IF_ERROR(TensorToProto(t, "", seq.add_tensor_values()));
    seq.SerializeToString(&out);
    return out;
  }
  TensorProto tp;
  MLOS_RETURN_IF_ERROR(TensorToProto(v.tensor, name, &tp));
  tp.SerializeToString(&out);
  return out;
}

}  // namespace mlos::graph
