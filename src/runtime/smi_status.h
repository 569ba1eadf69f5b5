// The SMI status code a plugin returns for an mlos::Status, shared by the built-in plugins so
// every backend reports the same error class for the same failure (the host maps the code back
// with StatusFromSmi in plugin_host_api.h). Header-only; pure functions, thread-safe.
#pragma once

#include "mlos/smi_spec.h"
#include "mlos/status.h"

namespace mlos::runtime {

// Errors the caller's request caused (bad argument, wrong state, out of range) become
// SMI_ERROR_INVALID_PARAM, so the host answers them as client errors; anything unclassified is
// SMI_ERROR_RUNTIME.
constexpr smi_status_t SmiStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return SMI_SUCCESS;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
      return SMI_ERROR_INVALID_PARAM;
    case StatusCode::kNotFound:
      return SMI_ERROR_NOT_FOUND;
    case StatusCode::kResourceExhausted:
      return SMI_ERROR_OUT_OF_MEMORY;
    case StatusCode::kUnimplemented:
      return SMI_ERROR_NOT_SUPPORTED;
    default:
      return SMI_ERROR_RUNTIME;
  }
}

}  // namespace mlos::runtime
