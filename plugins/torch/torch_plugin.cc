// mlos-torch: the SMI plugin for TorchScript models (.pt files written by torch.jit.save or by
// the training manager), on Debian's libtorch: models and inference. Training sessions are in
// torch_training.cc.
//
// Training: the SMI 1.1 training entries are in torch_training.cc (TrainingManager of
// src/training, owned by the plugin); cleanup stops its sessions.
// Entry points: typed tensor inference (ext->tensor_inference; inputs are wrapped in place with
// torch::from_blob, outputs are handed to the host with adopt, no copies); the byte-level
// `inference` is left NULL (allowed by docs/SMI.md). Saving a model is done by whoever trains it
// (src/training writes TorchScript with Module::save); the plugin serves what it loads.
// Threads: `initialize` / `allocate_resources` accept {"threads": N}; each call runs with
// at::set_num_threads(N) on its calling thread.
// Thread-safety: a model's forward is run under that model's mutex (TorchScript modules are not
// documented as safe for concurrent forward calls), so the descriptor sets THREAD_SAFE.
// Exceptions from libtorch never cross the C boundary: every entry point catches them.
#include "plugins/torch/torch_plugin.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "mlos/smi_spec.h"

namespace {

const smi_host_api_t* g_host = nullptr;
std::atomic<int> g_threads{1};

// libtorch's messages carry a C++ backtrace ("Exception raised from ...") and can run to many
// kilobytes, past what the host reads (4096 bytes, docs/SMI.md "Errors"): keep the message, drop
// the trace.
std::string ShortMessage(const std::string& message) {
  constexpr size_t kMax = 2048;
  std::string m = message.substr(0, message.find("\nException raised from"));
  if (m.size() > kMax) m = m.substr(0, kMax) + " [...]";
  return m;
}

smi_status_t Fail(smi_status_t code, const std::string& message) {
  if (g_host != nullptr && g_host->set_error != nullptr) {
    g_host->set_error(ShortMessage(message).c_str());
  }
  return code;
}

// Reads "threads": N from a small JSON object; other keys are ignored. Returns -1 if absent.
int ParseThreads(const char* json) {
  if (json == nullptr) return -1;
  const char* p = std::strstr(json, "\"threads\"");
  if (p == nullptr) return -1;
  p = std::strchr(p + 9, ':');
  if (p == nullptr) return -1;
  char* end = nullptr;
  long v = std::strtol(p + 1, &end, 10);
  if (end == p + 1 || v < 1 || v > 1024) return -1;
  return static_cast<int>(v);
}

bool DTypeToTorch(int32_t code, c10::ScalarType* out) {
  switch (code) {
    case SMI_DTYPE_FLOAT32:
      *out = c10::kFloat;
      return true;
    case SMI_DTYPE_FLOAT64:
      *out = c10::kDouble;
      return true;
    case SMI_DTYPE_FLOAT16:
      *out = c10::kHalf;
      return true;
    case SMI_DTYPE_BFLOAT16:
      *out = c10::kBFloat16;
      return true;
    case SMI_DTYPE_INT8:
      *out = c10::kChar;
      return true;
    case SMI_DTYPE_UINT8:
      *out = c10::kByte;
      return true;
    case SMI_DTYPE_INT16:
      *out = c10::kShort;
      return true;
    case SMI_DTYPE_INT32:
      *out = c10::kInt;
      return true;
    case SMI_DTYPE_INT64:
      *out = c10::kLong;
      return true;
    case SMI_DTYPE_BOOL:
      *out = c10::kBool;
      return true;
    default:
      return false;
  }
}

int32_t DTypeFromTorch(c10::ScalarType t) {
  switch (t) {
    case c10::kFloat:
      return SMI_DTYPE_FLOAT32;
    case c10::kDouble:
      return SMI_DTYPE_FLOAT64;
    case c10::kHalf:
      return SMI_DTYPE_FLOAT16;
    case c10::kBFloat16:
      return SMI_DTYPE_BFLOAT16;
    case c10::kChar:
      return SMI_DTYPE_INT8;
    case c10::kByte:
      return SMI_DTYPE_UINT8;
    case c10::kShort:
      return SMI_DTYPE_INT16;
    case c10::kInt:
      return SMI_DTYPE_INT32;
    case c10::kLong:
      return SMI_DTYPE_INT64;
    case c10::kBool:
      return SMI_DTYPE_BOOL;
    default:
      return SMI_DTYPE_UNDEFINED;
  }
}

// One registered model. Descriptors are built at load from forward's schema: inputs are its
// tensor arguments by name (shape unknown: one dynamic dimension each is not claimed, ndim 0
// with shape NULL means "any"); outputs are output0..N-1 (a tuple or list gives N > 1).
struct TorchModel {
  std::mutex mu;
  bool loaded = false;
  torch::jit::Module module;
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  std::vector<smi_tensor_desc_t> input_descs;
  std::vector<smi_tensor_desc_t> output_descs;
};

smi_status_t SetHost(const smi_host_api_t* host) {
  g_host = host;
  return SMI_SUCCESS;
}

smi_status_t Initialize(const char* config) {
  int t = ParseThreads(config);
  if (t > 0) g_threads = t;
  return SMI_SUCCESS;
}

smi_status_t Cleanup(void) {
  try {
    mlos::torch_plugin::ShutdownTraining();
  } catch (...) {
    return Fail(SMI_ERROR_RUNTIME, "stopping training sessions failed");
  }
  return SMI_SUCCESS;
}

smi_status_t RegisterModel(const char*, smi_model_handle_t* out_handle) {
  if (out_handle == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "out_handle is NULL");
  auto* m = new (std::nothrow) TorchModel();
  if (m == nullptr) return Fail(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
  *out_handle = m;
  return SMI_SUCCESS;
}

smi_status_t UnregisterModel(smi_model_handle_t handle) {
  delete static_cast<TorchModel*>(handle);
  return SMI_SUCCESS;
}

// A folder holds model.pt (preferred) or the first *.pt; a file is taken as it is.
std::string ResolvePath(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;
  if (std::filesystem::exists(path + "/model.pt", ec)) return path + "/model.pt";
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    if (e.path().extension() == ".pt") found.push_back(e.path().string());
  }
  if (found.empty()) return path + "/model.pt";
  std::sort(found.begin(), found.end());
  return found[0];
}

smi_status_t LoadModel(smi_model_handle_t handle, const char* path) {
  if (handle == nullptr || path == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  auto* m = static_cast<TorchModel*>(handle);
  const std::string file = ResolvePath(path);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return Fail(SMI_ERROR_NOT_FOUND, "TorchScript model " + file + " does not exist");
  }
  try {
    torch::jit::Module mod = torch::jit::load(file, torch::kCPU);
    mod.eval();
    auto method = mod.find_method("forward");
    if (!method) return Fail(SMI_ERROR_INVALID_PARAM, "model " + file + " has no forward method");
    const auto& schema = method->function().getSchema();
    std::vector<std::string> in;
    const auto& args = schema.arguments();
    for (size_t i = 1; i < args.size(); ++i) in.push_back(args[i].name());  // 0 is self
    size_t n_out = 1;
    if (!schema.returns().empty()) {
      const auto& ret = schema.returns()[0].type();
      if (auto tup = ret->cast<c10::TupleType>()) n_out = tup->elements().size();
    }
    std::lock_guard<std::mutex> lock(m->mu);
    m->module = std::move(mod);
    m->input_names = std::move(in);
    m->output_names.clear();
    for (size_t i = 0; i < n_out; ++i) m->output_names.push_back("output" + std::to_string(i));
    m->input_descs.clear();
    for (const auto& n : m->input_names) {
      m->input_descs.push_back({n.c_str(), SMI_DTYPE_FLOAT32, 0, nullptr});
    }
    m->output_descs.clear();
    for (const auto& n : m->output_names) {
      m->output_descs.push_back({n.c_str(), SMI_DTYPE_FLOAT32, 0, nullptr});
    }
    m->loaded = true;
  } catch (const std::exception& e) {
    return Fail(SMI_ERROR_RUNTIME, "cannot load TorchScript model " + file + ": " + e.what());
  }
  return SMI_SUCCESS;
}

smi_status_t UnloadModel(smi_model_handle_t handle) {
  if (handle == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL handle");
  auto* m = static_cast<TorchModel*>(handle);
  std::lock_guard<std::mutex> lock(m->mu);
  m->module = torch::jit::Module();
  m->loaded = false;
  return SMI_SUCCESS;
}

smi_status_t AllocateResources(const char* resources) {
  int t = ParseThreads(resources);
  if (t > 0) g_threads = t;
  return SMI_SUCCESS;
}

smi_status_t DeallocateResources(void) { return SMI_SUCCESS; }

smi_status_t GetModelInfo(smi_model_handle_t handle, smi_model_info_t* info) {
  if (handle == nullptr || info == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  auto* m = static_cast<TorchModel*>(handle);
  std::lock_guard<std::mutex> lock(m->mu);
  if (!m->loaded) return Fail(SMI_ERROR_NOT_FOUND, "model is not loaded");
  const uint32_t size = info->struct_size;
  auto covers = [size](size_t end) { return size >= end; };
  if (covers(offsetof(smi_model_info_t, num_outputs) + sizeof(uint32_t))) {
    info->num_inputs = static_cast<uint32_t>(m->input_descs.size());
    info->num_outputs = static_cast<uint32_t>(m->output_descs.size());
  }
  if (covers(offsetof(smi_model_info_t, outputs) + sizeof(void*))) {
    info->inputs = m->input_descs.data();
    info->outputs = m->output_descs.data();
  }
  if (covers(offsetof(smi_model_info_t, description) + sizeof(void*))) {
    info->description = "TorchScript module (libtorch)";
  }
  return SMI_SUCCESS;
}

const char* PluginName(void) { return "MLOS PyTorch (libtorch TorchScript)"; }
const char* PluginVersion(void) { return "0.1.0"; }
const char* Frameworks(void) { return "pytorch,torchscript"; }
uint32_t SmiVersion(void) { return SMI_VERSION; }

// Finds the input for forward argument `name`; when no input carries that name, inputs are
// taken by position (a host that knows no names sends them in declared order).
const smi_tensor_t* FindInput(const smi_tensor_t* inputs, size_t n, const std::string& name,
                              size_t position) {
  for (size_t i = 0; i < n; ++i) {
    if (inputs[i].name != nullptr && name == inputs[i].name) return &inputs[i];
  }
  return position < n ? &inputs[position] : nullptr;
}

smi_status_t TensorInference(smi_model_handle_t handle, const smi_tensor_t* inputs,
                             size_t num_inputs, const smi_output_sink_t* sink) {
  if (handle == nullptr || sink == nullptr || (inputs == nullptr && num_inputs > 0)) {
    return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  }
  auto* m = static_cast<TorchModel*>(handle);
  std::lock_guard<std::mutex> lock(m->mu);
  if (!m->loaded) return Fail(SMI_ERROR_NOT_FOUND, "model is not loaded");
  if (num_inputs != m->input_names.size()) {
    return Fail(SMI_ERROR_INVALID_PARAM, "model takes " + std::to_string(m->input_names.size()) +
                                             " inputs, got " + std::to_string(num_inputs));
  }
  try {
    std::vector<c10::IValue> args;
    args.reserve(num_inputs);
    for (size_t i = 0; i < m->input_names.size(); ++i) {
      const smi_tensor_t* t = FindInput(inputs, num_inputs, m->input_names[i], i);
      c10::ScalarType st;
      if (t == nullptr || !DTypeToTorch(t->dtype, &st)) {
        return Fail(SMI_ERROR_INVALID_PARAM,
                    "input '" + m->input_names[i] + "' is missing or has an unsupported dtype");
      }
      if (t->ndim > SMI_MAX_DIMS || (t->ndim > 0 && t->shape == nullptr)) {
        return Fail(SMI_ERROR_INVALID_PARAM, "input '" + m->input_names[i] + "' has a bad shape");
      }
      std::vector<int64_t> shape(t->shape, t->shape + t->ndim);
      uint64_t count = 1;
      for (int64_t d : shape) {
        if (d < 0 || (d > 0 && count > UINT64_MAX / static_cast<uint64_t>(d))) {
          return Fail(SMI_ERROR_INVALID_PARAM, "input '" + m->input_names[i] + "' bad shape");
        }
        count *= static_cast<uint64_t>(d);
      }
      const uint64_t elem = c10::elementSize(st);
      if (count > UINT64_MAX / elem || count * elem != t->data_size ||
          (t->data == nullptr && t->data_size > 0)) {
        return Fail(SMI_ERROR_INVALID_PARAM,
                    "input '" + m->input_names[i] + "' has " + std::to_string(t->data_size) +
                        " bytes, shape needs " + std::to_string(count * elem));
      }
      // Read in place: the host keeps the bytes alive during the call and forward does not
      // write its inputs in inference mode.
      args.emplace_back(torch::from_blob(t->data, shape, torch::TensorOptions().dtype(st)));
    }
    at::set_num_threads(g_threads.load());
    c10::InferenceMode guard;
    c10::IValue out = m->module.forward(args);
    std::vector<at::Tensor> outs;
    if (out.isTensor()) {
      outs.push_back(out.toTensor());
    } else if (out.isTuple()) {
      for (const auto& e : out.toTupleRef().elements()) {
        if (!e.isTensor()) return Fail(SMI_ERROR_NOT_SUPPORTED, "model returns a non-tensor");
        outs.push_back(e.toTensor());
      }
    } else if (out.isTensorList()) {
      for (const auto& e : out.toTensorVector()) outs.push_back(e);
    } else {
      return Fail(SMI_ERROR_NOT_SUPPORTED, "model output is not a tensor or tuple of tensors");
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      const int32_t code = DTypeFromTorch(outs[i].scalar_type());
      if (code == SMI_DTYPE_UNDEFINED) {
        return Fail(SMI_ERROR_NOT_SUPPORTED, "output " + std::to_string(i) + " has dtype " +
                                                 std::string(c10::toString(outs[i].scalar_type())));
      }
      auto* keep = new (std::nothrow) at::Tensor(outs[i].contiguous());
      if (keep == nullptr) return Fail(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
      const std::string name =
          i < m->output_names.size() ? m->output_names[i] : "output" + std::to_string(i);
      std::vector<int64_t> shape = keep->sizes().vec();
      smi_status_t rc = sink->adopt(
          sink->ctx, name.c_str(), code, shape.data(), static_cast<uint32_t>(shape.size()),
          keep->data_ptr(), [](void* p) { delete static_cast<at::Tensor*>(p); }, keep);
      if (rc != SMI_SUCCESS) return rc;  // the host released `keep`
    }
  } catch (const std::exception& e) {
    return Fail(SMI_ERROR_RUNTIME, std::string("TorchScript forward failed: ") + e.what());
  }
  return SMI_SUCCESS;
}

const smi_plugin_ext_t kExt = {sizeof(smi_plugin_ext_t), 0, &SetHost, &TensorInference};

smi_plugin_t g_plugin = {
    {&Initialize, &Cleanup, &RegisterModel, &UnregisterModel, &LoadModel, &UnloadModel, nullptr,
     nullptr, &AllocateResources, &DeallocateResources, &GetModelInfo, &PluginName, &PluginVersion,
     &Frameworks, &SmiVersion},
    "mlos-torch",
    SMI_VERSION,
    nullptr,
    sizeof(smi_plugin_t),
    SMI_PLUGIN_FLAG_THREAD_SAFE,
    &kExt,
};

}  // namespace

smi_status_t mlos::torch_plugin::SetError(smi_status_t code, const std::string& message) {
  return Fail(code, message);
}

extern "C" SMI_EXPORT smi_plugin_t* smi_plugin_init(void) { return &g_plugin; }
