// EmbeddedBackend: KernelAPI models served by an SMI PluginHost inside this process.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "api/model_backend.h"
#include "runtime/package_resolver.h"
#include "runtime/plugin_host.h"

namespace mlos {

namespace {

// Where archives are extracted for an embedded KernelAPI (the daemon uses its data dir).
std::string EmbeddedDataDir() {
  if (const char* d = std::getenv("MLOS_DATA_DIR"); d && *d) return d;
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.mlos/embedded";
  return "/tmp/mlos-embedded-" + std::to_string(getuid());
}

class EmbeddedBackend : public ModelBackend {
 public:
  explicit EmbeddedBackend(std::unique_ptr<runtime::PluginHost> host) : host_(std::move(host)) {}

  Result<std::shared_ptr<const ModelState>> Load(const std::string& path) override {
    std::error_code ec;
    runtime::RegisterRequest req;
    req.path = std::filesystem::absolute(path, ec).string();
    if (ec) req.path = path;
    req.source = "embedded";
    MLOS_ASSIGN_OR_RETURN(runtime::ResolvedPackage pkg,
                          runtime::ResolvePackage(req, EmbeddedDataDir()));
    const runtime::ModelRecord& rec = pkg.record;
    MLOS_ASSIGN_OR_RETURN(std::string plugin,
                          host_->SelectPlugin(rec.framework, rec.execution_format, rec.plugin_id));
    MLOS_ASSIGN_OR_RETURN(std::shared_ptr<runtime::LoadedModel> loaded,
                          host_->LoadModelWithMetadata(plugin, rec.id, rec.path, rec.framework,
                                                       rec.execution_format));
    auto s = std::make_shared<ModelState>();
    s->id = rec.id;
    s->path = rec.path;
    s->package_dir = rec.package_dir;
    s->inputs = loaded->inputs();
    s->outputs = loaded->outputs();
    s->loaded = std::move(loaded);
    s->owner = this;
    return std::shared_ptr<const ModelState>(std::move(s));
  }

  Status Save(const ModelState& m, const std::string& destination) override {
    return CopyModelFiles(m.package_dir.empty() ? m.path : m.package_dir, destination);
  }

  Result<std::vector<NamedTensor>> Run(const ModelState& m,
                                       const std::vector<NamedTensor>& inputs) override {
    std::vector<NamedTensor> outputs;
    MLOS_RETURN_IF_ERROR(m.loaded->Infer(inputs, &outputs));
    return outputs;
  }

  bool remote() const override { return false; }

 private:
  std::unique_ptr<runtime::PluginHost> host_;
};

}  // namespace

Result<std::shared_ptr<ModelBackend>> MakeEmbeddedBackend(ThreadPool* pool) {
  runtime::PluginHostOptions opts;
  opts.pool = pool;
  opts.log = [](int level, std::string_view, std::string_view) { (void)level; };
  MLOS_ASSIGN_OR_RETURN(std::unique_ptr<runtime::PluginHost> host, runtime::CreatePluginHost(opts));
  return std::shared_ptr<ModelBackend>(std::make_shared<EmbeddedBackend>(std::move(host)));
}

}  // namespace mlos
