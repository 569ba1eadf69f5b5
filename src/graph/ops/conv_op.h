// The Conv operator's entry points shared by conv.cc (the general kernel: any rank, groups,
// dtypes) and conv_packed.cc (the per-node kernel that packs a constant 1x1 weight at first use
// for small planes and otherwise calls ConvCompute). Thread-safety: both are safe to call from
// concurrent runs (OpKernel contract).
#pragma once

#include <memory>

#include "graph/op_registry.h"

namespace mlos::graph::ops {

// Conv on the node's inputs and attributes (see conv.cc). packed_weight: optional, input 1
// prepacked by kernels::PackConv2dWeight for the node's group (used by the 2-D float path).
Status ConvCompute(OpContext& ctx, const float* packed_weight = nullptr);

// The registered Conv kernel factory (conv_packed.cc).
Result<std::unique_ptr<OpKernel>> MakeConvKernel(const KernelInit& init);

}  // namespace mlos::graph::ops
