// The byte-level (JSON) inference entry of onnx-runtime-builtin, as the seed describes it:
// {"input_ids": [1, 2, 3], "attention_mask": [1, 1, 1]} in, named outputs out. Shapes come
// from the nesting of the arrays, an explicit {"data": [...], "shape": [...]}, or the model's
// declared shape with its dynamic dimensions filled (leading ones 1, the last from the count).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "plugins/onnx/onnx_plugin_model.h"

namespace mlos::onnx_plugin {
namespace {

constexpr int kMaxDepth = SMI_MAX_DIMS;
constexpr size_t kMaxElements = size_t{1} << 28;

Status Flatten(const rapidjson::Value& v, int depth, Shape* shape,
               std::vector<const rapidjson::Value*>* leaves, const std::string& name) {
  if (!v.IsArray()) {
    if (!v.IsNumber() && !v.IsBool()) {
      return InvalidArgument("input '", name, "' holds a non-numeric value");
    }
    if (static_cast<int>(shape->size()) != depth) {
      return InvalidArgument("input '", name, "' is a ragged array");
    }
    if (leaves->size() >= kMaxElements) return InvalidArgument("input '", name, "' is too large");
    leaves->push_back(&v);
    return Status::OK();
  }
  if (depth >= kMaxDepth) return InvalidArgument("input '", name, "' is nested too deeply");
  const int64_t n = static_cast<int64_t>(v.Size());
  if (static_cast<int>(shape->size()) == depth) {
    // First array at this depth fixes the dimension, unless a scalar was already seen here.
    if (!leaves->empty() && depth > 0) return InvalidArgument("input '", name, "' is ragged");
    shape->push_back(n);
  } else if (static_cast<int>(shape->size()) < depth || (*shape)[static_cast<size_t>(depth)] != n) {
    return InvalidArgument("input '", name, "' is a ragged array");
  }
  for (const auto& item : v.GetArray()) {
    MLOS_RETURN_IF_ERROR(Flatten(item, depth + 1, shape, leaves, name));
  }
  return Status::OK();
}

Result<Shape> FitDeclaredShape(const TensorInfo& decl, int64_t n) {
  Shape shape = decl.shape;
  int64_t known = 1;
  int last_dynamic = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      last_dynamic = static_cast<int>(i);
    } else {
      known *= shape[i];
    }
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) shape[i] = static_cast<int>(i) == last_dynamic ? 0 : 1;
  }
  if (last_dynamic >= 0 && known > 0 && n % known == 0) {
    shape[static_cast<size_t>(last_dynamic)] = n / known;
    return shape;
  }
  if (last_dynamic < 0 && known == n) return shape;
  return InvalidArgument("input '", decl.name, "' has ", n, " values, which do not fit its shape ",
                         ShapeToString(decl.shape));
}

Status FillTensor(const std::vector<const rapidjson::Value*>& leaves, Tensor* t) {
  return VisitDType(t->dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, std::string>) {
      return Unimplemented("string inputs are not supported in JSON");
    } else {
      T* dst = static_cast<T*>(t->raw_data());
      auto cast = [](auto x) -> T {
        if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<T>(x);
        } else {
          return T(static_cast<float>(x));  // Float16, BFloat16
        }
      };
      for (size_t i = 0; i < leaves.size(); ++i) {
        const rapidjson::Value& v = *leaves[i];
        if (v.IsBool()) {
          dst[i] = cast(v.GetBool() ? 1 : 0);
        } else if (v.IsInt64()) {
          dst[i] = cast(v.GetInt64());
        } else if (v.IsUint64()) {
          dst[i] = cast(v.GetUint64());
        } else {
          const double d = v.GetDouble();
          if constexpr (std::is_integral_v<T>) {
            if (!(d >= -9.2e18 && d <= 9.2e18)) {
              return InvalidArgument("value ", d, " does not fit an integer input");
            }
            dst[i] = static_cast<T>(static_cast<int64_t>(d));
          } else {
            dst[i] = cast(d);
          }
        }
      }
      return Status::OK();
    }
  });
}

// Per-thread reply kept when the caller's buffer was too small: the host retries at once on the
// same thread with the same request, which then gets this reply without running again.
struct PendingReply {
  const void* model = nullptr;
  std::string request;
  std::string reply;
};
thread_local PendingReply t_pending;

}  // namespace

