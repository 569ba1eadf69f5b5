// PluginHost: loads SMI plugins (include/mlos/smi_spec.h) and serves models through them.
// Every backend, the built-in ONNX engine included, is reached through this class and the C ABI;
// the daemon, KernelAPI and the IPC server never call an engine directly.
//
// Thread-safety: all methods are safe to call concurrently. A LoadedModel keeps its plugin
// loaded (shared ownership), so unregistering a plugin while requests are in flight is safe:
// the library is closed when the last model using it is released.
// Errors: a plugin that fails, returns nonsense sizes or bad status codes yields a Status for
// that request; the host stays usable.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor_info.h"
#include "mlos/thread_pool.h"

namespace mlos::runtime {

struct PluginInfo {
  std::string id;
  std::string name;
  std::string version;
  std::string path;  // shared library, or "builtin"
  std::vector<std::string> frameworks;
  uint32_t smi_version = 0;
  int models_loaded = 0;
};

struct InferenceTiming {
  int64_t plugin_us = 0;  // time spent inside the plugin's inference entry
};

// Memory where the caller would like one output written (LoadedModel::InferInto), e.g. a client's
// shared-memory region: data + offset, the bytes it may hold, and the region as owner.
struct OutputBinding {
  void* data = nullptr;         // nullptr: this output is not bound
  size_t capacity = 0;          // bytes writable at data
  std::shared_ptr<void> owner;  // held by the output tensor that views data (may be null)
};

// One model loaded by one plugin.
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  virtual const std::string& plugin_id() const = 0;
  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs inference. Inputs by name; outputs come back named, in the order of outputs().
  virtual Status Infer(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
                       InferenceTiming* timing = nullptr) = 0;
  // As Infer, with bindings[i] for outputs()[i] (shorter: the rest unbound). A plugin that
  // computes output i straight into its binding (SMI 1.2 smi_output_binding_t; the built-in ONNX
  // plugin for floating outputs its kernels allocate) hands it back viewing the bound memory:
  // outputs[i].raw_data() == bindings[i].data, and the tensor holds the owner. Any other output
  // comes back as Infer gives it and the caller copies it where it has to go. Bound memory must
  // stay valid and writable during the call; its contents are unspecified after an error.
  virtual Status InferInto(const std::vector<NamedTensor>& inputs,
                           const std::vector<OutputBinding>& bindings,
                           std::vector<NamedTensor>* outputs, InferenceTiming* timing = nullptr) {
    (void)bindings;
    return Infer(inputs, outputs, timing);
  }

  // What the plugin implements: the typed tensor entry (ext->tensor_inference) and/or the
  // seed's byte-level `inference`. Infer works either way (a byte-only plugin gets the inputs
  // as JSON {"name": [flat values]} and its reply comes back as one uint8 tensor); InferRaw
  // needs the byte-level entry and passes the bytes through untouched (for the built-in ONNX
  // plugin: a JSON object of named inputs in, a JSON object of named outputs out).
  virtual bool has_tensor_inference() const { return true; }
  virtual bool has_raw_inference() const { return false; }
  virtual Status InferRaw(std::string_view input, std::string* output,
                          InferenceTiming* timing = nullptr) {
    (void)input;
    (void)output;
    (void)timing;
    return Status(StatusCode::kUnimplemented, "this model has no byte-level inference");
  }
};

// The training entries of one plugin (SMI 1.1 smi_training_api_t, docs/SMI.md "Training"),
// every call guarded like any other plugin call. Holds its plugin loaded. JSON in and out, as
// the ABI carries it (the shapes are those of runtime/training_json.h).
// Thread-safety: all methods may be called concurrently (the ABI requires it of the plugin).
class PluginTrainer {
 public:
  virtual ~PluginTrainer() = default;
  virtual const std::string& plugin_id() const = 0;
  // train_start with {"model_path", "dataset", "config", "resume"}; returns the plugin's id.
  virtual Result<std::string> Start(const std::string& request_json) = 0;
  // train_control with a smi_train_op_t (SMI_TRAIN_PAUSE, _RESUME, _STOP, _RELEASE).
  virtual Status Control(const std::string& id, int32_t op) = 0;
  virtual Result<std::string> StatusJson(const std::string& id) = 0;
  virtual Result<std::string> ListJson() = 0;
  // True when the session ended (completed, stopped, failed) within `timeout_ms`.
  virtual Result<bool> Wait(const std::string& id, int64_t timeout_ms) = 0;
};

