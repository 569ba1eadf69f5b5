// PluginModel: registering, loading, describing and running one model through the SMI vtable.
#include "runtime/plugin_host_model.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "runtime/plugin_host_dtype.h"

namespace mlos::runtime {
namespace {

constexpr uint32_t kMaxTensors = 4096;  // declared or produced per model
constexpr size_t kMaxTensorName = 1024;
constexpr size_t kDefaultRawCapacity = size_t{64} << 10;
constexpr size_t kMaxRawOutput = size_t{256} << 20;
constexpr size_t kGuardBytes = 64;
constexpr unsigned char kGuardByte = 0xA5;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A zero-byte output still needs a non-NULL pointer (NULL means failure).
alignas(64) unsigned char g_empty_output[64];

// Validated form of one output the plugin announces through the sink.
struct OutputSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  size_t nbytes = 0;
};

Status ReadOutputSpec(bool trusted, const std::string& plugin_id, const char* name, int32_t dtype,
                      const int64_t* shape, uint32_t ndim, OutputSpec* spec) {
  const std::string who = StrCat("plugin '", plugin_id, "': output");
  if (trusted) {
    if (name == nullptr) return InvalidArgument(who, " name is NULL");
    spec->name.assign(name, strnlen(name, kMaxTensorName + 1));
    if (spec->name.size() > kMaxTensorName) return InvalidArgument(who, " name is too long");
  } else {
    MLOS_ASSIGN_OR_RETURN(spec->name, SafeCopyString(name, kMaxTensorName, StrCat(who, " name")));
  }
  if (!DTypeFromSmi(dtype, &spec->dtype)) {
    return InvalidArgument(who, " '", spec->name, "' has unknown dtype code ", dtype);
  }
  if (ndim > SMI_MAX_DIMS) {
    return InvalidArgument(who, " '", spec->name, "' has ", ndim, " dimensions (max ", SMI_MAX_DIMS,
                           ")");
  }
  spec->shape.resize(ndim);
  if (ndim > 0) {
    if (trusted) {
      if (shape == nullptr) return InvalidArgument(who, " '", spec->name, "' shape is NULL");
      std::memcpy(spec->shape.data(), shape, ndim * sizeof(int64_t));
    } else {
      MLOS_RETURN_IF_ERROR(SafeCopyBytes(shape, spec->shape.data(), ndim * sizeof(int64_t),
                                         StrCat(who, " '", spec->name, "' shape")));
    }
  }
  auto numel = NumElements(spec->shape);
  if (!numel.ok()) {
    return InvalidArgument(who, " '", spec->name, "' has invalid shape ",
                           ShapeToString(spec->shape), ": ", numel.status().message());
  }
  const size_t elem = DTypeSize(spec->dtype);
  if (static_cast<uint64_t>(*numel) > (uint64_t{1} << 46) / elem) {
    return ResourceExhausted(who, " '", spec->name, "' of shape ", ShapeToString(spec->shape),
                             " is too large");
  }
  spec->nbytes = static_cast<size_t>(*numel) * elem;
  return Status::OK();
}

// The host side of smi_output_sink_t for one tensor_inference call.
struct SinkState {
  smi_output_sink_t c;
  const std::shared_ptr<PluginInstance>* plugin;
  std::vector<NamedTensor>* out;
  Status error;
  // The SMI 1.2 bindings passed in c.bindings, and for each the caller's binding (its owner).
  std::vector<smi_output_binding_t> smi_bindings;
  std::vector<const OutputBinding*> bindings;

  // The caller's binding of output `name` when the plugin wrote it there (data is the bound
  // address), else nullptr. Records an error when the output ran past the binding.
  const OutputBinding* InPlace(const OutputSpec& spec, const void* data) {
    for (size_t i = 0; i < smi_bindings.size(); ++i) {
      if (smi_bindings[i].data != data || spec.name != smi_bindings[i].name) continue;
      if (spec.nbytes > smi_bindings[i].capacity) {
        Record(InvalidArgument("plugin '", (*plugin)->id(), "': output '", spec.name, "' of ",
                               spec.nbytes, " bytes was handed over in its ",
                               smi_bindings[i].capacity, "-byte output binding"));
        return nullptr;
      }
      return bindings[i];
    }
    return nullptr;
  }

