// The Conv operator's entry points shared by conv.cc (the general kernel: any rank, groups,
// dtypes) and conv_packed.cc (the per-node kernel that packs a constant 1x1 weight at first use
// for small planes and otherwise calls ConvCompute). Thread-safety: both are safe to call from
// concurrent runs (OpKernel contract).
#pragma once

#include <memory>

#include "graph/op_registry.h"

namespace mlos::kernels {
class PackedMatrix;  // kernels/cpu/prepacked_gemm.h
}  // namespace mlos::kernels

namespace mlos::graph::ops {

// Conv on the node's inputs and attributes (see conv.cc). packed_weight: optional, input 1
// prepacked by kernels::PackConv2dWeight for the node's group (used by the 2-D float path).
Status ConvCompute(OpContext& ctx, const float* packed_weight = nullptr);

// Prepacked forms of a constant dense (k x k) conv weight, each built on first use by the
// kernel object that owns them (conv_packed.cc) and immutable afterwards; nullptr when not
// available (the call then packs per call). ConvCompute asks only for the form it runs.
class DenseConvWeights {
 public:
  virtual ~DenseConvWeights() = default;
  // kernels::PackConv2dWeight's layout (Conv2dParams::packed_weight).
  virtual const float* PackedA() const = 0;
  // W^T (C*kH*kW x M) packed as the micro-kernel's B (ungrouped weights only), for the
  // transposed form of small output planes (kernels::internal::ImplicitGemmConvT).
  virtual const kernels::PackedMatrix* PackedT() const = 0;
};
Status ConvCompute(OpContext& ctx, const DenseConvWeights& weights);

// The registered Conv kernel factory (conv_packed.cc).
Result<std::unique_ptr<OpKernel>> MakeConvKernel(const KernelInit& init);

}  // namespace mlos::graph::ops
