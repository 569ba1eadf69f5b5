// OnnxModel: the per-model state behind an onnx-runtime-builtin model handle: one
// graph::Session and the SMI descriptions of its inputs and outputs.
//
// Ownership: created by register_model, deleted by unregister_model (the handle owns it).
// Thread-safety: Run/InferJson may run concurrently once loaded; Load/Unload are not concurrent
// with anything else (the host guarantees it).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/session.h"
#include "mlos/smi_spec.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::onnx_plugin {

class OnnxModel {
 public:
  explicit OnnxModel(ThreadPool* pool);
  Status Load(const std::string& file);
  void Unload();
  graph::Session* session() const { return session_.get(); }

  // Runs on SMI tensors (read in place). Outputs in the order of session()->outputs().
  // `sink` (may be null): where its SMI 1.2 output bindings come from; floating outputs the kernels
  // allocate are computed straight into them (graph::Session::RunInto), and then
  // outputs[i].raw_data() is the binding's data.
  Status Run(const smi_tensor_t* inputs, size_t num_inputs, std::vector<Tensor>* outputs,
             const smi_output_sink_t* sink = nullptr);
  // Fills what info->struct_size covers; the tables live as long as the loaded session.
  smi_status_t Describe(smi_model_info_t* info) const;
  // Byte-level inference: a JSON object of named inputs in, a JSON object of outputs out
  // (docs/SMI.md, "The built-in ONNX plugin"). `fail` maps a Status to a code and message.
  smi_status_t InferJson(std::string_view input, void* output, size_t* output_size,
                         smi_status_t (*fail)(const Status&));

 private:
  Status ParseJsonInputs(std::string_view json, std::vector<NamedTensor>* inputs) const;
  Result<std::string> OutputsToJson(const std::vector<Tensor>& outputs) const;

  std::unique_ptr<ThreadPool> own_pool_;  // only when the host offers no pool
  ThreadPool* pool_ = nullptr;
  std::unique_ptr<graph::Session> session_;
  std::vector<smi_tensor_desc_t> in_desc_;
  std::vector<smi_tensor_desc_t> out_desc_;
};

}  // namespace mlos::onnx_plugin
