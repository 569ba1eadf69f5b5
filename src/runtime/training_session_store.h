// The training service's durable session table: <data_dir>/training/sessions.json, one JSON
// document rewritten atomically (temporary file in the same folder, fsync, rename, fsync of the
// folder), so after a crash it holds either the previous table or the new one, never a mix.
//
// Why a JSON file rather than a table in the SQLite registry: the table is small and written
// only on state changes, the service must work without a ModelManager/RegistryStore (embedded
// KernelAPI), and the file can be read by hand when a session needs looking into.
// Thread-safety: free functions; the caller serialises writers of one path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlos/status.h"
#include "runtime/training_service.h"

namespace mlos::runtime {

struct StoredSession {
  std::string id;
  TrainingRequest request;  // as started: config with the service's paths filled in
  std::string model_path;   // what request.model resolved to
  std::string registered_model;
  int64_t created_unix_ms = 0;
  training::TrainingStatus status;  // last known; status.state is the persisted state
};

struct SessionTable {
  int64_t next_id = 1;
  std::vector<StoredSession> sessions;
};

// A missing file is an empty table; a corrupt one is DataLoss naming the path.
Result<SessionTable> LoadSessionTable(const std::string& path);
Status SaveSessionTable(const std::string& path, const SessionTable& table);
// Writes `bytes` to `path` atomically (see above); creates nothing but the file.
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace mlos::runtime
