#include "runtime/registry_store.h"

#include <sqlite3.h>

#include <memory>

namespace mlos::runtime {
namespace {

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

std::string Col(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

constexpr const char* kColumns =
    "id, ns, name, version, framework, execution_format, description, path, package_dir, "
    "manifest_path, plugin_id, source, io_json, owns_files, created_at";

}  // namespace

RegistryStore::~RegistryStore() {
  if (db_) sqlite3_close(db_);
}

Status RegistryStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("registry database ", path_, ": ", msg);
  }
  return Status::OK();
}

Result<std::unique_ptr<RegistryStore>> RegistryStore::Open(const std::string& path) {
  std::unique_ptr<RegistryStore> store(new RegistryStore());
  store->path_ = path;
  int rc =
      sqlite3_open_v2(path.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return Unavailable("cannot open registry database ", path, ": ",
                       store->db_ ? sqlite3_errmsg(store->db_) : "out of memory");
  }
  sqlite3_busy_timeout(store->db_, 5000);
  MLOS_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL;"));
  MLOS_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL;"));
  MLOS_RETURN_IF_ERROR(
      store->Exec("CREATE TABLE IF NOT EXISTS models ("
                  " id TEXT PRIMARY KEY, ns TEXT, name TEXT, version TEXT, framework TEXT,"
                  " execution_format TEXT, description TEXT, path TEXT, package_dir TEXT,"
                  " manifest_path TEXT, plugin_id TEXT, source TEXT, io_json TEXT,"
                  " owns_files INTEGER, created_at INTEGER);"));
  return store;
}

Status RegistryStore::Put(const ModelRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("INSERT OR REPLACE INTO models (") + kColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Internal("registry database: ", sqlite3_errmsg(db_));
  }
  Stmt st(raw);
  const std::string* texts[] = {
      &r.id,          &r.ns,   &r.name,        &r.version,       &r.framework, &r.execution_format,
      &r.description, &r.path, &r.package_dir, &r.manifest_path, &r.plugin_id, &r.source,
      &r.io_json};
  int i = 1;
  for (const std::string* t : texts) {
    sqlite3_bind_text(st.get(), i++, t->c_str(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
  }
  sqlite3_bind_int(st.get(), i++, r.owns_files ? 1 : 0);
  sqlite3_bind_int64(st.get(), i++, r.created_at);
  if (sqlite3_step(st.get()) != SQLITE_DONE) {
    return Internal("registry database: cannot save ", r.id, ": ", sqlite3_errmsg(db_));
  }
  return Status::OK();
}

Status RegistryStore::Delete(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM models WHERE id = ?", -1, &raw, nullptr) != SQLITE_OK) {
    return Internal("registry database: ", sqlite3_errmsg(db_));
  }
  Stmt st(raw);
  sqlite3_bind_text(st.get(), 1, id.c_str(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.get()) != SQLITE_DONE) {
    return Internal("registry database: cannot delete ", id, ": ", sqlite3_errmsg(db_));
  }
  return Status::OK();
}

Result<std::vector<ModelRecord>> RegistryStore::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM models ORDER BY created_at, id";
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Internal("registry database: ", sqlite3_errmsg(db_));
  }
  Stmt st(raw);
  std::vector<ModelRecord> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    ModelRecord r;
    std::string* texts[] = {&r.id,          &r.ns,
                            &r.name,        &r.version,
                            &r.framework,   &r.execution_format,
                            &r.description, &r.path,
                            &r.package_dir, &r.manifest_path,
                            &r.plugin_id,   &r.source,
                            &r.io_json};
    int i = 0;
    for (std::string* t : texts) *t = Col(st.get(), i++);
    r.owns_files = sqlite3_column_int(st.get(), i++) != 0;
    r.created_at = sqlite3_column_int64(st.get(), i++);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return DataLoss("registry database: ", sqlite3_errmsg(db_));
  return out;
}

void RegistryStore::Checkpoint() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

}  // namespace mlos::runtime
