// The torch plugin's training entries (SMI 1.1 smi_training_api_t, docs/SMI.md "Training"):
// a TrainingManager (src/training) owned by the plugin, reached through the exported
// smi_plugin_training. Requests and statuses are the JSON of runtime/training_json.h.
// Exceptions never leave an entry point; Status codes become SMI codes plus set_error.
// Thread-safety: every entry may be called concurrently (TrainingManager is thread-safe; the
// manager itself is created once and destroyed only by cleanup, under g_mu).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "plugins/torch/torch_plugin.h"
#include "runtime/smi_status.h"
#include "runtime/training_json.h"
#include "training/training_manager.h"

namespace mlos::torch_plugin {
namespace {

std::mutex g_mu;
std::shared_ptr<training::TrainingManager> g_manager;  // created on first use

std::shared_ptr<training::TrainingManager> Manager() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_manager) g_manager = std::make_shared<training::TrainingManager>();
  return g_manager;
}

smi_status_t FromStatus(const Status& s) {
  if (s.ok()) return SMI_SUCCESS;
  return SetError(runtime::SmiStatusFor(s.code()), s.message());
}

// A malloc'ed copy the host gives back through FreeString.
smi_status_t HandOut(const std::string& text, char** out) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return SetError(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
  std::memcpy(p, text.c_str(), text.size() + 1);
  *out = p;
  return SMI_SUCCESS;
}

template <typename Fn>
smi_status_t Guarded(const char* entry, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return SetError(SMI_ERROR_RUNTIME, std::string(entry) + ": " + e.what());
  } catch (...) {
    return SetError(SMI_ERROR_RUNTIME, std::string(entry) + ": unknown exception");
  }
}

smi_status_t TrainStart(void*, const char* request_json, char** out_id) {
  if (request_json == nullptr || out_id == nullptr) {
    return SetError(SMI_ERROR_INVALID_PARAM, "train_start: NULL argument");
  }
  *out_id = nullptr;
  return Guarded("train_start", [&] {
    Result<runtime::PluginTrainStart> req = runtime::ParsePluginTrainStart(request_json);
    if (!req.ok()) return FromStatus(req.status());
    Result<std::string> id =
        Manager()->StartTraining(req->model_path, req->dataset, req->config, req->resume);
    if (!id.ok()) return FromStatus(id.status());
    return HandOut(*id, out_id);
  });
}

smi_status_t TrainControl(void*, const char* id, int32_t op) {
  if (id == nullptr) return SetError(SMI_ERROR_INVALID_PARAM, "train_control: NULL id");
  return Guarded("train_control", [&] {
    auto m = Manager();
    switch (op) {
      case SMI_TRAIN_PAUSE:
        return FromStatus(m->PauseTraining(id));
      case SMI_TRAIN_RESUME:
        return FromStatus(m->ResumeTraining(id));
      case SMI_TRAIN_STOP:
        return FromStatus(m->StopTraining(id));
      case SMI_TRAIN_RELEASE:
        return FromStatus(m->RemoveTraining(id));
      default:
        return SetError(SMI_ERROR_INVALID_PARAM, "train_control: unknown op " + std::to_string(op));
    }
  });
}

smi_status_t TrainStatus(void*, const char* id, char** out_json) {
  if (id == nullptr || out_json == nullptr) {
    return SetError(SMI_ERROR_INVALID_PARAM, "train_status: NULL argument");
  }
  *out_json = nullptr;
  return Guarded("train_status", [&] {
    Result<training::TrainingStatus> s = Manager()->GetTrainingStatus(id);
    if (!s.ok()) return FromStatus(s.status());
    return HandOut(runtime::TrainingStatusToJson(*s), out_json);
  });
}

smi_status_t TrainList(void*, char** out_json) {
  if (out_json == nullptr) return SetError(SMI_ERROR_INVALID_PARAM, "train_list: NULL argument");
  *out_json = nullptr;
  return Guarded("train_list", [&] {
    std::string text = "[";
    for (const auto& s : Manager()->ListTraining()) {
      if (text.size() > 1) text += ",";
      text += runtime::TrainingStatusToJson(s);
    }
    text += "]";
    return HandOut(text, out_json);
  });
}

smi_status_t TrainWait(void*, const char* id, int64_t timeout_ms, int32_t* out_done) {
  if (id == nullptr || out_done == nullptr) {
    return SetError(SMI_ERROR_INVALID_PARAM, "train_wait: NULL argument");
  }
  *out_done = 0;
  return Guarded("train_wait", [&] {
    const double timeout_s = timeout_ms < 0 ? 0.0 : static_cast<double>(timeout_ms) / 1000.0;
    Result<bool> done = Manager()->WaitTraining(id, timeout_s);
    if (!done.ok()) return FromStatus(done.status());
    *out_done = *done ? 1 : 0;
    return SMI_SUCCESS;
  });
}

void FreeString(void*, char* s) { std::free(s); }

const smi_training_api_t kTraining = {sizeof(smi_training_api_t),
                                      0,
                                      nullptr,
                                      &TrainStart,
                                      &TrainControl,
                                      &TrainStatus,
                                      &TrainList,
                                      &TrainWait,
                                      &FreeString};

}  // namespace

void ShutdownTraining() {
  std::shared_ptr<training::TrainingManager> m;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    m.swap(g_manager);
  }
  m.reset();  // the destructor stops every session and joins its thread
}

}  // namespace mlos::torch_plugin

extern "C" SMI_EXPORT const smi_training_api_t* smi_plugin_training(void) {
  return &mlos::torch_plugin::kTraining;
}
