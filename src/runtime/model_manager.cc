#include "runtime/model_manager.h"

#include <algorithm>
#include <filesystem>

#include "runtime/log.h"
#include "runtime/model_id.h"

namespace mlos::runtime {
namespace {
namespace fs = std::filesystem;
}

std::string_view ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kRegistered:
      return "registered";
    case ModelState::kLoading:
      return "loading";
    case ModelState::kReady:
      return "ready";
    case ModelState::kFailed:
      return "failed";
    case ModelState::kUnloading:
      return "unloading";
  }
  return "unknown";
}

ModelState ModelEntry::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}
std::string ModelEntry::error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}
std::string ModelEntry::plugin_id() const {
  std::lock_guard<std::mutex> l(mu_);
  return plugin_id_.empty() ? record_.plugin_id : plugin_id_;
}
std::shared_ptr<LoadedModel> ModelEntry::loaded() const {
  std::lock_guard<std::mutex> l(mu_);
  return loaded_;
}
std::vector<TensorInfo> ModelEntry::inputs() const {
  std::lock_guard<std::mutex> l(mu_);
  return inputs_;
}
std::vector<TensorInfo> ModelEntry::outputs() const {
  std::lock_guard<std::mutex> l(mu_);
  return outputs_;
}

ModelManager::ModelManager(RegistryStore* store, PluginHost* host, std::string data_dir)
    : store_(store), host_(host), data_dir_(std::move(data_dir)) {}

void ModelManager::Load(ModelEntry* e) {
  const ModelRecord& r = e->record();
  {
    std::lock_guard<std::mutex> l(e->mu_);
    ParseIo(r.io_json, &e->inputs_, &e->outputs_);
    if (!host_) {
      e->state_ = ModelState::kRegistered;
      e->error_ = "no inference backend: the plugin host is not available";
      return;
    }
    e->state_ = ModelState::kLoading;
  }
  Result<std::string> plugin = host_->SelectPlugin(r.framework, r.execution_format, r.plugin_id);
  if (!plugin.ok()) {
    std::lock_guard<std::mutex> l(e->mu_);
    e->state_ = ModelState::kFailed;
    e->error_ = plugin.status().ToString();
    return;
  }
  int64_t rss0 = ReadProcessStats().rss_bytes;
  Result<std::shared_ptr<LoadedModel>> loaded =
      host_->LoadModelWithMetadata(*plugin, r.id, r.path, r.framework, r.execution_format);
  int64_t rss1 = ReadProcessStats().rss_bytes;
  std::lock_guard<std::mutex> l(e->mu_);
  e->plugin_id_ = *plugin;
  if (!loaded.ok() || !*loaded) {
    e->state_ = ModelState::kFailed;
    e->error_ = loaded.ok() ? "plugin returned no model" : loaded.status().ToString();
    return;
  }
  e->loaded_ = *loaded;
  // The engine's I/O is authoritative; the manifest's fills only what the engine leaves out.
  if (!(*loaded)->inputs().empty()) e->inputs_ = (*loaded)->inputs();
  if (!(*loaded)->outputs().empty()) e->outputs_ = (*loaded)->outputs();
  e->memory_bytes_.store(std::max<int64_t>(0, rss1 - rss0));
  e->state_ = ModelState::kReady;
  e->error_.clear();
}

Status ModelManager::Restore() {
  MLOS_ASSIGN_OR_RETURN(std::vector<ModelRecord> records, store_->LoadAll());
  for (ModelRecord& r : records) {
    auto entry = std::make_shared<ModelEntry>(std::move(r));
    Load(entry.get());
    if (entry->state() == ModelState::kFailed) {
      LogWarn("model restored but not loadable",
              {{"model_id", entry->id()}, {"error", entry->error()}});
    }
    std::unique_lock<std::shared_mutex> l(mu_);
    models_[entry->id()] = entry;
  }
  LogInfo("registry restored", {{"models", std::to_string(records.size())}});
  return Status::OK();
}

int ModelManager::ScanModelsDir(const std::string& dir) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return 0;
  int added = 0;
  std::vector<fs::path> found;
  for (const auto& ns : fs::directory_iterator(dir, ec)) {
    if (!ns.is_directory(ec) || !IsSafeSegment(ns.path().filename().string())) continue;
    for (const auto& name : fs::directory_iterator(ns.path(), ec)) {
      if (!name.is_directory(ec) || !IsSafeSegment(name.path().filename().string())) continue;
      for (const auto& ver : fs::directory_iterator(name.path(), ec)) {
        if (!ver.is_directory(ec) || !IsSafeSegment(ver.path().filename().string())) continue;
        if (fs::is_regular_file(ver.path() / "manifest.yaml", ec)) found.push_back(ver.path());
      }
    }
  }
  std::sort(found.begin(), found.end());
  for (const fs::path& ver : found) {
    std::string id = ver.parent_path().parent_path().filename().string() + "/" +
                     ver.parent_path().filename().string() + "@" + ver.filename().string();
    if (Find(id) && Find(id)->id() == id) continue;
    RegisterRequest req;
    req.model_id = id;
    req.path = ver.string();
    req.source = "scan";
    Result<std::shared_ptr<ModelEntry>> r = Register(req);
    if (r.ok()) {
      ++added;
    } else {
      LogWarn("skipping package in models dir",
              {{"path", ver.string()}, {"error", r.status().ToString()}});
    }
  }
  return added;
}

