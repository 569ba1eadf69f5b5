// PluginHostImpl: the table of loaded plugins, plugin selection and model loading.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>

#ifdef MLOS_HAVE_ONNX_BUILTIN
#include "plugins/onnx/onnx_plugin.h"
#endif
#include "runtime/plugin_host.h"
#include "runtime/plugin_host_library.h"
#include "runtime/plugin_host_model.h"

#ifndef MLOS_PYTHON_HOST_BUILD_PATH
#define MLOS_PYTHON_HOST_BUILD_PATH ""
#endif
#ifndef MLOS_PYTHON_HOST_INSTALL_PATH
#define MLOS_PYTHON_HOST_INSTALL_PATH "/usr/local/lib/mlos/libmlos_smi_python.so"
#endif
#ifndef MLOS_PYTHON_PATH_BUILD
#define MLOS_PYTHON_PATH_BUILD ""
#endif
#ifndef MLOS_PYTHON_PATH_INSTALL
#define MLOS_PYTHON_PATH_INSTALL "/usr/local/lib/mlos/python"
#endif

namespace mlos::runtime {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

constexpr size_t kMaxTrainingJson = size_t{64} << 20;  // a status list is far smaller

// PluginTrainer over one plugin's smi_training_api_t. Strings the plugin hands out are copied
// without trusting them and given back with its free_string.
class PluginTrainerImpl final : public PluginTrainer {
 public:
  explicit PluginTrainerImpl(std::shared_ptr<PluginInstance> plugin)
      : plugin_(std::move(plugin)), api_(*plugin_->training()) {}

  const std::string& plugin_id() const override { return plugin_->id(); }

  Result<std::string> Start(const std::string& request_json) override {
    char* out = nullptr;
    Status s = plugin_->GuardConcurrent(
        "train_start", [&] { return api_.train_start(api_.ctx, request_json.c_str(), &out); });
    return TakeString(s, out, "train_start id");
  }

  Status Control(const std::string& id, int32_t op) override {
    return plugin_->GuardConcurrent("train_control",
                                    [&] { return api_.train_control(api_.ctx, id.c_str(), op); });
  }

  Result<std::string> StatusJson(const std::string& id) override {
    char* out = nullptr;
    Status s = plugin_->GuardConcurrent(
        "train_status", [&] { return api_.train_status(api_.ctx, id.c_str(), &out); });
    return TakeString(s, out, "train_status JSON");
  }

  Result<std::string> ListJson() override {
    if (api_.train_list == nullptr) return Unimplemented("plugin has no train_list");
    char* out = nullptr;
    Status s =
        plugin_->GuardConcurrent("train_list", [&] { return api_.train_list(api_.ctx, &out); });
    return TakeString(s, out, "train_list JSON");
  }

  Result<bool> Wait(const std::string& id, int64_t timeout_ms) override {
    if (api_.train_wait == nullptr) return Unimplemented("plugin has no train_wait");
    int32_t done = 0;
    MLOS_RETURN_IF_ERROR(plugin_->GuardConcurrent("train_wait", [&] {
      return api_.train_wait(api_.ctx, id.c_str(), std::max<int64_t>(0, timeout_ms), &done);
    }));
    return done != 0;
  }

 private:
  Result<std::string> TakeString(const Status& s, char* out, std::string_view what) {
    if (!s.ok()) {
      if (out != nullptr) api_.free_string(api_.ctx, out);
      return s;
    }
    Result<std::string> copy =
        SafeCopyString(out, kMaxTrainingJson, StrCat("plugin '", plugin_->id(), "': ", what));
    if (out != nullptr) api_.free_string(api_.ctx, out);
    return copy;
  }

  std::shared_ptr<PluginInstance> plugin_;
  const smi_training_api_t api_;  // the host's copy (PluginInstance::training)
};

class PluginHostImpl final : public PluginHost {
 public:
  explicit PluginHostImpl(const PluginHostOptions& options) : options_(options) {
    auto services = std::make_shared<HostServices>();
    services->pool = options.pool;
    if (options.log) {
      auto log = options.log;
      services->log = [log](int level, std::string_view id, std::string_view msg) {
        log(level, id, msg);
      };
    }
    services_ = std::move(services);
  }

  Status LoadBuiltins() {
    if (!options_.load_builtins) return Status::OK();
#ifdef MLOS_HAVE_ONNX_BUILTIN
    PluginOpenOptions o;
    o.path = "builtin";
    o.builtin_init = &mlos_onnx_builtin_plugin_init;
    MLOS_ASSIGN_OR_RETURN(auto p, PluginInstance::Open(o, services_));
    std::unique_lock lock(mu_);
    plugins_.push_back({std::move(p), true});
#endif
    return Status::OK();
  }

