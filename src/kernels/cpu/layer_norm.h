// Residual-add LayerNorm: y = LayerNorm(x + skip) in one pass per row, the fused form of the
// transformer's Add -> LayerNormalization (the sum is never written to its own tensor).
// Ownership: borrows every tensor. Thread-safety: reentrant; splits rows over the given pool.
#pragma once

#include <cstdint>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

// x and skip float32 of one shape (no broadcasting), y float32 of that shape; scale/bias as for
// LayerNorm (broadcast to the trailing axes from `axis`). InvalidArgument names the mismatch.
Status AddLayerNorm(const Tensor& x, const Tensor& skip, const Tensor& scale, const Tensor* bias,
                    int64_t axis, float epsilon, Tensor& y, ThreadPool& pool);

}  // namespace mlos::kernels