  bool Record(Status s) {
    if (error.ok()) error = std::move(s);
    return false;
  }
  bool CheckNew(const OutputSpec& spec) {
    if (out->size() >= kMaxTensors) return Record(InvalidArgument("too many outputs"));
    for (const auto& [name, t] : *out) {
      if (name == spec.name) {
        return Record(
            InvalidArgument("plugin '", (*plugin)->id(), "' produced output '", name, "' twice"));
      }
    }
    return true;
  }

  static void* Allocate(void* ctx, const char* name, int32_t dtype, const int64_t* shape,
                        uint32_t ndim) {
    auto* self = static_cast<SinkState*>(ctx);
    OutputSpec spec;
    Status s = ReadOutputSpec((*self->plugin)->trusted(), (*self->plugin)->id(), name, dtype, shape,
                              ndim, &spec);
    if (!s.ok()) return self->Record(s), nullptr;
    if (!self->CheckNew(spec)) return nullptr;
    auto t = Tensor::Empty(spec.dtype, std::move(spec.shape));
    if (!t.ok()) return self->Record(t.status()), nullptr;
    void* data = spec.nbytes == 0 ? g_empty_output : t->raw_data();
    self->out->emplace_back(std::move(spec.name), std::move(*t));
    return data;
  }

  static smi_status_t Adopt(void* ctx, const char* name, int32_t dtype, const int64_t* shape,
                            uint32_t ndim, void* data, void (*release)(void*), void* opaque) {
    auto* self = static_cast<SinkState*>(ctx);
    const std::shared_ptr<PluginInstance>& plugin = *self->plugin;
    // The owner keeps the plugin's library loaded until `release` has run.
    std::shared_ptr<void> owner(opaque, [keep = plugin, release](void* o) {
      if (release == nullptr) return;
      try {
        release(o);
      } catch (...) {
      }
    });
    OutputSpec spec;
    Status s = ReadOutputSpec(plugin->trusted(), plugin->id(), name, dtype, shape, ndim, &spec);
    if (!s.ok()) return self->Record(s), SMI_ERROR_INVALID_PARAM;
    if (!self->CheckNew(spec)) return SMI_ERROR_INVALID_PARAM;
    if (spec.nbytes > 0 && !self->smi_bindings.empty()) {
      // Written into the caller's memory: take it where it lies; the plugin's buffer (owner) is
      // released when this returns.
      const OutputBinding* b = self->InPlace(spec, data);
      if (!self->error.ok()) return SMI_ERROR_INVALID_PARAM;
      if (b != nullptr) {
        auto t = Tensor::FromStorage(Storage::Wrap(data, spec.nbytes, b->owner), spec.dtype,
                                     std::move(spec.shape));
        if (!t.ok()) return self->Record(t.status()), SMI_ERROR_INVALID_PARAM;
        self->out->emplace_back(std::move(spec.name), std::move(*t));
        return SMI_SUCCESS;
      }
    }
    if (spec.nbytes > 0 &&
        (data == nullptr || (!plugin->trusted() && !IsReadable(data, spec.nbytes)))) {
      self->Record(InvalidArgument("plugin '", plugin->id(), "': output '", spec.name,
                                   "' handed over an unreadable data pointer"));
      return SMI_ERROR_INVALID_PARAM;
    }
    if (spec.nbytes == 0) data = g_empty_output;
    auto storage = Storage::Wrap(data, spec.nbytes, std::move(owner));
    auto t = Tensor::FromStorage(std::move(storage), spec.dtype, std::move(spec.shape));
    if (!t.ok()) return self->Record(t.status()), SMI_ERROR_INVALID_PARAM;
    self->out->emplace_back(std::move(spec.name), std::move(*t));
    return SMI_SUCCESS;
  }
};

Result<TensorInfo> ReadDesc(const smi_tensor_desc_t& d, const std::string& who) {
  TensorInfo info;
  MLOS_ASSIGN_OR_RETURN(info.name, SafeCopyString(d.name, kMaxTensorName, StrCat(who, " name")));
  if (!DTypeFromSmi(d.dtype, &info.dtype)) {
    return InvalidArgument(who, " '", info.name, "' has unknown dtype code ", d.dtype);
  }
  if (d.ndim > SMI_MAX_DIMS) {
    return InvalidArgument(who, " '", info.name, "' has ", d.ndim, " dimensions");
  }
  info.shape.resize(d.ndim);
  if (d.ndim > 0) {
    MLOS_RETURN_IF_ERROR(SafeCopyBytes(d.shape, info.shape.data(), d.ndim * sizeof(int64_t),
                                       StrCat(who, " '", info.name, "' shape")));
  }
  for (int64_t dim : info.shape) {
    if (dim < -1) return InvalidArgument(who, " '", info.name, "' has dimension ", dim);
  }
  info.dim_names.resize(d.ndim);
  return info;
}

Status ReadDescTable(const smi_tensor_desc_t* table, uint32_t n, const std::string& who,
                     std::vector<TensorInfo>* out) {
  if (n == 0) return Status::OK();
  if (n > kMaxTensors) return InvalidArgument(who, " count ", n, " exceeds ", kMaxTensors);
  std::vector<smi_tensor_desc_t> copy(n);
  MLOS_RETURN_IF_ERROR(SafeCopyBytes(table, copy.data(), n * sizeof(smi_tensor_desc_t), who));
  for (const auto& d : copy) {
    MLOS_ASSIGN_OR_RETURN(TensorInfo info, ReadDesc(d, who));
    out->push_back(std::move(info));
  }
  return Status::OK();
}

void AppendJsonTensor(const Tensor& t, std::string* out) {
  out->push_back('[');
  char buf[40];
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (i > 0) out->push_back(',');
    const double v = t.GetAsDouble(i);
    if (IsFloating(t.dtype())) {
      std::snprintf(buf, sizeof(buf), "%.9g", v);
    } else if (t.dtype() == DType::kInt64) {
      std::snprintf(buf, sizeof(buf), "%" PRId64, static_cast<const int64_t*>(t.raw_data())[i]);
    } else if (t.dtype() == DType::kUInt64) {
      std::snprintf(buf, sizeof(buf), "%" PRIu64, static_cast<const uint64_t*>(t.raw_data())[i]);
    } else {
      std::snprintf(buf, sizeof(buf), "%.0f", v);
    }
    out->append(buf);
  }
  out->push_back(']');
}

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

