// KernelAPI training methods: start_training, pause_training, resume_training, stop_training,
// get_training_status, list_training, wait_training. Remote mode sends the JSON of the HTTP
// routes over the IPC socket (opcodes 0x40..0x45); embedded mode runs a TrainingService on a
// plugin host of its own that loads the torch plugin (libmlos_torch.so).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "api/kernel_api_impl.h"
#include "api/remote_client.h"
#include "api/training_backend.h"
#include "kernel_api.h"
#include "runtime/training_service.h"

namespace mlos {

namespace {

namespace fs = std::filesystem;

std::string Absolute(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

bool IsTerminal(training::SessionState s) {
  return s == training::SessionState::kCompleted || s == training::SessionState::kStopped ||
         s == training::SessionState::kFailed;
}

// ---- remote: the daemon over IPC ----
class RemoteTraining : public TrainingBackend {
 public:
  explicit RemoteTraining(std::unique_ptr<api::IpcClient> c) : client_(std::move(c)) {}
  Result<std::string> Start(const std::string& request_json) override {
    MLOS_ASSIGN_OR_RETURN(std::string json, client_->Training(ipc::Op::kTrainStart, request_json));
    MLOS_ASSIGN_OR_RETURN(runtime::TrainingSessionInfo info, runtime::ParseTrainingSession(json));
    return info.status.id;
  }
  Status Pause(const std::string& id) override {
    return client_->Training(ipc::Op::kTrainPause, id).status();
  }
  Status Resume(const std::string& id) override {
    return client_->Training(ipc::Op::kTrainResume, id).status();
  }
  Status Stop(const std::string& id) override {
    return client_->Training(ipc::Op::kTrainStop, id).status();
  }
  Result<std::string> StatusJson(const std::string& id) override {
    return client_->Training(ipc::Op::kTrainStatus, id);
  }
  Result<std::string> ListJson() override { return client_->Training(ipc::Op::kTrainList, {}); }
  Result<bool> Wait(const std::string& id, double timeout_s) override {
    // The protocol has no blocking wait (a connection serves one request at a time), so poll.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(std::max(0.0, timeout_s)));
    for (;;) {
      MLOS_ASSIGN_OR_RETURN(std::string json, StatusJson(id));
      MLOS_ASSIGN_OR_RETURN(runtime::TrainingSessionInfo info, runtime::ParseTrainingSession(json));
      if (IsTerminal(info.status.state)) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  bool remote() const override { return true; }

 private:
  std::unique_ptr<api::IpcClient> client_;
};

// ---- embedded: a TrainingService in this process ----
class EmbeddedTraining : public TrainingBackend {
 public:
  explicit EmbeddedTraining(std::unique_ptr<runtime::TrainingService> s) : service_(std::move(s)) {}
  Result<std::string> Start(const std::string& request_json) override {
    MLOS_ASSIGN_OR_RETURN(runtime::TrainingRequest req,
                          runtime::ParseTrainingRequest(request_json));
    return service_->Start(req);
  }
  Status Pause(const std::string& id) override { return service_->Pause(id); }
  Status Resume(const std::string& id) override { return service_->Resume(id); }
  Status Stop(const std::string& id) override { return service_->Stop(id); }
  Result<std::string> StatusJson(const std::string& id) override {
    MLOS_ASSIGN_OR_RETURN(runtime::TrainingSessionInfo info, service_->Get(id));
    return runtime::TrainingSessionToJson(info);
  }
  Result<std::string> ListJson() override {
    std::vector<runtime::TrainingSessionInfo> all = service_->List();
    std::string out = "{\"sessions\":[";
    for (size_t i = 0; i < all.size(); ++i) {
      if (i) out.push_back(',');
      out += runtime::TrainingSessionToJson(all[i]);
    }
    out += "],\"total\":" + std::to_string(all.size()) + "}";
    return out;
  }
  Result<bool> Wait(const std::string& id, double timeout_s) override {
    return service_->Wait(id, timeout_s);
  }
  bool remote() const override { return false; }

 private:
  std::unique_ptr<runtime::TrainingService> service_;
};

// The start request the routes take, from the seed's (model, dataset, config) triple.
Result<std::string> BuildStartRequest(const std::string& model, const std::string& dataset,
                                      const std::string& config_json) {
  namespace rj = rapidjson;
  rj::Document config;
  std::string_view text = config_json;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) text = "{}";
  config.Parse(text.data(), text.size());
  if (config.HasParseError() || !config.IsObject()) {
    return InvalidArgument("start_training: config_json must be a JSON object, got '",
                           text.substr(0, 200), "'");
  }
  if (model.empty()) return InvalidArgument("start_training: 'model' is empty");
  if (dataset.empty()) return InvalidArgument("start_training: 'dataset' is empty");
  rj::Document req(rj::kObjectType);
  auto& a = req.GetAllocator();
  auto str = [&a](const std::string& s) { return rj::Value(s.c_str(), a); };
  std::error_code ec;
  // A path that exists here is sent absolute (a daemon's working directory is not ours); a
  // name that is not a file may be a registered model.
  req.AddMember("model", str(fs::exists(model, ec) ? Absolute(model) : model), a);
  req.AddMember("dataset", str(fs::exists(dataset, ec) ? Absolute(dataset) : dataset), a);
  for (const char* key : {"register_as", "register_version"}) {
    auto it = config.FindMember(key);
    if (it == config.MemberEnd()) continue;
    if (!it->value.IsString())
      return InvalidArgument("start_training: '", key, "' must be a string");
    req.AddMember(rj::StringRef(key), rj::Value(it->value, a), a);
    config.RemoveMember(key);
  }
  for (const char* key : {"output_path", "checkpoint_dir"}) {
    auto it = config.FindMember(key);
    if (it == config.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
      continue;  // wrong types are reported by the parser, naming the key
    }
    std::string p(it->value.GetString(), it->value.GetStringLength());
    it->value.SetString(Absolute(p).c_str(), a);
  }
  req.AddMember("config", rj::Value(config, a), a);
  rj::StringBuffer sb;
  rj::Writer<rj::StringBuffer> w(sb);
  req.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

TrainingBackend& KernelAPI::training_backend() const {
  Impl* impl = impl_.get();
  std::string endpoint;
  {
    std::lock_guard<std::mutex> lock(impl->model_mu);
    if (!impl->backend_chosen) {
      const char* env = std::getenv("MLOS_ENDPOINT");
      impl->endpoint = env ? env : "";
      impl->backend_chosen = true;
    }
    endpoint = impl->endpoint;
  }
  std::lock_guard<std::mutex> lock(impl->training_mu);
  if (!impl->training) {
    if (endpoint.empty()) {
      impl->training = std::make_shared<EmbeddedTraining>(
          ValueOrThrow(MakeEmbeddedTrainingService(&impl->pool)));
    } else {
      // A connection of its own: training calls never wait behind an inference.
      impl->training =
          std::make_shared<RemoteTraining>(ValueOrThrow(api::IpcClient::Connect(endpoint)));
    }
  }
  return *impl->training;
}

std::string KernelAPI::start_training(const std::string& model, const std::string& dataset,
                                      const std::string& config_json) {
  std::string request = ValueOrThrow(BuildStartRequest(model, dataset, config_json));
  return ValueOrThrow(training_backend().Start(request));
}

namespace {
// true when done; false when the session's state forbids it; throws otherwise.
bool Control(const Status& s) {
  if (s.code() == StatusCode::kFailedPrecondition) return false;
  ThrowIfError(s);
  return true;
}
}  // namespace

bool KernelAPI::pause_training(const std::string& id) {
  return Control(training_backend().Pause(id));
}
bool KernelAPI::resume_training(const std::string& id) {
  return Control(training_backend().Resume(id));
}
bool KernelAPI::stop_training(const std::string& id) {
  return Control(training_backend().Stop(id));
}

std::string KernelAPI::get_training_status(const std::string& id) {
  return ValueOrThrow(training_backend().StatusJson(id));
}

std::string KernelAPI::list_training() { return ValueOrThrow(training_backend().ListJson()); }

bool KernelAPI::wait_training(const std::string& id, double timeout_s) {
  return ValueOrThrow(training_backend().Wait(id, timeout_s));
}

}  // namespace mlos
