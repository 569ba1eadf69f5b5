// RemoteBackend: KernelAPI models served by the mlos_core daemon over the IPC socket.
#include <filesystem>

#include "api/model_backend.h"
#include "api/remote_client.h"

namespace mlos {

namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

class RemoteBackend : public ModelBackend {
 public:
  explicit RemoteBackend(std::unique_ptr<api::IpcClient> c) : client_(std::move(c)) {}

  // A path that exists is registered with the daemon (made absolute: the daemon resolves it);
  // anything else is looked up as the id of a model the daemon already has.
  Result<std::shared_ptr<const ModelState>> Load(const std::string& path) override {
    namespace fs = std::filesystem;
    std::error_code ec;
    Result<mlos::ipc::ModelDesc> d = Status::OK();
    if (fs::exists(path, ec)) {
      std::string abs = fs::absolute(path, ec).string();
      d = client_->RegisterModel("{\"path\":" + JsonString(abs) + "}");
    } else {
      d = client_->ModelInfo(path);
      if (!d.ok() && d.status().code() == StatusCode::kNotFound) {
        return NotFound("load_model: '", path,
                        "' is neither a file the daemon can read nor a registered model id");
      }
    }
    if (!d.ok()) return d.status();
    if (d->status != "ready") {
      return FailedPrecondition("load_model: model '", d->id, "' is ", d->status, " in the daemon");
    }
    auto s = std::make_shared<ModelState>();
    s->id = d->id;
    s->path = d->path;
    s->inputs = std::move(d->inputs);
    s->outputs = std::move(d->outputs);
    s->owner = this;
    return std::shared_ptr<const ModelState>(std::move(s));
  }

  Status Save(const ModelState& m, const std::string& destination) override {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(destination, ec).string();
    return client_->SaveModel(m.id, ec ? destination : abs);
  }

  Result<std::vector<NamedTensor>> Run(const ModelState& m,
                                       const std::vector<NamedTensor>& inputs) override {
    return client_->Infer(m.id, inputs);
  }

  bool remote() const override { return true; }

 private:
  std::unique_ptr<api::IpcClient> client_;
};

}  // namespace

Result<std::shared_ptr<ModelBackend>> MakeRemoteBackend(const std::string& endpoint) {
  MLOS_ASSIGN_OR_RETURN(std::unique_ptr<api::IpcClient> c, api::IpcClient::Connect(endpoint));
  return std::shared_ptr<ModelBackend>(std::make_shared<RemoteBackend>(std::move(c)));
}

}  // namespace mlos