Result<std::shared_ptr<PluginModel>> PluginModel::Load(std::shared_ptr<PluginInstance> plugin,
                                                       const ModelLoadRequest& request) {
  std::shared_ptr<PluginModel> m(new PluginModel(std::move(plugin)));
  m->model_id_ = request.model_id;
  const auto& vt = m->plugin_->vtable();
  // Before register_model the handle is a unique non-NULL value (see smi_model_handle_t).
  m->handle_ = m.get();
  if (vt.register_model != nullptr) {
    const std::string metadata =
        StrCat("{\"model_id\":\"", JsonEscape(request.model_id), "\",\"path\":\"",
               JsonEscape(request.path), "\",\"framework\":\"", JsonEscape(request.framework),
               "\",\"execution_format\":\"", JsonEscape(request.execution_format), "\"}");
    smi_model_handle_t h = m->handle_;
    MLOS_RETURN_IF_ERROR(m->plugin_->Guard(
        "register_model", [&] { return vt.register_model(metadata.c_str(), &h); }));
    m->handle_ = h;
  }
  m->registered_ = true;
  m->plugin_->AddModel();
  if (vt.load_model != nullptr) {
    MLOS_RETURN_IF_ERROR(m->plugin_->Guard(
        "load_model", [&] { return vt.load_model(m->handle_, request.path.c_str()); }));
  }
  m->loaded_ = true;
  MLOS_RETURN_IF_ERROR(m->ReadModelInfo());
  return m;
}

