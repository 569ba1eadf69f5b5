// The per-channel broadcast case of the float32 arithmetic ops: [N, C, H, W] op [N|1, C, 1, 1]
// (the squeeze-excitation scale of EfficientNet-style blocks), run plane by plane with the
// vector kernels and a grain sized so that 2 threads only split planes worth the fork.
// Stateless; runs on the context's shared pool.
#pragma once

#include "graph/ops/op_util.h"
#include "kernels/cpu/elementwise.h"

namespace mlos::graph::ops {

// Handles float32 Add/Sub/Mul/Div where one contiguous 4-D operand is [N, C, H, W] and the other
// is a contiguous [N or 1, C, 1, 1] (either side for Add/Mul; on the right for Sub/Div).
// Returns false, having done nothing, for any other case; otherwise writes output 0 and
// stores the outcome in *status.
bool TryChannelBroadcastF32(OpContext& ctx, kernels::BinaryOp op, const Tensor& a, const Tensor& b,
                            Status* status);

}  // namespace mlos::graph::ops
