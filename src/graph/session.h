// graph::Session: one loaded ONNX model, ready to run. The engine's public face to the rest of
// MLOS (the onnx plugin, mlosctl, KernelAPI::load_model).
//
// Thread-safety: Run() may be called from many threads at once; each call gets its own
// execution state (plans are cached per input-shape signature and shared read-only).
// Errors: every problem a model file or a request can cause comes back as a Status naming the
// node, op, input or shape at fault; nothing aborts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/tensor_info.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {

struct SessionOptions {
  ThreadPool* pool = nullptr;  // the shared pool; required
  bool optimize = true;        // constant folding, fusions, dead-node elimination
};

struct RunStats {
  int64_t run_us = 0;           // wall time inside Run
  size_t arena_peak_bytes = 0;  // peak of the static memory plan used
};

class Session {
 public:
  virtual ~Session() = default;

  // Loads an .onnx file; external-data files are resolved relative to its folder.
  static Result<std::unique_ptr<Session>> Load(const std::string& path,
                                               const SessionOptions& options);
  // Loads serialized ModelProto bytes; external data is resolved against `base_dir`.
  static Result<std::unique_ptr<Session>> LoadFromBytes(std::string_view bytes,
                                                        const std::string& base_dir,
                                                        const SessionOptions& options);

  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;

  // Runs the model. `inputs` are matched by name (all graph inputs without an initializer are
  // required); outputs come back in the order of outputs(). Input tensors are read in place.
  virtual Status Run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>* outputs,
                     RunStats* stats = nullptr) = 0;
};

}  // namespace mlos::graph