Status OnnxModel::ParseJsonInputs(std::string_view json, std::vector<NamedTensor>* inputs) const {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return InvalidArgument("request is not valid JSON (offset ", doc.GetErrorOffset(),
                           "): ", rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return InvalidArgument("request must be a JSON object of named inputs");
  const rapidjson::Value* obj = &doc;
  auto wrapped = doc.FindMember("inputs");
  if (wrapped != doc.MemberEnd() && wrapped->value.IsObject()) obj = &wrapped->value;
  const auto& decls = session_->inputs();
  for (const auto& member : obj->GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    const TensorInfo* decl = nullptr;
    for (const auto& d : decls) {
      if (d.name == name) decl = &d;
    }
    if (decl == nullptr) {
      std::string known;
      for (const auto& d : decls) known += (known.empty() ? "" : ", ") + d.name;
      return InvalidArgument("the model has no input '", name, "' (inputs: ", known, ")");
    }
    const rapidjson::Value* data = &member.value;
    const rapidjson::Value* explicit_shape = nullptr;
    if (member.value.IsObject()) {
      auto d = member.value.FindMember("data");
      if (d == member.value.MemberEnd()) {
        return InvalidArgument("input '", name, "' object needs a \"data\" member");
      }
      data = &d->value;
      auto s = member.value.FindMember("shape");
      if (s != member.value.MemberEnd()) explicit_shape = &s->value;
    }
    Shape nested;
    std::vector<const rapidjson::Value*> leaves;
    MLOS_RETURN_IF_ERROR(Flatten(*data, 0, &nested, &leaves, name));
    const int64_t n = static_cast<int64_t>(leaves.size());
    Shape shape;
    if (explicit_shape != nullptr) {
      if (!explicit_shape->IsArray())
        return InvalidArgument("input '", name, "' shape must be an array");
      for (const auto& dim : explicit_shape->GetArray()) {
        if (!dim.IsInt64() || dim.GetInt64() < 0) {
          return InvalidArgument("input '", name, "' shape holds a bad dimension");
        }
        shape.push_back(dim.GetInt64());
      }
      MLOS_ASSIGN_OR_RETURN(int64_t want, NumElements(shape));
      if (want != n) {
        return InvalidArgument("input '", name, "' has ", n, " values but shape ",
                               ShapeToString(shape), " needs ", want);
      }
    } else if (nested.size() == decl->shape.size()) {
      shape = nested;
    } else {
      MLOS_ASSIGN_OR_RETURN(shape, FitDeclaredShape(*decl, n));
    }
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(decl->dtype, shape));
    MLOS_RETURN_IF_ERROR(FillTensor(leaves, &t));
    inputs->emplace_back(name, std::move(t));
  }
  return Status::OK();
}

Result<std::string> OnnxModel::OutputsToJson(const std::vector<Tensor>& outputs) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                    rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>
      w(buf);
  const auto& decls = session_->outputs();
  w.StartObject();
  for (size_t i = 0; i < outputs.size() && i < decls.size(); ++i) {
    const Tensor& t = outputs[i];
    w.Key(decls[i].name.c_str(), static_cast<rapidjson::SizeType>(decls[i].name.size()));
    w.StartObject();
    w.Key("dtype");
    const std::string_view dn = DTypeName(t.dtype());
    w.String(dn.data(), static_cast<rapidjson::SizeType>(dn.size()));
    w.Key("shape");
    w.StartArray();
    for (int64_t d : t.shape()) w.Int64(d);
    w.EndArray();
    w.Key("data");
    w.StartArray();
    if (t.dtype() == DType::kString) return Unimplemented("string outputs are not supported");
    MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
    for (int64_t k = 0; k < c.numel(); ++k) {
      switch (c.dtype()) {
        case DType::kBool:
          w.Bool(static_cast<const bool*>(c.raw_data())[k]);
          break;
        case DType::kInt64:
          w.Int64(static_cast<const int64_t*>(c.raw_data())[k]);
          break;
        case DType::kUInt64:
          w.Uint64(static_cast<const uint64_t*>(c.raw_data())[k]);
          break;
        case DType::kFloat32:
          w.Double(static_cast<double>(static_cast<const float*>(c.raw_data())[k]));
          break;
        default:
          if (IsFloating(c.dtype())) {
            w.Double(c.GetAsDouble(k));
          } else {
            w.Int64(static_cast<int64_t>(c.GetAsDouble(k)));
          }
      }
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

smi_status_t OnnxModel::InferJson(std::string_view input, void* output, size_t* output_size,
                                  smi_status_t (*fail)(const Status&)) {
  if (session_ == nullptr) return fail(FailedPrecondition("the model is not loaded"));
  std::string reply;
  if (t_pending.model == this && t_pending.request == input) {
    reply = std::move(t_pending.reply);
    t_pending = PendingReply();
  } else {
    std::vector<NamedTensor> inputs;
    Status s = ParseJsonInputs(input, &inputs);
    if (!s.ok()) return fail(s);
    std::vector<Tensor> outputs;
    s = session_->Run(inputs, &outputs);
    if (!s.ok()) return fail(s);
    auto json = OutputsToJson(outputs);
    if (!json.ok()) return fail(json.status());
    reply = std::move(*json);
  }
  if (reply.size() > *output_size) {
    *output_size = reply.size();
    t_pending.model = this;
    t_pending.request.assign(input.data(), input.size());
    t_pending.reply = std::move(reply);
    return SMI_ERROR_BUFFER_TOO_SMALL;
  }
  if (!reply.empty()) std::memcpy(output, reply.data(), reply.size());
  *output_size = reply.size();
  return SMI_SUCCESS;
}

}  // namespace mlos::onnx_plugin
