// graph::Session: one loaded ONNX model, ready to run. The engine's public face to the rest of
// MLOS (the onnx plugin, mlosctl, KernelAPI::load_model).
//
// Thread-safety: Run() may be called from many threads at once; each call gets its own
// execution state (plans are cached per input-shape signature and shared read-only).
// Errors: every problem a model file or a request can cause comes back as a Status naming the
// node, op, input or shape at fault; nothing aborts.
#pragma once

#include <cstdint>
#include <map>
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

// Time per operator type, summed over the runs that were given it (RunStats::profile).
// Not thread-safe: give each concurrent run its own.
struct OpProfile {
  struct Entry {
    int64_t ns = 0;     // wall time inside the kernels of this op type
    int64_t calls = 0;  // kernel calls
  };
  std::map<std::string, Entry> ops;  // key: op type, "domain::op" outside the default domain
  int64_t run_ns = 0;                // wall time of the whole runs (input checks included)
  int64_t runs = 0;
};

struct RunStats {
  int64_t run_us = 0;           // wall time inside Run
  size_t arena_peak_bytes = 0;  // peak of the static memory plan used
  // When set (by the caller, who owns it), the run adds its per-op times to it; costs one clock
  // read per step.
  OpProfile* profile = nullptr;
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
