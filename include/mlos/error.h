// KernelError: the one exception type of the public C++ API (kernel_api.h and Tensor accessors).
// It carries the StatusCode so callers can tell a bad argument from a missing model.
// Internals never throw; they return Status, and the API boundary calls ThrowIfError.
#pragma once

#include <stdexcept>
#include <string>

#include "mlos/status.h"

namespace mlos {

class KernelError : public std::runtime_error {
 public:
  explicit KernelError(const Status& status)
      : std::runtime_error(status.ToString()), code_(status.code()) {}
  StatusCode code() const noexcept { return code_; }

 private:
  StatusCode code_;
};

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw KernelError(status);
}

template <typename T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) throw KernelError(result.status());
  return std::move(result).value();
}

}  // namespace mlos
