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

// Memory the caller would like one graph output written into (Session::RunInto).
struct OutputBinding {
  void* data = nullptr;         // nullptr: this output is not bound
  size_t capacity = 0;          // bytes writable at data
  std::shared_ptr<void> owner;  // kept alive by the output tensor that views data (may be null)
  // False (the default): only floating-point outputs are placed, because another process may
  // write this memory during the run and the engine reads a graph output back when a later step
  // consumes it; changed float bytes cannot steer a kernel's memory accesses, changed indices
  // could. True: nobody else writes it, so every fixed-size dtype may be placed.
  bool private_memory = false;
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

  // As Run, writing outputs straight into caller memory where it can (no copy afterwards):
  // bindings[i] is for outputs()[i] (a shorter vector leaves the rest unbound). Output i is
  // placed in its binding when the kernel that produces it allocates it (not when it is a view
  // such as Identity or Reshape of another value), its dtype has a fixed size (and is floating
  // unless private_memory), its bytes fit the capacity, data is aligned to the element size, and
  // the binding overlaps no input and no other binding. Then outputs[i].raw_data() == data and
  // the tensor holds `owner`; otherwise outputs[i] is what Run would return and the caller
  // copies. Bound memory must stay valid and writable during the call; on an error its contents
  // are unspecified.
  virtual Status RunInto(const std::vector<NamedTensor>& inputs,
                         const std::vector<OutputBinding>& bindings, std::vector<Tensor>* outputs,
                         RunStats* stats = nullptr) {
    (void)bindings;
    return Run(inputs, outputs, stats);
  }
};

}  // namespace mlos::graph
