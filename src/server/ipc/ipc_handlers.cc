// IPC operations other than inference: health, stats, models, shared-memory regions.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/log.h"
#include "runtime/metrics.h"
#include "server/ipc/ipc_connection.h"
#include "server/json_util.h"
#include "server/tensor_json.h"

namespace mlos::server::ipc {

namespace proto = mlos::ipc;
using proto::Op;

Status IpcConnection::Dispatch(uint16_t op, const uint8_t* payload, size_t size) {
  proto::Reader r(payload, size);
  switch (static_cast<Op>(op)) {
    case Op::kHealth:
      return Health(&reply_);
    case Op::kStats:
      return Stats(&reply_);
    case Op::kModelList:
      return ModelList(&reply_);
    case Op::kModelRegister:
      return ModelRegister(&r);
    case Op::kModelUnregister:
      return ModelUnregister(&r);
    case Op::kModelInfo:
      return ModelInfo(&r);
    case Op::kModelSave:
      return ModelSave(&r);
    case Op::kInfer:
      return Infer(&r);
    case Op::kShmRegister:
      return ShmRegister(&r);
    case Op::kShmUnregister:
      return ShmUnregister(&r);
    case Op::kShmStatus:
      return ShmStatus();
    case Op::kTrainStart:
    case Op::kTrainPause:
    case Op::kTrainResume:
    case Op::kTrainStatus:
    case Op::kTrainStop:
    case Op::kTrainList:
      return Training(static_cast<Op>(op), &r);
  }
  return Unimplemented("unknown IPC operation 0x", std::hex, op);
}

// Mutating the registry or writing files with the daemon's rights needs the daemon's own user
// (or root); any peer that can open the socket (mode 0660) may read and run inference.
Status IpcConnection::RequireOwner(std::string_view op) const {
  if (peer_.uid == ctx_->server_uid || peer_.uid == 0) return Status::OK();
  return PermissionDenied(op, ": uid ", peer_.uid, " is not the daemon's user (uid ",
                          ctx_->server_uid, ")");
}

Status IpcConnection::Health(std::string* out) {
  proto::Writer w(out);
  w.Str("healthy");
  w.Str(ctx_->options.version);
  return Status::OK();
}

Status IpcConnection::Stats(std::string* out) {
  const IpcCounters& c = ctx_->counters;
  auto models = ctx_->models->List();
  int ready = 0;
  for (const auto& m : models) ready += m->state() == runtime::ModelState::kReady;
  *out = StrCat("{\"uptime_s\":", (runtime::MonotonicMicros() - ctx_->started_us) / 1000000,
                ",\"ipc\":{\"connections\":", c.connections.load(),
                ",\"connections_total\":", c.connections_total.load(),
                ",\"requests\":", c.requests.load(), ",\"errors\":", c.errors.load(),
                ",\"regions\":", c.regions.load(), "},\"models\":{\"registered\":", models.size(),
                ",\"ready\":", ready, "},\"peer\":{\"pid\":", peer_.pid, ",\"uid\":", peer_.uid,
                ",\"gid\":", peer_.gid, "}}");
  return Status::OK();
}

Status IpcConnection::ModelList(std::string* out) {
  out->clear();
  out->push_back('[');
  bool first = true;
  for (const auto& m : ctx_->models->List()) {
    if (!first) out->push_back(',');
    first = false;
    out->append(StrCat("{\"id\":\"", EscapeJson(m->id()), "\",\"status\":\"",
                       runtime::ModelStateName(m->state()), "\",\"plugin_id\":\"",
                       EscapeJson(m->plugin_id()), "\",\"framework\":\"",
                       EscapeJson(m->record().framework), "\"}"));
  }
  out->push_back(']');
  return Status::OK();
}

namespace {

proto::ModelDesc Describe(const runtime::ModelEntry& e) {
  proto::ModelDesc d;
  d.id = e.id();
  d.plugin_id = e.plugin_id();
  d.status = std::string(runtime::ModelStateName(e.state()));
  d.path = e.record().path;
  d.inputs = e.inputs();
  d.outputs = e.outputs();
  return d;
}

}  // namespace

Status IpcConnection::ModelRegister(proto::Reader* r) {
  MLOS_RETURN_IF_ERROR(RequireOwner("model_register"));
  std::string_view json;
  r->Str(&json, 1u << 20);
  MLOS_RETURN_IF_ERROR(r->Check("model_register"));
  rapidjson::Document doc;
  MLOS_RETURN_IF_ERROR(ParseJson(json, &doc));
  if (!doc.IsObject()) return InvalidArgument("model_register: the request must be a JSON object");
  runtime::RegisterRequest req;
  req.source = "ipc";
  const std::pair<const char*, std::string*> fields[] = {
      {"model_id", &req.model_id},
      {"name", &req.name},
      {"framework", &req.framework},
      {"execution_format", &req.execution_format},
      {"path", &req.path},
      {"description", &req.description},
      {"manifest_path", &req.manifest_path},
      {"plugin_id", &req.plugin_id},
      {"sha256", &req.sha256}};
  for (const auto& [key, out] : fields) MLOS_RETURN_IF_ERROR(GetOptionalString(doc, key, out));
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<runtime::ModelEntry> e, ctx_->models->Register(req));
  runtime::LogInfo("model registered over IPC",
                   {{"model_id", e->id()}, {"peer_pid", std::to_string(peer_.pid)}});
  proto::Writer w(&reply_);
  proto::WriteModelDesc(&w, Describe(*e));
  return Status::OK();
}