PluginModel::~PluginModel() {
  const auto& vt = plugin_->vtable();
  if (loaded_ && vt.unload_model != nullptr) {
    Status s = plugin_->Guard("unload_model", [&] { return vt.unload_model(handle_); });
    if (!s.ok()) HostLog(plugin_->services(), SMI_LOG_WARNING, plugin_->id(), s.message());
  }
  if (registered_) {
    if (vt.unregister_model != nullptr) {
      Status s = plugin_->Guard("unregister_model", [&] { return vt.unregister_model(handle_); });
      if (!s.ok()) HostLog(plugin_->services(), SMI_LOG_WARNING, plugin_->id(), s.message());
    }
    plugin_->RemoveModel();
  }
}

Status PluginModel::ReadModelInfo() {
  const auto& vt = plugin_->vtable();
  if (vt.get_model_info == nullptr) return Status::OK();
  smi_model_info_t info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  MLOS_RETURN_IF_ERROR(
      plugin_->Guard("get_model_info", [&] { return vt.get_model_info(handle_, &info); }));
  const std::string who = StrCat("plugin '", plugin_->id(), "': model '", model_id_, "'");
  MLOS_RETURN_IF_ERROR(ReadDescTable(info.inputs, info.num_inputs, who + " input", &inputs_));
  MLOS_RETURN_IF_ERROR(ReadDescTable(info.outputs, info.num_outputs, who + " output", &outputs_));
  max_output_size_ = info.max_output_size;
  return Status::OK();
}

Status PluginModel::Infer(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
                          InferenceTiming* timing) {
  if (outputs == nullptr) return InvalidArgument("outputs is null");
  if (plugin_->tensor_inference() != nullptr) return InferTensors(inputs, outputs, timing, nullptr);
  return InferViaBytes(inputs, outputs, timing);
}

Status PluginModel::InferInto(const std::vector<NamedTensor>& inputs,
                              const std::vector<OutputBinding>& bindings,
                              std::vector<NamedTensor>* outputs, InferenceTiming* timing) {
  if (outputs == nullptr) return InvalidArgument("outputs is null");
  if (plugin_->tensor_inference() != nullptr) {
    return InferTensors(inputs, outputs, timing, &bindings);
  }
  return InferViaBytes(inputs, outputs, timing);
}

