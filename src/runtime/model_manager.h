// ModelManager: the model registry in memory, its lifecycle, and its persistence.
//
// Each registered model is a ModelEntry with a state (registered -> loading -> ready, or
// failed; unloading on removal), the record persisted in the RegistryStore, the LoadedModel
// from the PluginHost and per-model metrics. Versions of one model live side by side under
// distinct ids; "<ns>/<name>" without a version resolves to the highest version.
//
// Thread-safety: every method is safe to call concurrently. Lookups take a shared lock;
// registrations are serialised by their own mutex (they touch disk) and publish under an
// exclusive lock. Entries are shared_ptrs: a request holding one keeps its model alive while
// the model is unregistered or replaced.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor_info.h"
#include "runtime/metrics.h"
#include "runtime/package_resolver.h"
#include "runtime/plugin_host.h"
#include "runtime/registry_store.h"

namespace mlos::runtime {

enum class ModelState { kRegistered, kLoading, kReady, kFailed, kUnloading };
std::string_view ModelStateName(ModelState s);

struct ModelStats {
  ModelStats()
      : latency(Histogram::LatencyBounds()),
        queue(Histogram::LatencyBounds()),
        plugin(Histogram::LatencyBounds()),
        overhead(Histogram::OverheadBounds()) {}
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};
  Histogram latency;   // server time of each inference request
  Histogram queue;     // from the request's last byte to the plugin call
  Histogram plugin;    // time inside the plugin
  Histogram overhead;  // server time minus plugin time

  // Records one answered request: its whole server time, the part before the plugin call and
  // the part inside the plugin (the rest is the server's overhead).
  void ObserveServed(int64_t server_us, int64_t queue_us, int64_t plugin_us) {
    latency.Observe(server_us);
    queue.Observe(queue_us);
    plugin.Observe(plugin_us);
    overhead.Observe(server_us - plugin_us);
  }
};

class ModelEntry {
 public:
  explicit ModelEntry(ModelRecord record) : record_(std::move(record)) {}

  const ModelRecord& record() const { return record_; }
  const std::string& id() const { return record_.id; }
  ModelState state() const;
  std::string error() const;
  std::string plugin_id() const;
  std::shared_ptr<LoadedModel> loaded() const;
  // The loaded model's I/O when loaded, else the manifest's declaration.
  std::vector<TensorInfo> inputs() const;
  std::vector<TensorInfo> outputs() const;
  int64_t memory_bytes() const { return memory_bytes_.load(std::memory_order_relaxed); }
  ModelStats& stats() { return stats_; }
  const ModelStats& stats() const { return stats_; }

 private:
  friend class ModelManager;
  const ModelRecord record_;
  mutable std::mutex mu_;
  ModelState state_ = ModelState::kRegistered;
  std::string error_;
  std::string plugin_id_;
  std::shared_ptr<LoadedModel> loaded_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::atomic<int64_t> memory_bytes_{0};
  ModelStats stats_;
};

class ModelManager {
 public:
  // `host` may be null (no inference backend: models stay "registered").
  ModelManager(RegistryStore* store, PluginHost* host, std::string data_dir);

  // Re-registers and loads everything in the store (start-up).
  Status Restore();
  // Registers <dir>/<ns>/<name>/<version>/ packages not yet registered; returns how many.
  int ScanModelsDir(const std::string& dir);

  // Resolves, loads, persists and publishes. Re-registering an id replaces the old entry.
  // Errors: InvalidArgument (bad request or package), DataLoss (checksum or a model the plugin
  // cannot load), NotFound (unknown plugin), Internal (database).
  Result<std::shared_ptr<ModelEntry>> Register(const RegisterRequest& req);
  Status Unregister(std::string_view id);

  // Exact id, else "<ns>/<name>" (highest version), else a unique bare name.
  std::shared_ptr<ModelEntry> Find(std::string_view id) const;
  std::vector<std::shared_ptr<ModelEntry>> List() const;
  // Versions registered under the family of `entry`, ascending.
  std::vector<std::string> Versions(const ModelEntry& entry) const;
  void UnloadAll();

 private:
  void Load(ModelEntry* entry);

  RegistryStore* store_;
  PluginHost* host_;
  std::string data_dir_;
  std::mutex register_mu_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<ModelEntry>> models_;
};

}  // namespace mlos::runtime