Result<std::shared_ptr<ModelEntry>> ModelManager::Register(const RegisterRequest& req) {
  std::lock_guard<std::mutex> reg(register_mu_);
  MLOS_ASSIGN_OR_RETURN(ResolvedPackage pkg, ResolvePackage(req, data_dir_));
  std::shared_ptr<ModelEntry> old;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = models_.find(pkg.record.id);
    if (it != models_.end()) old = it->second;
  }
  if (old && old->record().path == pkg.record.path &&
      old->record().plugin_id == pkg.record.plugin_id && !pkg.record.owns_files &&
      old->state() == ModelState::kReady) {
    return old;  // same registration again: idempotent
  }
  auto entry = std::make_shared<ModelEntry>(pkg.record);
  Load(entry.get());
  std::error_code ec;
  if (entry->state() == ModelState::kFailed) {
    if (pkg.record.owns_files) fs::remove_all(pkg.record.package_dir, ec);
    return DataLoss("model ", pkg.record.id, " could not be loaded: ", entry->error());
  }
  if (req.source != "scan") {
    Status s = store_->Put(entry->record());
    if (!s.ok()) {
      if (pkg.record.owns_files) fs::remove_all(pkg.record.package_dir, ec);
      return s;
    }
  }
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    models_[entry->id()] = entry;
  }
  if (old) {
    std::lock_guard<std::mutex> l(old->mu_);
    old->state_ = ModelState::kUnloading;
    old->loaded_.reset();
    if (old->record().owns_files && old->record().package_dir != pkg.record.package_dir) {
      fs::remove_all(old->record().package_dir, ec);
    }
  }
  LogInfo("model registered", {{"model_id", entry->id()},
                               {"state", std::string(ModelStateName(entry->state()))},
                               {"plugin", entry->plugin_id()},
                               {"path", entry->record().path}});
  return entry;
}

Status ModelManager::Unregister(std::string_view id) {
  std::lock_guard<std::mutex> reg(register_mu_);
  std::shared_ptr<ModelEntry> e = Find(id);
  if (!e) return NotFound("model '", id, "' is not registered");
  MLOS_RETURN_IF_ERROR(store_->Delete(e->id()));
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    models_.erase(e->id());
  }
  std::lock_guard<std::mutex> l(e->mu_);
  e->state_ = ModelState::kUnloading;
  e->loaded_.reset();  // in-flight requests keep their own reference
  if (e->record().owns_files) {
    std::error_code ec;
    fs::remove_all(e->record().package_dir, ec);
  }
  LogInfo("model unregistered", {{"model_id", e->id()}});
  return Status::OK();
}

std::shared_ptr<ModelEntry> ModelManager::Find(std::string_view id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = models_.find(std::string(id));
  if (it != models_.end()) return it->second;
  if (id.find('@') != std::string_view::npos) return nullptr;
  // A family or a bare name: the highest version wins.
  std::shared_ptr<ModelEntry> best;
  int bare_families = 0;
  std::string bare_family;
  for (const auto& [key, e] : models_) {
    const ModelRecord& r = e->record();
    bool family = (r.ns + "/" + r.name) == id;
    bool bare = id.find('/') == std::string_view::npos && r.name == id;
    if (!family && !bare) continue;
    if (bare && !family && bare_family != r.ns) {
      ++bare_families;
      bare_family = r.ns;
    }
    if (!best || VersionLess(best->record().version, r.version)) best = e;
  }
  if (bare_families > 1) return nullptr;  // ambiguous across namespaces
  return best;
}

std::vector<std::shared_ptr<ModelEntry>> ModelManager::List() const {
  std::vector<std::shared_ptr<ModelEntry>> out;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [k, e] : models_) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return out;
}

std::vector<std::string> ModelManager::Versions(const ModelEntry& entry) const {
  std::vector<std::string> out;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [k, e] : models_) {
      if (e->record().ns == entry.record().ns && e->record().name == entry.record().name) {
        out.push_back(e->record().version);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return VersionLess(a, b); });
  return out;
}

void ModelManager::UnloadAll() {
  std::unique_lock<std::shared_mutex> l(mu_);
  for (auto& [k, e] : models_) {
    std::lock_guard<std::mutex> el(e->mu_);
    e->state_ = ModelState::kUnloading;
    e->loaded_.reset();
  }
}

}  // namespace mlos::runtime