class PluginHost {
 public:
  virtual ~PluginHost() = default;

  // Registers a plugin from a shared library exporting smi_plugin_init; checks the ABI version.
  // `library_path` is absolute, with or without a file:// prefix; a path ending in .py is a
  // Python plugin (served by the Python plugin host). An empty `id` takes the plugin's own
  // plugin_id, an empty name/version what the plugin reports.
  virtual Result<PluginInfo> RegisterPlugin(const std::string& id, const std::string& name,
                                            const std::string& version,
                                            const std::string& library_path) = 0;
  // Unregisters; the library unloads once no LoadedModel uses it. NotFound if unknown;
  // FailedPrecondition for built-in plugins.
  virtual Status UnregisterPlugin(const std::string& id) = 0;
  virtual std::vector<PluginInfo> ListPlugins() const = 0;
  // Loads every lib*.so and *.py in `dir` (missing dir is not an error); failures are logged,
  // not fatal.
  virtual Status LoadPluginDirectory(const std::string& dir) = 0;

  // The plugin for a model: `explicit_plugin_id` if given (NotFound if unknown); else a plugin
  // whose first-listed framework is `execution_format`, then one whose first-listed framework
  // is `framework` (so "pytorch" goes to the torch plugin although the ONNX built-in lists
  // pytorch too, and framework pytorch with execution format onnx still goes to ONNX); else the
  // first plugin (registration order) that lists `framework`, then `execution_format`.
  virtual Result<std::string> SelectPlugin(const std::string& framework,
                                           const std::string& execution_format,
                                           const std::string& explicit_plugin_id) const = 0;
  // Loads the model files at `path` with the given plugin.
  virtual Result<std::shared_ptr<LoadedModel>> LoadModel(const std::string& plugin_id,
                                                         const std::string& model_id,
                                                         const std::string& path) = 0;
  // The training entries of `plugin_id`, or (empty id) of the first registered plugin that has
  // them. Unavailable when no loaded plugin trains; NotFound for an unknown id.
  virtual Result<std::shared_ptr<PluginTrainer>> OpenTrainer(const std::string& plugin_id) {
    (void)plugin_id;
    return Unavailable("no training plugin loaded (libmlos_torch.so)");
  }
  // As LoadModel, also telling the plugin the manifest's framework and execution format (they
  // reach register_model's metadata JSON).
  virtual Result<std::shared_ptr<LoadedModel>> LoadModelWithMetadata(
      const std::string& plugin_id, const std::string& model_id, const std::string& path,
      const std::string& framework, const std::string& execution_format) {
    (void)framework;
    (void)execution_format;
    return LoadModel(plugin_id, model_id, path);
  }
};

struct PluginHostOptions {
  ThreadPool* pool = nullptr;  // the shared compute pool, handed to built-in plugins
  bool load_builtins = true;   // register onnx-runtime-builtin (and other built-ins)
  // Receives log lines from plugins and the host (level: 0 debug .. 3 error); empty: stderr.
  std::function<void(int level, std::string_view source, std::string_view message)> log;
  // The library that hosts Python plugins (libmlos_smi_python.so) and the folder holding the
  // mlos_smi package; empty: the build tree's, else the installed ones.
  std::string python_host_library;
  std::string python_path;
};

// The host implementation (src/runtime/plugin_host_impl.cc).
Result<std::unique_ptr<PluginHost>> CreatePluginHost(const PluginHostOptions& options);

}  // namespace mlos::runtime
