#include "graph/onnx_loader.h"

#include <onnx/onnx_pb.h>

#include <limits>

#include "graph/tensor_proto.h"

namespace mlos::graph {
namespace {

constexpr int kMaxGraphDepth = 32;

Status ConvertValueInfo(const onnx::ValueInfoProto& vi, ValueInfo* out) {
  out->name = vi.name();
  if (!vi.has_type()) {
    out->kind = ValueKind::kUnknown;
    return Status::OK();
  }
  const onnx::TypeProto* tp = &vi.type();
  if (tp->has_sequence_type()) {
    out->kind = ValueKind::kSequence;
    tp = &tp->sequence_type().elem_type();
  } else if (tp->has_optional_type()) {
    out->kind = ValueKind::kOptional;
    tp = &tp->optional_type().elem_type();
    if (tp->has_sequence_type()) tp = &tp->sequence_type().elem_type();
  } else if (tp->has_map_type()) {
    out->kind = ValueKind::kMap;
    return Status::OK();
  } else {
    out->kind = ValueKind::kTensor;
  }
  if (!tp->has_tensor_type()) return Status::OK();
  const auto& tt = tp->tensor_type();
  if (tt.elem_type() != 0) {
    auto dt = DTypeFromOnnx(tt.elem_type());
    if (dt.ok()) out->dtype = *dt;
  }
  if (tt.has_shape()) {
    out->has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      Dim dim;
      if (d.has_dim_value()) dim.value = d.dim_value();
      if (d.has_dim_param()) dim.symbol = d.dim_param();
      out->dims.push_back(std::move(dim));
    }
  }
  return Status::OK();
}

Status ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir,
                    const std::map<std::string, int64_t>& opsets, int depth, Graph* g);

Status ConvertAttribute(const onnx::AttributeProto& ap, const std::string& base_dir,
                        const std::map<std::string, int64_t>& opsets, int depth, Attribute* a) {
  using T = Attribute::Type;
  switch (ap.type()) {
    case onnx::AttributeProto::FLOAT:
      a->type = T::kFloat;
      a->f = ap.f();
      break;
    case onnx::AttributeProto::INT:
      a->type = T::kInt;
      a->i = ap.i();
      break;
    case onnx::AttributeProto::STRING:
      a->type = T::kString;
      a->s = ap.s();
      break;
    case onnx::AttributeProto::TENSOR: {
      a->type = T::kTensor;
      MLOS_ASSIGN_OR_RETURN(a->t, TensorFromProto(ap.t(), base_dir));
      break;
    }
    case onnx::AttributeProto::GRAPH: {
      a->type = T::kGraph;
      a->g = std::make_shared<Graph>();
      MLOS_RETURN_IF_ERROR(ConvertGraph(ap.g(), base_dir, opsets, depth + 1, a->g.get()));
      break;
    }
    case onnx::AttributeProto::FLOATS:
      a->type = T::kFloats;
      a->floats.assign(ap.floats().begin(), ap.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      a->type = T::kInts;
      a->ints.assign(ap.ints().begin(), ap.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      a->type = T::kStrings;
      a->strings.assign(ap.strings().begin(), ap.strings().end());
      break;
    case onnx::AttributeProto::TENSORS:
      a->type = T::kTensors;
      for (const auto& tp : ap.tensors()) {
        MLOS_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(tp, base_dir));
        a->tensors.push_back(std::move(t));
      }
      break;
    case onnx::AttributeProto::GRAPHS:
      a->type = T::kGraphs;
      for (const auto& sg : ap.graphs()) {
        auto g = std::make_shared<Graph>();
        MLOS_RETURN_IF_ERROR(ConvertGraph(sg, base_dir, opsets, depth + 1, g.get()));
        a->graphs.push_back(std::move(g));
      }
      break;
    case onnx::AttributeProto::SPARSE_TENSOR:
      a->type = T::kSparseTensor;
      break;
    case onnx::AttributeProto::TYPE_PROTO:
      a->type = T::kTypeProto;
      break;
    default:
      return InvalidArgument("attribute '", ap.name(), "' has unknown type ", ap.type());
  }
  return Status::OK();
}

Status ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir,
                    const std::map<std::string, int64_t>& opsets, int depth, Graph* g) {
  if (depth > kMaxGraphDepth)
    return InvalidArgument("subgraphs nested deeper than ", kMaxGraphDepth);
  g->name = gp.name();
  g->opsets = opsets;
  for (const auto& tp : gp.initializer()) {
    auto t = TensorFromProto(tp, base_dir);
    if (!t.ok()) return t.status().WithContext("initializer '" + tp.name() + "'");
    g->initializers[tp.name()] = std::move(t).value();
  }
  if (gp.sparse_initializer_size() > 0) return Unimplemented("sparse initializers");
  for (const auto& vi : gp.input()) {
    ValueInfo info;
    MLOS_RETURN_IF_ERROR(ConvertValueInfo(vi, &info));
    g->inputs.push_back(std::move(info));
  }
  for (const auto& vi : gp.output()) {
    ValueInfo info;
    MLOS_RETURN_IF_ERROR(ConvertValueInfo(vi, &info));
    g->outputs.push_back(std::move(info));
  }
  for (const auto& vi : gp.value_info()) {
    ValueInfo info;
    MLOS_RETURN_IF_ERROR(ConvertValueInfo(vi, &info));
    g->value_info[info.name] = std::move(info);
  }
  g->nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (const auto& np : gp.node()) {
    Node n;
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = CanonicalDomain(np.domain());
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& ap : np.attribute()) {
      Attribute a;
      Status s = ConvertAttribute(ap, base_dir, opsets, depth, &a);
      if (!s.ok()) return s.WithContext(n.Describe());
      if (ap.has_ref_attr_name()) return Unimplemented(n.Describe(), ": attribute references");
      n.attrs[ap.name()] = std::move(a);
    }
    g->nodes.push_back(std::move(n));
  }
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<Graph>> LoadOnnxModel(std::string_view bytes, const std::string& base_dir) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return ResourceExhausted("model of ", bytes.size(), " bytes exceeds protobuf's 2 GiB limit");
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return DataLoss("cannot parse the ONNX model (corrupt or truncated protobuf)");
  }
  if (!model.has_graph()) return InvalidArgument("the model has no graph");
  std::map<std::string, int64_t> opsets;
  for (const auto& os : model.opset_import()) opsets[CanonicalDomain(os.domain())] = os.version();
  if (opsets.empty()) opsets[""] = 1;  // IR versions before opset_import
  auto it = opsets.find("");
  if (it != opsets.end() && (it->second < 1 || it->second > kMaxSupportedOpset)) {
    return Unimplemented("default-domain opset ", it->second, " is not supported (1 to ",
                         kMaxSupportedOpset, ")");
  }
  auto g = std::make_shared<Graph>();
  MLOS_RETURN_IF_ERROR(ConvertGraph(model.graph(), base_dir, opsets, 0, g.get()));
  return g;
}

}  // namespace mlos::graph
