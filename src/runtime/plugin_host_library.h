// PluginInstance: one loaded SMI plugin (a dlopen'ed library or a built-in descriptor), with its
// descriptor validated once at load and every call into it guarded.
//
// Ownership: shared. The host's plugin table and every model loaded through the plugin hold a
// shared_ptr; the last one to go calls the plugin's cleanup and closes the library.
// Thread-safety: Guard() serialises calls unless the plugin declares
// SMI_PLUGIN_FLAG_THREAD_SAFE; everything else is immutable after Open.
// Containment: Guard() converts status codes, set_error messages and C++ exceptions thrown by
// the plugin into a Status; strings and tables the plugin returns are read with SafeCopy*.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlos/smi_spec.h"
#include "mlos/status.h"
#include "runtime/plugin_host.h"
#include "runtime/plugin_host_api.h"

namespace mlos::runtime {

struct PluginOpenOptions {
  std::string id;             // registration id; empty: the plugin's own plugin_id
  std::string name;           // empty: get_plugin_name() or the id
  std::string version;        // empty: get_plugin_version()
  std::string path;           // library path, or "builtin"
  std::string config = "{}";  // JSON for initialize()
  // For built-ins: the descriptor factory (no dlopen). Built-ins are trusted with adopt().
  smi_plugin_init_fn builtin_init = nullptr;
  // Load a private copy of the library (memfd) even when the path is not loaded yet; used for
  // hosts of script plugins, whose state is per copy.
  bool private_copy = false;
};

using TensorInferenceFn = smi_status_t (*)(smi_model_handle_t, const smi_tensor_t*, size_t,
                                           const smi_output_sink_t*);

class PluginInstance {
 public:
  // `services` outlive the host: models and adopted outputs may hold the plugin after it.
  static Result<std::shared_ptr<PluginInstance>> Open(const PluginOpenOptions& options,
                                                      std::shared_ptr<const HostServices> services);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const PluginInfo& info() const { return info_; }
  const std::string& id() const { return info_.id; }
  const smi_plugin_interface_t& vtable() const { return vtable_; }
  // Members of the extension table the plugin provides (NULL where absent).
  TensorInferenceFn tensor_inference() const { return tensor_inference_; }
  bool trusted() const { return trusted_; }
  const HostServices* services() const { return services_.get(); }
  bool Supports(const std::string& framework) const;
  // True if `framework` is the first one the plugin lists (the format it is made for).
  bool SupportsFirst(const std::string& framework) const;
  // For script plugins: report the script rather than the host library (before publishing).
  void SetPath(std::string path) { info_.path = std::move(path); }

  // Runs `fn` (returning smi_status_t) as call `entry` into the plugin: sets the call context,
  // takes the plugin's lock unless it is thread-safe, catches exceptions, maps the result.
  template <typename Fn>
  Status Guard(const char* entry, Fn&& fn) const {
    CallScope scope(services_.get(), info_.id);
    std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
    if (!thread_safe_) lock.lock();
    int32_t rc;
    try {
      rc = static_cast<int32_t>(fn());
    } catch (const std::exception& e) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an exception: ", e.what());
    } catch (...) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an unknown exception");
    }
    if (rc == SMI_SUCCESS) return Status::OK();
    return StatusFromSmi(rc, info_.id, entry, scope.error());
  }
  // Like Guard, without the plugin's lock: for entries the spec declares concurrent (training).
  template <typename Fn>
  Status GuardConcurrent(const char* entry, Fn&& fn) const {
    CallScope scope(services_.get(), info_.id);
    int32_t rc;
    try {
      rc = static_cast<int32_t>(fn());
    } catch (const std::exception& e) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an exception: ", e.what());
    } catch (...) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an unknown exception");
    }
    if (rc == SMI_SUCCESS) return Status::OK();
    return StatusFromSmi(rc, info_.id, entry, scope.error());
  }
  // The training table (SMI 1.1), copied as far as its struct_size reaches; NULL when the
  // plugin has none. Entries the plugin left out are NULL in the copy.
  const smi_training_api_t* training() const { return has_training_ ? &training_ : nullptr; }
  // Like Guard, but hands the raw status code back (for SMI_ERROR_BUFFER_TOO_SMALL retries).
  template <typename Fn>
  Status GuardCode(const char* entry, int32_t* code, Fn&& fn) const {
    CallScope scope(services_.get(), info_.id);
    std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
    if (!thread_safe_) lock.lock();
    try {
      *code = static_cast<int32_t>(fn());
    } catch (const std::exception& e) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an exception: ", e.what());
    } catch (...) {
      return Internal("plugin '", info_.id, "': ", entry, " threw an unknown exception");
    }
    if (*code == SMI_SUCCESS || *code == SMI_ERROR_BUFFER_TOO_SMALL) return Status::OK();
    return StatusFromSmi(*code, info_.id, entry, scope.error());
  }

  // Models currently loaded through this plugin (for PluginInfo::models_loaded).
  void AddModel() { ++models_; }
  void RemoveModel() { --models_; }
  int models() const { return models_.load(); }

 private:
  PluginInstance() = default;
  Status Init(const PluginOpenOptions& options);
  Status ReadDescriptor(const smi_plugin_t* plugin);
  Status ReadExtension();
  Status ReadTraining();

  PluginInfo info_;
  void* dl_ = nullptr;  // dlopen handle; null for built-ins
  int memfd_ = -1;      // private copy of the library, if any
  bool initialized_ = false;
  bool trusted_ = false;
  bool thread_safe_ = false;
  smi_plugin_interface_t vtable_{};
  TensorInferenceFn tensor_inference_ = nullptr;
  smi_status_t (*set_host_)(const smi_host_api_t*) = nullptr;
  const smi_plugin_ext_t* ext_ = nullptr;  // the plugin's table, re-read after initialize
  smi_training_api_t training_{};
  bool has_training_ = false;
  std::shared_ptr<const HostServices> services_;
  mutable std::mutex mu_;
  std::atomic<int> models_{0};
};

// Checks an SMI version against the host's: equal major, plugin minor <= host minor.
Status CheckSmiVersion(uint32_t plugin_version, std::string_view who);
std::string SmiVersionString(uint32_t v);

}  // namespace mlos::runtime