Status PluginModel::InferTensors(const std::vector<NamedTensor>& inputs,
                                 std::vector<NamedTensor>* outputs, InferenceTiming* timing,
                                 const std::vector<OutputBinding>* bindings) {
  // Inputs are passed in place; only non-contiguous views are copied.
  constexpr size_t kInline = 8;
  smi_tensor_t inline_tensors[kInline];
  std::vector<smi_tensor_t> heap_tensors;
  smi_tensor_t* c_inputs = inline_tensors;
  if (inputs.size() > kInline) {
    heap_tensors.resize(inputs.size());
    c_inputs = heap_tensors.data();
  }
  std::vector<Tensor> contiguous_copies;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [name, tensor] = inputs[i];
    if (!tensor.defined()) return InvalidArgument("input '", name, "' is an undefined tensor");
    const int32_t code = SmiFromDType(tensor.dtype());
    if (code == SMI_DTYPE_UNDEFINED) {
      return Unimplemented("input '", name, "' has dtype ", DTypeName(tensor.dtype()),
                           ", which plugins cannot receive");
    }
    if (tensor.rank() > SMI_MAX_DIMS) {
      return InvalidArgument("input '", name, "' has rank ", tensor.rank(), " (max ", SMI_MAX_DIMS,
                             ")");
    }
    const Tensor* t = &tensor;
    if (!tensor.is_contiguous()) {
      MLOS_ASSIGN_OR_RETURN(Tensor c, tensor.Contiguous());
      if (contiguous_copies.capacity() == 0) contiguous_copies.reserve(inputs.size());
      contiguous_copies.push_back(std::move(c));
      t = &contiguous_copies.back();
    }
    smi_tensor_t& ct = c_inputs[i];
    ct.struct_size = sizeof(smi_tensor_t);
    ct.dtype = code;
    ct.name = name.c_str();
    ct.shape = t->shape().data();
    ct.ndim = static_cast<uint32_t>(t->rank());
    ct.reserved = 0;
    ct.data = t->raw_data();
    ct.data_size = t->nbytes();
  }

  outputs->clear();
  SinkState sink;
  sink.c.struct_size = sizeof(smi_output_sink_t);
  sink.c.reserved = 0;
  sink.c.ctx = &sink;
  sink.c.allocate = &SinkState::Allocate;
  sink.c.adopt = &SinkState::Adopt;
  sink.plugin = &plugin_;
  sink.out = outputs;
  sink.c.bindings = nullptr;
  sink.c.num_bindings = 0;
  sink.c.reserved2 = 0;
  if (bindings != nullptr) {
    // Bindings travel by declared output name; a plugin that declares no outputs gets none.
    const size_t n = std::min(bindings->size(), outputs_.size());
    for (size_t i = 0; i < n; ++i) {
      const OutputBinding& b = (*bindings)[i];
      if (b.data == nullptr || b.capacity == 0) continue;
      sink.smi_bindings.push_back({outputs_[i].name.c_str(), b.data, b.capacity});
      sink.bindings.push_back(&b);
    }
    if (!sink.smi_bindings.empty()) {
      sink.c.bindings = sink.smi_bindings.data();
      sink.c.num_bindings = static_cast<uint32_t>(sink.smi_bindings.size());
    }
  }

  const TensorInferenceFn fn = plugin_->tensor_inference();
  const int64_t t0 = timing != nullptr ? NowUs() : 0;
  Status s = plugin_->Guard("tensor_inference",
                            [&] { return fn(handle_, c_inputs, inputs.size(), &sink.c); });
  if (timing != nullptr) timing->plugin_us = NowUs() - t0;
  // What the host refused through the sink is the root cause, whatever the plugin returned.
  if (!sink.error.ok()) s = sink.error;
  if (!s.ok()) {
    outputs->clear();
    return s.WithContext(StrCat("model '", model_id_, "'"));
  }
  if (outputs_.empty()) return Status::OK();

  // Outputs come back in the declared order; the usual case is already in it.
  bool in_order = outputs->size() == outputs_.size();
  for (size_t i = 0; in_order && i < outputs_.size(); ++i) {
    in_order = (*outputs)[i].first == outputs_[i].name;
  }
  if (in_order) return Status::OK();
  if (outputs->size() != outputs_.size()) {
    const size_t produced = outputs->size();
    outputs->clear();
    return Internal("plugin '", plugin_->id(), "': model '", model_id_, "' produced ", produced,
                    " outputs but declares ", outputs_.size());
  }
  std::vector<NamedTensor> ordered;
  ordered.reserve(outputs_.size());
  for (const auto& decl : outputs_) {
    auto it = std::find_if(outputs->begin(), outputs->end(),
                           [&](const NamedTensor& o) { return o.first == decl.name; });
    if (it == outputs->end()) {
      outputs->clear();
      return Internal("plugin '", plugin_->id(), "': model '", model_id_,
                      "' did not produce declared output '", decl.name, "'");
    }
    ordered.push_back(std::move(*it));
  }
  *outputs = std::move(ordered);
  return Status::OK();
}

