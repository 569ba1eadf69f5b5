// kernel_api.h: the MLOS C++ API ("KernelAPI") of the ML/LLM kernel seed.
//
//   #include <kernel_api.h>
//   KernelAPI kernel;
//   Tensor t = kernel.create_tensor({3, 3});
//   Tensor r = kernel.matrix_multiply(t, t);
//
// A KernelAPI owns its runtime: the shared compute thread pool (default: the cores available to
// the process) and the allocator its tensors come from. Tensors are values sharing reference-
// counted storage (see mlos/tensor.h) and outlive the KernelAPI that made them.
//
// Errors: every misuse (shape mismatch, unknown op, out-of-range index, wrong dtype) throws
// mlos::KernelError, a std::runtime_error whose code() tells the kind of error and whose what()
// names the operation and the shapes involved. Nothing here aborts the process.
//
// Thread-safety: a KernelAPI may be used from several threads at once; its operations share the
// one thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlos/dtype.h"
#include "mlos/error.h"
#include "mlos/shm.h"
#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/tensor_info.h"
#include "mlos/thread_pool.h"

namespace mlos {

struct KernelOptions {
  int num_threads = 0;  // 0: the cores available (sched_getaffinity)
};

// Memory handed out by allocate_memory(): 64-byte aligned, zero-filled, freed with the last copy.
class MemoryBuffer {
 public:
  MemoryBuffer() = default;
  void* data() const { return storage_ ? storage_->data() : nullptr; }
  size_t size() const { return storage_ ? storage_->nbytes() : 0; }
  // A tensor over these bytes (no copy); throws if dtype x shape does not fit.
  Tensor as_tensor(DType dtype, const std::vector<int64_t>& shape, size_t offset = 0) const;

 private:
  friend class KernelAPI;
  explicit MemoryBuffer(std::shared_ptr<Storage> s) : storage_(std::move(s)) {}
  std::shared_ptr<Storage> storage_;
};

// A memfd-backed buffer that other processes can map (pass fd() over a Unix socket); the basis
// of zero-copy tensors between clients and the daemon.
class SharedMemoryBuffer {
 public:
  SharedMemoryBuffer() = default;
  void* data() const { return region_ ? region_->data() : nullptr; }
  size_t size() const { return region_ ? region_->size() : 0; }
  int fd() const { return region_ ? region_->fd() : -1; }
  // Forbids growing or shrinking the buffer, so a peer can trust its size.
  void seal();
  Tensor as_tensor(DType dtype, const std::vector<int64_t>& shape, size_t offset = 0) const;
  const std::shared_ptr<ShmRegion>& region() const { return region_; }

 private:
  friend class KernelAPI;
  explicit SharedMemoryBuffer(std::shared_ptr<ShmRegion> r) : region_(std::move(r)) {}
  std::shared_ptr<ShmRegion> region_;
};

// A model loaded by KernelAPI::load_model (kernel_api_model.cc): a handle shared by copies;
// the model stays loaded while a handle or a running inference uses it.
struct ModelState;
class ModelBackend;
class TrainingBackend;
class Model {
 public:
  Model() = default;
  bool valid() const { return state_ != nullptr; }
  const std::string& id() const;    // "<ns>/<name>@<version>"
  const std::string& path() const;  // what was loaded
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;

 private:
  friend class KernelAPI;
  explicit Model(std::shared_ptr<const ModelState> s) : state_(std::move(s)) {}
  std::shared_ptr<const ModelState> state_;
};

class KernelAPI {
 public:
  // Remote mode: models and inference go to the mlos_core daemon at `endpoint`
  // ("unix:///path/mlos.sock"); tensor math stays in this process. The default constructors
  // are embedded unless the MLOS_ENDPOINT environment variable names an endpoint.
  explicit KernelAPI(const std::string& endpoint, const KernelOptions& options = {});
  explicit KernelAPI(const char* endpoint) : KernelAPI(std::string(endpoint)) {}
  KernelAPI();
  explicit KernelAPI(const KernelOptions& options);
  ~KernelAPI();
  KernelAPI(const KernelAPI&) = delete;
  KernelAPI& operator=(const KernelAPI&) = delete;

  // ---- core operations ----
  // A zero-filled tensor of the given dimensions (float32 unless told otherwise).
  Tensor create_tensor(const std::vector<int64_t>& dimensions, DType dtype = DType::kFloat32);
  // A float32 tensor holding `values` in row-major order.
  Tensor create_tensor(const std::vector<int64_t>& dimensions, const std::vector<float>& values);

