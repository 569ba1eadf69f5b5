// onnx-runtime-builtin: the SMI vtable over graph::Session. Typed tensors go through
// ext->tensor_inference (inputs read in place, outputs computed into the host's output bindings
// or handed over with adopt, no copies); the seed's byte-level `inference` speaks JSON
// (onnx_plugin_json.cc).
#include "plugins/onnx/onnx_plugin.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "plugins/onnx/onnx_plugin_model.h"
#include "plugins/smi_batch_loop.h"
#include "runtime/plugin_host_dtype.h"
#include "runtime/smi_status.h"

namespace mlos::onnx_plugin {
namespace {

// Set once by set_host; the host's table is a process-wide constant.
const smi_host_api_t* g_host = nullptr;

smi_status_t Fail(smi_status_t code, const std::string& message) {
  if (g_host != nullptr && g_host->set_error != nullptr) g_host->set_error(message.c_str());
  return code;
}

smi_status_t FromStatus(const Status& s) {
  return Fail(runtime::SmiStatusFor(s.code()), s.message());
}

// A model path may name the .onnx file or a folder holding one (model.onnx preferred).
Result<std::string> ResolveModelFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound("model path ", path, " does not exist");
  if (!S_ISDIR(st.st_mode)) return path;
  if (stat((path + "/model.onnx").c_str(), &st) == 0) return path + "/model.onnx";
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return NotFound("cannot read model folder ", path);
  std::vector<std::string> found;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".onnx") == 0) found.push_back(n);
  }
  closedir(d);
  if (found.empty()) return NotFound("no .onnx file in model folder ", path);
  std::sort(found.begin(), found.end());
  return path + "/" + found[0];
}

smi_status_t SetHost(const smi_host_api_t* host) {
  g_host = host;
  return SMI_SUCCESS;
}

smi_status_t Initialize(const char*) { return SMI_SUCCESS; }
smi_status_t Cleanup(void) { return SMI_SUCCESS; }

smi_status_t RegisterModel(const char*, smi_model_handle_t* out_handle) {
  if (out_handle == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "out_handle is NULL");
  ThreadPool* pool = nullptr;
  if (g_host != nullptr && g_host->query != nullptr) {
    pool = static_cast<ThreadPool*>(g_host->query("mlos.thread_pool"));
  }
  auto* m = new (std::nothrow) OnnxModel(pool);
  if (m == nullptr) return Fail(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
  *out_handle = m;
  return SMI_SUCCESS;
}

smi_status_t UnregisterModel(smi_model_handle_t handle) {
  delete static_cast<OnnxModel*>(handle);
  return SMI_SUCCESS;
}

smi_status_t LoadModel(smi_model_handle_t handle, const char* path) {
  if (handle == nullptr || path == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  auto file = ResolveModelFile(path);
  if (!file.ok()) return FromStatus(file.status());
  Status s = static_cast<OnnxModel*>(handle)->Load(*file);
  return s.ok() ? SMI_SUCCESS : FromStatus(s);
}

smi_status_t UnloadModel(smi_model_handle_t handle) {
  if (handle == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL handle");
  static_cast<OnnxModel*>(handle)->Unload();
  return SMI_SUCCESS;
}

smi_status_t Inference(smi_model_handle_t handle, const void* input, size_t input_size,
                       void* output, size_t* output_size) {
  if (handle == nullptr || output_size == nullptr || (input == nullptr && input_size > 0)) {
    return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  }
  auto* m = static_cast<OnnxModel*>(handle);
  return m->InferJson(std::string_view(static_cast<const char*>(input), input_size), output,
                      output_size, &FromStatus);
}

smi_status_t BatchInference(smi_model_handle_t handle, const void* const* inputs,
                            const size_t* input_sizes, size_t batch_size, void** outputs,
                            size_t* output_sizes) {
  return plugins::BatchAsSingleInferences(&Inference, &Fail, handle, inputs, input_sizes,
                                          batch_size, outputs, output_sizes);
}

smi_status_t AllocateResources(const char*) { return SMI_SUCCESS; }
smi_status_t DeallocateResources(void) { return SMI_SUCCESS; }

smi_status_t GetModelInfo(smi_model_handle_t handle, smi_model_info_t* info) {
  if (handle == nullptr || info == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  return static_cast<OnnxModel*>(handle)->Describe(info);
}

const char* PluginName(void) { return "MLOS native ONNX engine"; }
const char* PluginVersion(void) { return "1.0.0"; }
const char* Frameworks(void) { return "onnx,pytorch,tensorflow,huggingface"; }
uint32_t SmiVersion(void) { return SMI_VERSION; }

// The zero-copy path: inputs wrap the caller's bytes, outputs are adopted by the host; an output
// the engine computed into its SMI 1.2 binding is adopted at the bound address, which tells the
// host it is already in place.
smi_status_t TensorInference(smi_model_handle_t handle, const smi_tensor_t* inputs,
                             size_t num_inputs, const smi_output_sink_t* sink) {
  if (handle == nullptr || sink == nullptr || (inputs == nullptr && num_inputs > 0)) {
    return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  }
  std::vector<Tensor> outs;
  auto* m = static_cast<OnnxModel*>(handle);
  Status s = m->Run(inputs, num_inputs, &outs, sink);
  if (!s.ok()) return FromStatus(s);
  const auto& decl = m->session()->outputs();
  for (size_t i = 0; i < outs.size(); ++i) {
    Tensor& t = outs[i];
    const int32_t code = runtime::SmiFromDType(t.dtype());
    if (code == SMI_DTYPE_UNDEFINED) {
      return Fail(SMI_ERROR_NOT_SUPPORTED,
                  StrCat("output '", decl[i].name, "' has dtype ", DTypeName(t.dtype())));
    }
    if (!t.is_contiguous()) {
      auto c = t.Contiguous();
      if (!c.ok()) return FromStatus(c.status());
      t = std::move(*c);
    }
    auto* keep = new (std::nothrow) Tensor(std::move(t));
    if (keep == nullptr) return Fail(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
    smi_status_t rc = sink->adopt(
        sink->ctx, decl[i].name.c_str(), code, keep->shape().data(),
        static_cast<uint32_t>(keep->rank()), keep->raw_data(),
        [](void* p) { delete static_cast<Tensor*>(p); }, keep);
    if (rc != SMI_SUCCESS) return rc;  // the host has released `keep` and set the error
  }
  return SMI_SUCCESS;
}

const smi_plugin_ext_t kExt = {sizeof(smi_plugin_ext_t), 0, &SetHost, &TensorInference};

smi_plugin_t g_plugin = {
    {&Initialize, &Cleanup, &RegisterModel, &UnregisterModel, &LoadModel, &UnloadModel, &Inference,
     &BatchInference, &AllocateResources, &DeallocateResources, &GetModelInfo, &PluginName,
     &PluginVersion, &Frameworks, &SmiVersion},
    MLOS_ONNX_BUILTIN_PLUGIN_ID,
    SMI_VERSION,
    nullptr,
    sizeof(smi_plugin_t),
    SMI_PLUGIN_FLAG_THREAD_SAFE,
    &kExt,
};

}  // namespace
}  // namespace mlos::onnx_plugin

extern "C" smi_plugin_t* mlos_onnx_builtin_plugin_init(void) {
  return &mlos::onnx_plugin::g_plugin;
}
