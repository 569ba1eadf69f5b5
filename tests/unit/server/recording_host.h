// A PluginHost decorator for server tests: every model it loads is wrapped so that the last
// InferInto call's output bindings and output data addresses are recorded. Lets a test prove
// that a server handed the engine its client's memory and that the output was computed there
// (no copy), by pointer identity inside the server process.
//
// Ownership: wraps (does not own) the real host, which must outlive it. Thread-safety: as the
// wrapped host; the record is mutex-guarded.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/plugin_host.h"

namespace mlos::testing {

struct InferRecord {
  std::vector<runtime::OutputBinding> bindings;  // as the server passed them (owners held)
  std::vector<const void*> outputs;              // raw_data() of each output returned
};

class RecordingModel final : public runtime::LoadedModel {
 public:
  RecordingModel(std::shared_ptr<runtime::LoadedModel> inner, std::mutex* mu, InferRecord* rec)
      : inner_(std::move(inner)), mu_(mu), rec_(rec) {}
  const std::string& plugin_id() const override { return inner_->plugin_id(); }
  const std::vector<TensorInfo>& inputs() const override { return inner_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return inner_->outputs(); }
  Status Infer(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
               runtime::InferenceTiming* timing) override {
    return InferInto(inputs, {}, outputs, timing);
  }
  Status InferInto(const std::vector<NamedTensor>& inputs,
                   const std::vector<runtime::OutputBinding>& bindings,
                   std::vector<NamedTensor>* outputs, runtime::InferenceTiming* timing) override {
    Status s = inner_->InferInto(inputs, bindings, outputs, timing);
    std::lock_guard<std::mutex> lock(*mu_);
    rec_->bindings = bindings;
    rec_->outputs.clear();
    for (const auto& [name, t] : *outputs) rec_->outputs.push_back(t.raw_data());
    return s;
  }
  bool has_tensor_inference() const override { return inner_->has_tensor_inference(); }
  bool has_raw_inference() const override { return inner_->has_raw_inference(); }
  Status InferRaw(std::string_view input, std::string* output,
                  runtime::InferenceTiming* timing) override {
    return inner_->InferRaw(input, output, timing);
  }

 private:
  std::shared_ptr<runtime::LoadedModel> inner_;
  std::mutex* mu_;
  InferRecord* rec_;
};

class RecordingHost final : public runtime::PluginHost {
 public:
  explicit RecordingHost(runtime::PluginHost* inner) : inner_(inner) {}

  // The last InferInto of any model loaded through this host.
  InferRecord Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return rec_;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    rec_ = InferRecord{};
  }

  Result<runtime::PluginInfo> RegisterPlugin(const std::string& id, const std::string& name,
                                             const std::string& version,
                                             const std::string& library_path) override {
    return inner_->RegisterPlugin(id, name, version, library_path);
  }
  Status UnregisterPlugin(const std::string& id) override { return inner_->UnregisterPlugin(id); }
  std::vector<runtime::PluginInfo> ListPlugins() const override { return inner_->ListPlugins(); }
  Status LoadPluginDirectory(const std::string& dir) override {
    return inner_->LoadPluginDirectory(dir);
  }
  Result<std::string> SelectPlugin(const std::string& framework,
                                   const std::string& execution_format,
                                   const std::string& explicit_plugin_id) const override {
    return inner_->SelectPlugin(framework, execution_format, explicit_plugin_id);
  }
  Result<std::shared_ptr<runtime::LoadedModel>> LoadModel(const std::string& plugin_id,
                                                          const std::string& model_id,
                                                          const std::string& path) override {
    return Wrap(inner_->LoadModel(plugin_id, model_id, path));
  }
  Result<std::shared_ptr<runtime::LoadedModel>> LoadModelWithMetadata(
      const std::string& plugin_id, const std::string& model_id, const std::string& path,
      const std::string& framework, const std::string& execution_format) override {
    return Wrap(
        inner_->LoadModelWithMetadata(plugin_id, model_id, path, framework, execution_format));
  }

 private:
  Result<std::shared_ptr<runtime::LoadedModel>> Wrap(
      Result<std::shared_ptr<runtime::LoadedModel>> m) {
    if (!m.ok()) return m.status();
    return std::shared_ptr<runtime::LoadedModel>(
        std::make_shared<RecordingModel>(std::move(m).value(), &mu_, &rec_));
  }

  runtime::PluginHost* inner_;
  std::mutex mu_;
  InferRecord rec_;
};

}  // namespace mlos::testing
