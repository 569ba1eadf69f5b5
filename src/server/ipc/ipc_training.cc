// IPC training operations (0x40..0x45): start, pause, resume, status, stop, list. Payloads carry
// the same JSON as the HTTP routes (runtime/training_service.h codecs), so every front end
// agrees on one shape. The service's methods do not wait for training, so the connection
// thread is never held by a running session.
#include "runtime/training_service.h"
#include "server/ipc/ipc_connection.h"
#include "server/json_util.h"

namespace mlos::server::ipc {

namespace proto = mlos::ipc;
using proto::Op;

namespace {

constexpr uint32_t kMaxRequestJson = 1u << 20;  // a start request is a few hundred bytes
constexpr uint32_t kMaxId = 4096;

}  // namespace

Status IpcConnection::Training(Op op, proto::Reader* r) {
  const std::string_view name = proto::OpName(static_cast<uint16_t>(op));
  runtime::TrainingService* training = ctx_->training;
  if (training == nullptr) {
    return Status(StatusCode::kUnavailable,
                  StrCat(name,
                         ": training is not available in this daemon (no training plugin "
                         "loaded)"));
  }
  if (op == Op::kTrainList) {
    if (!r->at_end()) return InvalidArgument(name, ": the request takes no payload");
    proto::Writer(&reply_).Str(runtime::TrainingSessionListToJson(training->List()));
    return Status::OK();
  }
  if (op == Op::kTrainStart) {
    // Training reads the model and dataset and writes checkpoints and outputs with the daemon's
    // rights, so only the daemon's user may start it (as for model registration).
    MLOS_RETURN_IF_ERROR(RequireOwner(name));
    std::string_view json;
    r->Str(&json, kMaxRequestJson);
    MLOS_RETURN_IF_ERROR(r->Check(name));
    if (!r->at_end())
      return InvalidArgument(name, ": ", r->remaining(), " bytes after the request");
    MLOS_ASSIGN_OR_RETURN(runtime::TrainingRequest request, runtime::ParseTrainingRequest(json));
    MLOS_ASSIGN_OR_RETURN(std::string id, training->Start(request));
    Result<runtime::TrainingSessionInfo> info = training->Get(id);
    proto::Writer w(&reply_);
    if (info.ok()) {
      w.Str(runtime::TrainingSessionToJson(*info));
    } else {
      w.Str(StrCat("{\"id\":\"", EscapeJson(id), "\"}"));
    }
    return Status::OK();
  }
  std::string_view id_view;
  r->Str(&id_view, kMaxId);
  MLOS_RETURN_IF_ERROR(r->Check(name));
  if (!r->at_end()) return InvalidArgument(name, ": ", r->remaining(), " bytes after the id");
  if (id_view.empty()) return InvalidArgument(name, ": empty session id");
  std::string id(id_view);
  switch (op) {
    case Op::kTrainPause:
      MLOS_RETURN_IF_ERROR(RequireOwner(name));
      MLOS_RETURN_IF_ERROR(training->Pause(id));
      break;
    case Op::kTrainResume:
      MLOS_RETURN_IF_ERROR(RequireOwner(name));
      MLOS_RETURN_IF_ERROR(training->Resume(id));
      break;
    case Op::kTrainStop:
      MLOS_RETURN_IF_ERROR(RequireOwner(name));
      MLOS_RETURN_IF_ERROR(training->Stop(id));
      break;
    default:  // kTrainStatus
      break;
  }
  MLOS_ASSIGN_OR_RETURN(runtime::TrainingSessionInfo info, training->Get(id));
  proto::Writer(&reply_).Str(runtime::TrainingSessionToJson(info));
  return Status::OK();
}

}  // namespace mlos::server::ipc
