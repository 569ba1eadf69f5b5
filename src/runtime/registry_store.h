// RegistryStore: the model registry's durable half, one SQLite database (WAL journal,
// synchronous=FULL) in the data dir. A registration is acknowledged only after Put() has
// committed, so neither a restart nor a kill -9 loses it.
//
// Thread-safety: all methods take an internal mutex (writes are rare; reads happen at start).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "mlos/status.h"

struct sqlite3;

namespace mlos::runtime {

struct ModelRecord {
  std::string id;  // "<ns>/<name>@<version>"
  std::string ns, name, version;
  std::string framework;
  std::string execution_format;
  std::string description;
  std::string path;           // what the plugin loads (model file or folder)
  std::string package_dir;    // the Axon package folder, if any
  std::string manifest_path;  // its manifest.yaml, if any
  std::string plugin_id;      // requested plugin; empty = chosen by framework/format
  std::string source;         // "api", "scan" or "archive"
  std::string io_json;        // declared inputs/outputs (see model_manager.cc)
  bool owns_files = false;    // files extracted by us: removed on unregister
  int64_t created_at = 0;     // unix seconds
};

class RegistryStore {
 public:
  ~RegistryStore();
  RegistryStore(const RegistryStore&) = delete;
  RegistryStore& operator=(const RegistryStore&) = delete;

  // Opens (creating) `path` and its schema.
  static Result<std::unique_ptr<RegistryStore>> Open(const std::string& path);

  Status Put(const ModelRecord& record);  // insert or replace, committed on return
  Status Delete(const std::string& id);
  Result<std::vector<ModelRecord>> LoadAll();
  // Folds the WAL into the main file (called at shutdown).
  void Checkpoint();

 private:
  RegistryStore() = default;
  Status Exec(const char* sql);

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace mlos::runtime
