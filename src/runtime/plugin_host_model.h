// PluginModel: a LoadedModel served by one PluginInstance through the SMI vtable.
//
// Ownership: holds its plugin (shared), so the library stays loaded while the model lives; the
// destructor calls unload_model and unregister_model.
// Thread-safety: Infer/InferRaw may be called concurrently (the plugin serialises itself unless
// it is thread-safe); the declared inputs/outputs are immutable after Load.
// Containment: every table and size the plugin reports is validated before use; outputs are
// checked against their declarations; byte buffers carry a guard zone checked after each call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/plugin_host.h"
#include "runtime/plugin_host_library.h"

namespace mlos::runtime {

struct ModelLoadRequest {
  std::string model_id;
  std::string path;
  std::string framework;         // may be empty
  std::string execution_format;  // may be empty
};

class PluginModel final : public LoadedModel {
 public:
  static Result<std::shared_ptr<PluginModel>> Load(std::shared_ptr<PluginInstance> plugin,
                                                   const ModelLoadRequest& request);
  ~PluginModel() override;

  const std::string& plugin_id() const override { return plugin_->id(); }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Infer(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
               InferenceTiming* timing = nullptr) override;
  Status InferInto(const std::vector<NamedTensor>& inputs,
                   const std::vector<OutputBinding>& bindings, std::vector<NamedTensor>* outputs,
                   InferenceTiming* timing = nullptr) override;
  bool has_tensor_inference() const override { return plugin_->tensor_inference() != nullptr; }
  bool has_raw_inference() const override { return plugin_->vtable().inference != nullptr; }
  Status InferRaw(std::string_view input, std::string* output,
                  InferenceTiming* timing = nullptr) override;

 private:
  explicit PluginModel(std::shared_ptr<PluginInstance> plugin) : plugin_(std::move(plugin)) {}
  Status ReadModelInfo();
  Status InferTensors(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
                      InferenceTiming* timing, const std::vector<OutputBinding>* bindings);
  Status InferViaBytes(const std::vector<NamedTensor>& inputs, std::vector<NamedTensor>* outputs,
                       InferenceTiming* timing);

  std::shared_ptr<PluginInstance> plugin_;
  std::string model_id_;
  smi_model_handle_t handle_ = nullptr;
  bool registered_ = false;
  bool loaded_ = false;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  uint64_t max_output_size_ = 0;
};

// Escapes `s` as the body of a JSON string (no quotes added).
std::string JsonEscape(std::string_view s);

}  // namespace mlos::runtime