  Result<PluginInfo> RegisterPlugin(const std::string& id, const std::string& name,
                                    const std::string& version,
                                    const std::string& library_path) override {
    std::string path = library_path;
    if (path.rfind("file://", 0) == 0) {
      path = path.substr(7);
    } else if (path.find("://") != std::string::npos) {
      return InvalidArgument("plugin endpoint '", library_path,
                             "' must be a file:///absolute/path to a shared library or .py file");
    }
    if (path.empty() || path[0] != '/') {
      return InvalidArgument("plugin endpoint '", library_path, "' must be an absolute path");
    }
    if (!id.empty()) {
      std::shared_lock lock(mu_);
      if (FindLocked(id) != nullptr)
        return AlreadyExists("plugin '", id, "' is already registered");
    }
    PluginOpenOptions o;
    o.id = id;
    o.name = name;
    o.version = version;
    o.path = path;
    if (EndsWith(path, ".py")) {
      if (!IsFile(path)) return NotFound("Python plugin ", path, " does not exist");
      MLOS_ASSIGN_OR_RETURN(o.path, PythonHostLibrary());
      o.private_copy = true;  // one copy of the Python host per script
      if (o.id.empty()) {
        // The Python host's own plugin_id is generic; name the plugin after its script.
        std::string stem = path.substr(path.rfind('/') + 1);
        stem = stem.substr(0, stem.size() - 3);
        for (char& c : stem) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
        }
        o.id = stem;
      }
      o.config = StrCat("{\"script\":\"", JsonEscape(path), "\",\"python_path\":\"",
                        JsonEscape(PythonPath()), "\"}");
    }
    MLOS_ASSIGN_OR_RETURN(auto p, PluginInstance::Open(o, services_));
    if (EndsWith(path, ".py")) p->SetPath(path);
    PluginInfo info = p->info();
    std::unique_lock lock(mu_);
    if (FindLocked(info.id) != nullptr) {
      lock.unlock();
      return AlreadyExists("plugin '", info.id, "' is already registered");
    }
    plugins_.push_back({std::move(p), false});
    return info;
  }

  Status UnregisterPlugin(const std::string& id) override {
    std::shared_ptr<PluginInstance> victim;
    {
      std::unique_lock lock(mu_);
      auto it = std::find_if(plugins_.begin(), plugins_.end(),
                             [&](const Entry& e) { return e.plugin->id() == id; });
      if (it == plugins_.end()) return NotFound("plugin '", id, "' is not registered");
      if (it->builtin) return FailedPrecondition("plugin '", id, "' is built in");
      victim = std::move(it->plugin);
      plugins_.erase(it);
    }
    // Models still using it keep it loaded; the last one closes the library. If none does, it
    // is closed here, outside the lock.
    return Status::OK();
  }

  std::vector<PluginInfo> ListPlugins() const override {
    std::shared_lock lock(mu_);
    std::vector<PluginInfo> out;
    out.reserve(plugins_.size());
    for (const auto& e : plugins_) {
      PluginInfo info = e.plugin->info();
      info.models_loaded = e.plugin->models();
      out.push_back(std::move(info));
    }
    return out;
  }

  Status LoadPluginDirectory(const std::string& dir) override {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return Status::OK();
    std::vector<std::string> files;
    while (dirent* ent = readdir(d)) {
      std::string n = ent->d_name;
      if ((n.rfind("lib", 0) == 0 && EndsWith(n, ".so")) || EndsWith(n, ".py")) {
        files.push_back(dir + "/" + n);
      }
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (!IsFile(f)) continue;
      auto r = RegisterPlugin("", "", "", f);
      if (!r.ok()) {
        HostLog(services_.get(), SMI_LOG_WARNING, "host",
                StrCat("skipping plugin ", f, ": ", r.status().ToString()));
      } else {
        HostLog(services_.get(), SMI_LOG_INFO, "host",
                StrCat("loaded plugin '", r->id, "' from ", f));
      }
    }
    return Status::OK();
  }