Status IpcConnection::ModelUnregister(proto::Reader* r) {
  MLOS_RETURN_IF_ERROR(RequireOwner("model_unregister"));
  std::string_view id;
  r->Str(&id, 4096);
  MLOS_RETURN_IF_ERROR(r->Check("model_unregister"));
  return ctx_->models->Unregister(id);
}

Status IpcConnection::ModelInfo(proto::Reader* r) {
  std::string_view id;
  r->Str(&id, 4096);
  MLOS_RETURN_IF_ERROR(r->Check("model_info"));
  std::shared_ptr<runtime::ModelEntry> e = ctx_->models->Find(id);
  if (!e) return NotFound("model '", id, "' is not registered");
  proto::Writer w(&reply_);
  proto::WriteModelDesc(&w, Describe(*e));
  return Status::OK();
}

// Copies the model's files (its package folder, else its model file or folder) to a
// destination that does not exist yet.
Status IpcConnection::ModelSave(proto::Reader* r) {
  MLOS_RETURN_IF_ERROR(RequireOwner("model_save"));
  std::string_view id, dest;
  r->Str(&id, 4096);
  r->Str(&dest, 4096);
  MLOS_RETURN_IF_ERROR(r->Check("model_save"));
  std::shared_ptr<runtime::ModelEntry> e = ctx_->models->Find(id);
  if (!e) return NotFound("model '", id, "' is not registered");
  namespace fs = std::filesystem;
  fs::path to(dest);
  if (!to.is_absolute())
    return InvalidArgument("model_save: destination '", dest, "' is not absolute");
  std::error_code ec;
  if (fs::exists(to, ec)) return AlreadyExists("model_save: '", dest, "' exists");
  const runtime::ModelRecord& rec = e->record();
  fs::path from = rec.package_dir.empty() ? fs::path(rec.path) : fs::path(rec.package_dir);
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec)
    return Internal("model_save: copying '", from.string(), "' to '", dest, "': ", ec.message());
  return Status::OK();
}

Status IpcConnection::ShmRegister(proto::Reader* r) {
  std::string_view name;
  uint64_t size = 0;
  uint8_t writable = 0;
  r->Str(&name, 256);
  r->U64(&size);
  r->U8(&writable);
  MLOS_RETURN_IF_ERROR(r->Check("shm_register"));
  if (pending_fds_.empty()) {
    return InvalidArgument("shm_register: no file descriptor came with the request (SCM_RIGHTS)");
  }
  int fd = pending_fds_.front();
  pending_fds_.pop_front();
  if (regions_.size() >= static_cast<size_t>(ctx_->options.max_regions_per_connection)) {
    close(fd);
    return ResourceExhausted("shm_register: ", regions_.size(), " regions already registered");
  }
  if (size == 0) {
    close(fd);
    return InvalidArgument("shm_register: size must be positive");
  }
  // Only memfds sealed against shrinking are accepted: a client that could truncate the file
  // under us would turn our reads into SIGBUS.
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
    close(fd);
    return FailedPrecondition(
        "shm_register: the descriptor must be a memfd sealed with F_SEAL_SHRINK");
  }
  Result<std::shared_ptr<ShmRegion>> region = ShmRegion::Map(fd, size, writable != 0);
  if (!region.ok())
    return InvalidArgument("shm_register '", name, "': ", region.status().message());
  uint32_t id = next_region_++;
  if (next_region_ == 0) next_region_ = 1;
  regions_[id] = RegionEntry{std::move(region).value(), std::string(name)};
  ctx_->counters.regions.fetch_add(1);
  proto::Writer w(&reply_);
  w.U32(id);
  return Status::OK();
}

Status IpcConnection::ShmUnregister(proto::Reader* r) {
  uint32_t id = 0;
  r->U32(&id);
  MLOS_RETURN_IF_ERROR(r->Check("shm_unregister"));
  if (regions_.erase(id) == 0) return NotFound("shm_unregister: no region ", id);
  ctx_->counters.regions.fetch_sub(1);
  return Status::OK();
}

Status IpcConnection::ShmStatus() {
  proto::Writer w(&reply_);
  w.U32(static_cast<uint32_t>(regions_.size()));
  for (const auto& [id, e] : regions_) {
    w.U32(id);
    w.Str(e.name);
    w.U64(e.region->size());
    w.U8(e.region->writable() ? 1 : 0);
  }
  return Status::OK();
}

}  // namespace mlos::server::ipc
