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

#include <memory>
#include <string>
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
};

class PluginHost {
 public:
  virtual ~PluginHost() = default;

  // Registers a plugin from a shared library exporting smi_plugin_init; checks the ABI version.
  virtual Result<PluginInfo> RegisterPlugin(const std::string& id, const std::string& name,
                                            const std::string& version,
                                            const std::string& library_path) = 0;
  // Unregisters; the library unloads once no LoadedModel uses it. NotFound if unknown;
  // FailedPrecondition for built-in plugins.
  virtual Status UnregisterPlugin(const std::string& id) = 0;
  virtual std::vector<PluginInfo> ListPlugins() const = 0;
  // Loads every lib*.so in `dir` (missing dir is not an error); failures are logged, not fatal.
  virtual Status LoadPluginDirectory(const std::string& dir) = 0;

  // The plugin for a model: `explicit_plugin_id` if given (NotFound if unknown), else the first
  // plugin that supports `framework` or `execution_format` (e.g. "onnx", "pytorch").
  virtual Result<std::string> SelectPlugin(const std::string& framework,
                                           const std::string& execution_format,
                                           const std::string& explicit_plugin_id) const = 0;
  // Loads the model files at `path` with the given plugin.
  virtual Result<std::shared_ptr<LoadedModel>> LoadModel(const std::string& plugin_id,
                                                         const std::string& model_id,
                                                         const std::string& path) = 0;
};

struct PluginHostOptions {
  ThreadPool* pool = nullptr;  // the shared compute pool, handed to built-in plugins
  bool load_builtins = true;   // register onnx-runtime-builtin (and other built-ins)
};

// The host implementation (src/runtime/plugin_host_impl.cc).
Result<std::unique_ptr<PluginHost>> CreatePluginHost(const PluginHostOptions& options);

}  // namespace mlos::runtime