  Result<std::string> SelectPlugin(const std::string& framework,
                                   const std::string& execution_format,
                                   const std::string& explicit_plugin_id) const override {
    std::shared_lock lock(mu_);
    if (!explicit_plugin_id.empty()) {
      if (FindLocked(explicit_plugin_id) == nullptr) {
        return NotFound("plugin '", explicit_plugin_id, "' is not registered");
      }
      return explicit_plugin_id;
    }
    // A plugin made for the format (its first-listed framework) beats one that also takes it.
    for (const auto& key : {execution_format, framework}) {
      for (const auto& e : plugins_) {
        if (e.plugin->SupportsFirst(key)) return e.plugin->id();
      }
    }
    for (const auto& key : {framework, execution_format}) {
      for (const auto& e : plugins_) {
        if (e.plugin->Supports(key)) return e.plugin->id();
      }
    }
    std::string known;
    for (const auto& e : plugins_) known += StrCat(known.empty() ? "" : ", ", e.plugin->id());
    return NotFound("no plugin supports framework '", framework, "' or execution format '",
                    execution_format, "' (registered: ", known.empty() ? "none" : known, ")");
  }

  Result<std::shared_ptr<PluginTrainer>> OpenTrainer(const std::string& plugin_id) override {
    std::shared_ptr<PluginInstance> plugin;
    {
      std::shared_lock lock(mu_);
      if (!plugin_id.empty()) {
        plugin = FindLocked(plugin_id);
        if (plugin == nullptr) return NotFound("plugin '", plugin_id, "' is not registered");
        if (plugin->training() == nullptr) {
          return Unavailable("plugin '", plugin_id, "' has no training entries");
        }
      } else {
        for (const auto& e : plugins_) {
          if (e.plugin->training() != nullptr) {
            plugin = e.plugin;
            break;
          }
        }
      }
    }
    if (plugin == nullptr) return Unavailable("no training plugin loaded (libmlos_torch.so)");
    return std::shared_ptr<PluginTrainer>(std::make_shared<PluginTrainerImpl>(std::move(plugin)));
  }

  Result<std::shared_ptr<LoadedModel>> LoadModel(const std::string& plugin_id,
                                                 const std::string& model_id,
                                                 const std::string& path) override {
    return LoadModelWithMetadata(plugin_id, model_id, path, "", "");
  }

  Result<std::shared_ptr<LoadedModel>> LoadModelWithMetadata(
      const std::string& plugin_id, const std::string& model_id, const std::string& path,
      const std::string& framework, const std::string& execution_format) override {
    std::shared_ptr<PluginInstance> plugin;
    {
      std::shared_lock lock(mu_);
      plugin = FindLocked(plugin_id);
    }
    if (plugin == nullptr) return NotFound("plugin '", plugin_id, "' is not registered");
    ModelLoadRequest req{model_id, path, framework, execution_format};
    MLOS_ASSIGN_OR_RETURN(auto model, PluginModel::Load(std::move(plugin), req));
    return std::shared_ptr<LoadedModel>(std::move(model));
  }

 private:
  struct Entry {
    std::shared_ptr<PluginInstance> plugin;
    bool builtin = false;
  };

  std::shared_ptr<PluginInstance> FindLocked(const std::string& id) const {
    for (const auto& e : plugins_) {
      if (e.plugin->id() == id) return e.plugin;
    }
    return nullptr;
  }

  Result<std::string> PythonHostLibrary() const {
    std::vector<std::string> candidates = {options_.python_host_library};
    if (const char* env = getenv("MLOS_PYTHON_PLUGIN_HOST")) candidates.push_back(env);
    candidates.push_back(MLOS_PYTHON_HOST_BUILD_PATH);
    candidates.push_back(MLOS_PYTHON_HOST_INSTALL_PATH);
    for (const auto& c : candidates) {
      if (IsFile(c)) return c;
    }
    return Unavailable(
        "Python plugins need the Python plugin host (libmlos_smi_python.so), "
        "which was not found; set PluginHostOptions::python_host_library");
  }

  std::string PythonPath() const {
    for (const std::string& c : {options_.python_path, std::string(MLOS_PYTHON_PATH_BUILD),
                                 std::string(MLOS_PYTHON_PATH_INSTALL)}) {
      if (IsDir(c)) return c;
    }
    return "";
  }

  PluginHostOptions options_;
  std::shared_ptr<const HostServices> services_;
  mutable std::shared_mutex mu_;
  std::vector<Entry> plugins_;  // registration order: built-ins first
};

}  // namespace

Result<std::unique_ptr<PluginHost>> CreatePluginHost(const PluginHostOptions& options) {
  auto host = std::make_unique<PluginHostImpl>(options);
  MLOS_RETURN_IF_ERROR(host->LoadBuiltins());
  return std::unique_ptr<PluginHost>(std::move(host));
}

}  // namespace mlos::runtime