  // numpy.matmul of two float32 tensors: 2-D matrix product, 1-D vectors promoted, leading
  // batch dimensions broadcast.
  Tensor matrix_multiply(const Tensor& a, const Tensor& b);

  // Element-wise unary operation: "neg", "abs", "exp", "log", "sqrt", "relu", "sigmoid",
  // "tanh", "gelu", "sin", "cos", ... and the whole-tensor "sum", "mean", "max", "min",
  // "softmax" (last axis) and "transpose" (swaps the last two axes).
  Tensor tensor_operations(const Tensor& tensor, const std::string& operation);
  // Element-wise binary operation with numpy broadcasting: "add", "subtract", "multiply",
  // "divide", "power", "maximum", "minimum", "mod", and comparisons ("equal", "less",
  // "greater", ...) which give bool tensors. Aliases "+", "-", "*", "/" are accepted.
  Tensor tensor_operations(const Tensor& tensor, const std::string& operation, const Tensor& other);
  // Binary operation with a scalar, converted to the tensor's dtype.
  Tensor tensor_operations(const Tensor& tensor, const std::string& operation, double scalar);

  // ---- memory ----
  MemoryBuffer allocate_memory(size_t size);
  SharedMemoryBuffer shared_memory_buffer(size_t size);

  // ---- models (embedded: the SMI plugin host in this process; remote: the daemon) ----
  // A model package folder (manifest.yaml), a .onnx file or folder, or a .axon archive; remote
  // mode also takes the id of a model the daemon has registered.
  Model load_model(const std::string& model_path);
  // Copies the model's files to `destination_path`, which must not exist.
  void save_model(const Model& model, const std::string& destination_path);
  // Runs inference; outputs by name, in the model's order. A single tensor feeds the model's
  // first input. Remote: inputs in a SharedMemoryBuffer travel without a copy, outputs come
  // back viewing shared memory.
  std::vector<NamedTensor> run_inference(const Model& model, const Tensor& input);
  std::vector<NamedTensor> run_inference(const Model& model,
                                         const std::vector<NamedTensor>& inputs);
  bool is_remote() const;
  std::string endpoint() const;  // "" when embedded

  // ---- training sessions (docs/TRAINING.md, docs/CPP_API.md) ----
  // Embedded: the torch plugin (libmlos_torch.so from $MLOS_PLUGINS_DIR, the build tree or the
  // installed plugin folders) trains in this process, sessions persisted under
  // $MLOS_DATA_DIR (default ~/.mlos/embedded); remote: the daemon trains them.
  //
  // Starts a session that trains `model` (a TorchScript file, or in remote mode also a model the
  // daemon has registered) on `dataset` (a file or folder) in the background; returns its id.
  // `config_json` is a JSON object of training settings ({"optimizer": "adam", "epochs": 5,
  // ...}, the TrainingConfig field names); the keys "register_as" and "register_version" in it
  // ask for the finished model to be registered under that name. Relative paths (model,
  // dataset, output_path, checkpoint_dir) are made absolute here, so a daemon finds them.
  std::string start_training(const std::string& model, const std::string& dataset,
                             const std::string& config_json = "{}");
  // Pause / resume / stop a session: true when done, false when the session already ended
  // (stopped, completed or failed: pausing, resuming or stopping it again); throws KernelError
  // for an unknown id.
  bool pause_training(const std::string& id);
  bool resume_training(const std::string& id);
  bool stop_training(const std::string& id);
  // The session as JSON: id, state (starting, running, paused, stopped, completed, failed),
  // epoch, step, total_steps, loss, learning_rate, val_loss, val_accuracy, samples_per_second,
  // eta_seconds, checkpoints, output_path, model, dataset, registered_model, ...
  std::string get_training_status(const std::string& id);
  // Every session: {"sessions": [...], "total": N}.
  std::string list_training();
  // Waits until the session completed, stopped or failed; false when `timeout_s` ran out.
  bool wait_training(const std::string& id, double timeout_s);

  // ---- runtime ----
  int num_threads() const;
  ThreadPool& thread_pool();

 private:
  struct Impl;
  ModelBackend& model_backend() const;        // kernel_api_model.cc
  TrainingBackend& training_backend() const;  // kernel_api_training.cc
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlos

// The seed's unqualified names. Define MLOS_NO_GLOBAL_NAMES to keep them out of the global
// namespace.
#ifndef MLOS_NO_GLOBAL_NAMES
using KernelAPI = mlos::KernelAPI;
using Tensor = mlos::Tensor;
#endif
