// OnnxModel: loading a session and running it on SMI tensors.
#include "plugins/onnx/onnx_plugin_model.h"

#include <cstddef>
#include <cstring>

#include "runtime/plugin_host_dtype.h"

namespace mlos::onnx_plugin {

OnnxModel::OnnxModel(ThreadPool* pool) : pool_(pool) {
  if (pool_ == nullptr) {
    // Outside a host that shares its pool (e.g. a test), run on the calling thread only.
    own_pool_ = std::make_unique<ThreadPool>(1);
    pool_ = own_pool_.get();
  }
}

Status OnnxModel::Load(const std::string& file) {
  graph::SessionOptions options;
  options.pool = pool_;
  MLOS_ASSIGN_OR_RETURN(session_, graph::Session::Load(file, options));
  auto describe = [](const std::vector<TensorInfo>& infos, std::vector<smi_tensor_desc_t>* out) {
    out->clear();
    for (const auto& ti : infos) {
      smi_tensor_desc_t d;
      d.name = ti.name.c_str();
      d.dtype = runtime::SmiFromDType(ti.dtype);
      d.ndim = static_cast<uint32_t>(ti.shape.size());
      d.shape = ti.shape.data();
      out->push_back(d);
    }
  };
  describe(session_->inputs(), &in_desc_);
  describe(session_->outputs(), &out_desc_);
  for (const auto* table : {&in_desc_, &out_desc_}) {
    for (const auto& d : *table) {
      if (d.dtype == SMI_DTYPE_UNDEFINED || d.ndim > SMI_MAX_DIMS) {
        Unload();
        return Unimplemented("model tensor '", d.name,
                             "' has a dtype or rank that SMI cannot carry");
      }
    }
  }
  return Status::OK();
}

void OnnxModel::Unload() {
  in_desc_.clear();
  out_desc_.clear();
  session_.reset();
}

Status OnnxModel::Run(const smi_tensor_t* inputs, size_t num_inputs, std::vector<Tensor>* outputs,
                      const smi_output_sink_t* sink) {
  if (session_ == nullptr) return FailedPrecondition("the model is not loaded");
  std::vector<NamedTensor> named;
  named.reserve(num_inputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    const smi_tensor_t& t = inputs[i];
    if (t.name == nullptr) return InvalidArgument("input ", i, " has no name");
    DType dtype;
    if (!runtime::DTypeFromSmi(t.dtype, &dtype)) {
      return InvalidArgument("input '", t.name, "' has unknown dtype code ", t.dtype);
    }
    if (t.ndim > SMI_MAX_DIMS || (t.ndim > 0 && t.shape == nullptr)) {
      return InvalidArgument("input '", t.name, "' has a bad shape");
    }
    Shape shape(t.shape, t.shape + t.ndim);
    MLOS_ASSIGN_OR_RETURN(int64_t numel, NumElements(shape));
    const uint64_t nbytes = static_cast<uint64_t>(numel) * DTypeSize(dtype);
    if (nbytes != t.data_size || (nbytes > 0 && t.data == nullptr)) {
      return InvalidArgument("input '", t.name, "' of shape ", ShapeToString(shape), " needs ",
                             nbytes, " bytes, got ", t.data_size);
    }
    auto storage = Storage::Wrap(t.data, static_cast<size_t>(nbytes), nullptr);
    MLOS_ASSIGN_OR_RETURN(Tensor tensor,
                          Tensor::FromStorage(std::move(storage), dtype, std::move(shape)));
    named.emplace_back(t.name, std::move(tensor));
  }
  // SMI 1.2 bindings, when the host's sink is new enough to carry them. The memory may be a
  // client's shared memory, so private_memory stays false: only floating outputs are placed.
  const size_t covers_bindings =
      offsetof(smi_output_sink_t, num_bindings) + sizeof(sink->num_bindings);
  if (sink == nullptr || sink->struct_size < covers_bindings || sink->num_bindings == 0 ||
      sink->bindings == nullptr) {
    return session_->Run(named, outputs);
  }
  const std::vector<TensorInfo>& decl = session_->outputs();
  std::vector<graph::OutputBinding> bindings(decl.size());
  for (uint32_t k = 0; k < sink->num_bindings; ++k) {
    const smi_output_binding_t& b = sink->bindings[k];
    if (b.name == nullptr || b.data == nullptr || b.capacity == 0) continue;
    for (size_t i = 0; i < decl.size(); ++i) {
      if (bindings[i].data == nullptr && std::strcmp(decl[i].name.c_str(), b.name) == 0) {
        bindings[i].data = b.data;
        bindings[i].capacity = static_cast<size_t>(b.capacity);
        break;
      }
    }
  }
  return session_->RunInto(named, bindings, outputs);
}

smi_status_t OnnxModel::Describe(smi_model_info_t* info) const {
  if (session_ == nullptr) return SMI_ERROR_NOT_FOUND;
  const size_t size = info->struct_size;
  auto covers = [size](size_t offset, size_t n) { return size >= offset + n; };
  if (covers(offsetof(smi_model_info_t, num_inputs), sizeof(uint32_t))) {
    info->num_inputs = static_cast<uint32_t>(in_desc_.size());
  }
  if (covers(offsetof(smi_model_info_t, num_outputs), sizeof(uint32_t))) {
    info->num_outputs = static_cast<uint32_t>(out_desc_.size());
  }
  if (covers(offsetof(smi_model_info_t, inputs), sizeof(void*))) info->inputs = in_desc_.data();
  if (covers(offsetof(smi_model_info_t, outputs), sizeof(void*))) info->outputs = out_desc_.data();
  if (covers(offsetof(smi_model_info_t, description), sizeof(void*))) {
    info->description = "ONNX model on the MLOS native engine";
  }
  return SMI_SUCCESS;
}

}  // namespace mlos::onnx_plugin
