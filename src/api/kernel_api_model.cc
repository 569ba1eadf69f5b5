// KernelAPI model methods: load_model, save_model, run_inference, and the remote constructor.
// The backend (embedded plugin host or the daemon) is chosen on first use.
#include <cstdlib>
#include <filesystem>

#include "api/kernel_api_impl.h"
#include "api/model_backend.h"
#include "kernel_api.h"

namespace mlos {

namespace {
const std::string kEmpty;
const std::vector<TensorInfo> kNoInfos;
}  // namespace

const std::string& Model::id() const { return state_ ? state_->id : kEmpty; }
const std::string& Model::path() const { return state_ ? state_->path : kEmpty; }
const std::vector<TensorInfo>& Model::inputs() const { return state_ ? state_->inputs : kNoInfos; }
const std::vector<TensorInfo>& Model::outputs() const {
  return state_ ? state_->outputs : kNoInfos;
}

KernelAPI::KernelAPI(const std::string& endpoint, const KernelOptions& options)
    : KernelAPI(options) {
  std::lock_guard<std::mutex> lock(impl_->model_mu);
  impl_->endpoint = endpoint;
  impl_->backend_chosen = true;
  // Connect now, so a wrong endpoint is reported where it was given.
  impl_->models = ValueOrThrow(MakeRemoteBackend(endpoint));
}

ModelBackend& KernelAPI::model_backend() const {
  Impl* impl = impl_.get();
  std::lock_guard<std::mutex> lock(impl->model_mu);
  if (!impl->backend_chosen) {
    const char* env = std::getenv("MLOS_ENDPOINT");
    impl->endpoint = env ? env : "";
    impl->backend_chosen = true;
  }
  if (!impl->models) {
    impl->models = ValueOrThrow(impl->endpoint.empty() ? MakeEmbeddedBackend(&impl->pool)
                                                       : MakeRemoteBackend(impl->endpoint));
  }
  return *impl->models;
}

bool KernelAPI::is_remote() const { return model_backend().remote(); }

std::string KernelAPI::endpoint() const {
  model_backend();
  std::lock_guard<std::mutex> lock(impl_->model_mu);
  return impl_->endpoint;
}

Model KernelAPI::load_model(const std::string& model_path) {
  return Model(ValueOrThrow(model_backend().Load(model_path)));
}

void KernelAPI::save_model(const Model& model, const std::string& destination_path) {
  if (!model.valid()) ThrowIfError(InvalidArgument("save_model: the model handle is empty"));
  ThrowIfError(model_backend().Save(*model.state_, destination_path));
}

std::vector<NamedTensor> KernelAPI::run_inference(const Model& model, const Tensor& input) {
  if (!model.valid()) ThrowIfError(InvalidArgument("run_inference: the model handle is empty"));
  if (model.inputs().empty()) {
    ThrowIfError(InvalidArgument("run_inference: model '", model.id(), "' declares no inputs"));
  }
  return run_inference(model, std::vector<NamedTensor>{{model.inputs()[0].name, input}});
}

std::vector<NamedTensor> KernelAPI::run_inference(const Model& model,
                                                  const std::vector<NamedTensor>& inputs) {
  if (!model.valid()) ThrowIfError(InvalidArgument("run_inference: the model handle is empty"));
  ModelBackend& b = model_backend();
  if (model.state_->owner != &b) {
    ThrowIfError(
        InvalidArgument("run_inference: model '", model.id(), "' was loaded by another KernelAPI"));
  }
  return ValueOrThrow(b.Run(*model.state_, inputs));
}

Status CopyModelFiles(const std::string& from, const std::string& destination) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (destination.empty()) return InvalidArgument("save_model: empty destination");
  if (fs::exists(destination, ec)) {
    return AlreadyExists("save_model: '", destination, "' exists");
  }
  fs::path parent = fs::path(destination).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  fs::copy(from, destination, fs::copy_options::recursive, ec);
  if (ec) {
    return Internal("save_model: copying '", from, "' to '", destination, "': ", ec.message());
  }
  return Status::OK();
}

}  // namespace mlos
