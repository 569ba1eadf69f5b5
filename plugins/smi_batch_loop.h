// BatchInference for plugins that have no batched path of their own: the batch is run as one
// Inference call per item, stopping at the first failure (whose status the plugin has already
// recorded). Header-only and ABI-level (smi_spec.h types only), so shared-library plugins can use
// it without linking anything of the runtime.
//
// Thread-safety: as the plugin's Inference entry point.
#pragma once

#include <cstddef>

#include "mlos/smi_spec.h"

namespace mlos::plugins {

// `infer` is the plugin's Inference entry point; `fail(code, message)` records and returns an
// error the way the plugin reports its own errors.
template <typename InferFn, typename FailFn>
smi_status_t BatchAsSingleInferences(InferFn infer, FailFn fail, smi_model_handle_t handle,
                                     const void* const* inputs, const size_t* input_sizes,
                                     size_t batch_size, void** outputs, size_t* output_sizes) {
  if (batch_size > 0 && (inputs == nullptr || input_sizes == nullptr || outputs == nullptr ||
                         output_sizes == nullptr)) {
    return fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  }
  for (size_t i = 0; i < batch_size; ++i) {
    const smi_status_t s = infer(handle, inputs[i], input_sizes[i], outputs[i], &output_sizes[i]);
    if (s != SMI_SUCCESS) return s;
  }
  return SMI_SUCCESS;
}

}  // namespace mlos::plugins
