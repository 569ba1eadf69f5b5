// KernelAPI::Impl: the runtime state one KernelAPI owns (internal).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "kernel_api.h"
#include "mlos/allocator.h"
#include "mlos/thread_pool.h"

namespace mlos {

class ModelBackend;     // api/model_backend.h
class TrainingBackend;  // api/training_backend.h

struct KernelAPI::Impl {
  explicit Impl(const KernelOptions& options) : pool(options.num_threads) {}
  ThreadPool pool;
  Allocator& allocator = DefaultAllocator();
  // Models and inference (kernel_api_model.cc): embedded or remote, chosen on first use.
  std::mutex model_mu;
  std::string endpoint;  // set by the endpoint constructor or from MLOS_ENDPOINT
  bool backend_chosen = false;
  std::shared_ptr<ModelBackend> models;
  // Training sessions (kernel_api_training.cc): made on first use, after the endpoint is chosen.
  std::mutex training_mu;
  std::shared_ptr<TrainingBackend> training;
};

}  // namespace mlos
