// The embedded KernelAPI's TrainingService: a plugin host of its own (no built-in engines)
// that loads the torch plugin, and the plugin-backed service on it.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "api/training_backend.h"
#include "runtime/log.h"
#include "runtime/plugin_host.h"
#include "runtime/training_service.h"
#include "runtime/training_service_plugin.h"

namespace mlos {

namespace {

namespace fs = std::filesystem;

// The same folder an embedded KernelAPI extracts archives to (kernel_api_embedded.cc).
std::string EmbeddedDataDir() {
  if (const char* d = std::getenv("MLOS_DATA_DIR"); d && *d) return d;
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.mlos/embedded";
  return "/tmp/mlos-embedded-" + std::to_string(getuid());
}

// Where libmlos_torch.so may be: $MLOS_PLUGINS_DIR, the build tree, the installed folders.
std::vector<std::string> PluginDirs() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("MLOS_PLUGINS_DIR"); d && *d) dirs.emplace_back(d);
#ifdef MLOS_BUILD_PLUGINS_DIR
  dirs.emplace_back(MLOS_BUILD_PLUGINS_DIR);
#endif
#ifdef MLOS_INSTALL_PLUGINS_DIR
  dirs.emplace_back(MLOS_INSTALL_PLUGINS_DIR);
#endif
  dirs.emplace_back("/usr/local/lib/mlos/plugins");
  return dirs;
}

// Owns the host the service trains on; the service goes first.
class OwningService : public runtime::TrainingService {
 public:
  OwningService(std::unique_ptr<runtime::PluginHost> host,
                std::unique_ptr<runtime::TrainingService> service)
      : host_(std::move(host)), service_(std::move(service)) {}
  ~OwningService() override { service_.reset(); }
  Result<std::string> Start(const runtime::TrainingRequest& r) override {
    return service_->Start(r);
  }
  Status Pause(const std::string& id) override { return service_->Pause(id); }
  Status Resume(const std::string& id) override { return service_->Resume(id); }
  Status Stop(const std::string& id) override { return service_->Stop(id); }
  Result<runtime::TrainingSessionInfo> Get(const std::string& id) const override {
    return service_->Get(id);
  }
  std::vector<runtime::TrainingSessionInfo> List() const override { return service_->List(); }
  Result<bool> Wait(const std::string& id, double timeout_s) const override {
    return service_->Wait(id, timeout_s);
  }

 private:
  std::unique_ptr<runtime::PluginHost> host_;
  std::unique_ptr<runtime::TrainingService> service_;
};

}  // namespace

Result<std::unique_ptr<runtime::TrainingService>> MakeEmbeddedTrainingService(ThreadPool* pool) {
  // A library inside someone else's program: the service's info lines ("training session
  // started") stay quiet unless MLOS_LOG_LEVEL asks for them; warnings and errors still show.
  Result<runtime::LogLevel> level = runtime::LogLevel::kWarn;
  if (const char* l = std::getenv("MLOS_LOG_LEVEL"); l && *l) level = runtime::ParseLogLevel(l);
  runtime::SetLogLevel(level.ok() ? *level : runtime::LogLevel::kWarn);
  runtime::PluginHostOptions opts;
  opts.pool = pool;
  opts.load_builtins = false;  // training needs only the torch plugin
  opts.log = [](int, std::string_view, std::string_view) {};
  MLOS_ASSIGN_OR_RETURN(std::unique_ptr<runtime::PluginHost> host, runtime::CreatePluginHost(opts));
  std::string found;
  std::error_code ec;
  for (const std::string& dir : PluginDirs()) {
    fs::path lib = fs::path(dir) / "libmlos_torch.so";
    if (!fs::exists(lib, ec)) continue;
    Result<runtime::PluginInfo> info =
        host->RegisterPlugin("", "", "", fs::absolute(lib, ec).string());
    if (info.ok()) {
      found = lib.string();
      break;
    }
  }
  if (found.empty()) {
    std::string where;
    for (const std::string& d : PluginDirs()) where += (where.empty() ? "" : ", ") + d;
    return Unavailable("training: libmlos_torch.so (the torch plugin) was not found in ", where,
                       "; set MLOS_PLUGINS_DIR to its folder");
  }
  std::unique_ptr<runtime::TrainingService> service =
      runtime::CreatePluginTrainingService(host.get(), nullptr, EmbeddedDataDir());
  return std::unique_ptr<runtime::TrainingService>(
      std::make_unique<OwningService>(std::move(host), std::move(service)));
}

}  // namespace mlos