Status PluginModel::InferViaBytes(const std::vector<NamedTensor>& inputs,
                                  std::vector<NamedTensor>* outputs, InferenceTiming* timing) {
  std::string request;
  if (inputs.size() == 1 &&
      (inputs[0].second.dtype() == DType::kUInt8 || inputs[0].second.dtype() == DType::kInt8)) {
    MLOS_ASSIGN_OR_RETURN(Tensor c, inputs[0].second.Contiguous());
    request.assign(static_cast<const char*>(c.raw_data()), c.nbytes());
  } else {
    request = "{";
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& [name, tensor] = inputs[i];
      if (!tensor.defined() || (!IsNumeric(tensor.dtype()) && tensor.dtype() != DType::kBool)) {
        return InvalidArgument("input '", name, "' cannot be sent as JSON");
      }
      MLOS_ASSIGN_OR_RETURN(Tensor c, tensor.Contiguous());
      if (i > 0) request += ',';
      request += StrCat("\"", JsonEscape(name), "\":");
      AppendJsonTensor(c, &request);
    }
    request += "}";
  }
  std::string reply;
  MLOS_RETURN_IF_ERROR(InferRaw(request, &reply, timing));
  MLOS_ASSIGN_OR_RETURN(Tensor t,
                        Tensor::Empty(DType::kUInt8, {static_cast<int64_t>(reply.size())}));
  if (!reply.empty()) std::memcpy(t.raw_data(), reply.data(), reply.size());
  outputs->clear();
  outputs->emplace_back(outputs_.empty() ? std::string("output") : outputs_[0].name, std::move(t));
  return Status::OK();
}

Status PluginModel::InferRaw(std::string_view input, std::string* output, InferenceTiming* timing) {
  if (output == nullptr) return InvalidArgument("output is null");
  const auto& vt = plugin_->vtable();
  if (vt.inference == nullptr) {
    return Unimplemented("plugin '", plugin_->id(),
                         "' has no byte-level inference; send typed tensors");
  }
  size_t capacity = max_output_size_ > 0 ? std::min<uint64_t>(max_output_size_, kMaxRawOutput)
                                         : kDefaultRawCapacity;
  int64_t plugin_us = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<unsigned char[]> buf(new (std::nothrow) unsigned char[capacity + kGuardBytes]);
    if (buf == nullptr)
      return ResourceExhausted("cannot allocate a ", capacity, "-byte output buffer");
    std::memset(buf.get() + capacity, kGuardByte, kGuardBytes);
    size_t out_size = capacity;
    int32_t code = SMI_SUCCESS;
    const int64_t t0 = NowUs();
    Status s = plugin_->GuardCode("inference", &code, [&] {
      return vt.inference(handle_, input.data(), input.size(), buf.get(), &out_size);
    });
    plugin_us += NowUs() - t0;
    for (size_t i = 0; i < kGuardBytes; ++i) {
      if (buf[capacity + i] != kGuardByte) {
        return Internal("plugin '", plugin_->id(), "': inference wrote past the end of its ",
                        capacity, "-byte output buffer");
      }
    }
    if (!s.ok()) return s.WithContext(StrCat("model '", model_id_, "'"));
    if (code == SMI_ERROR_BUFFER_TOO_SMALL) {
      if (out_size <= capacity || out_size > kMaxRawOutput) {
        return Internal("plugin '", plugin_->id(), "': inference asked for a ", out_size,
                        "-byte output buffer (had ", capacity, ", limit ", kMaxRawOutput, ")");
      }
      capacity = out_size;
      continue;
    }
    if (out_size > capacity) {
      return Internal("plugin '", plugin_->id(), "': inference reported ", out_size,
                      " bytes written into a ", capacity, "-byte buffer");
    }
    output->assign(reinterpret_cast<const char*>(buf.get()), out_size);
    if (timing != nullptr) timing->plugin_us = plugin_us;
    return Status::OK();
  }
  return Internal("plugin '", plugin_->id(), "': inference kept asking for larger buffers");
}

}  // namespace mlos::runtime
