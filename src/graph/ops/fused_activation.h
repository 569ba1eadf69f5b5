// The internal attributes by which the fusion pass attaches an activation to Conv, Gemm and
// MatMul nodes ("_mlos_act" = kernels::Activation as int, "_mlos_alpha", "_mlos_beta",
// "_mlos_min", "_mlos_max"), and their reader. Names start with "_mlos_" so they cannot clash
// with ONNX attributes.
#pragma once

#include "graph/ir.h"
#include "kernels/cpu/activation.h"

namespace mlos::graph::ops {

inline kernels::ActivationParams FusedActivation(const Node& n) {
  kernels::ActivationParams p;
  p.kind = static_cast<kernels::Activation>(n.GetInt("_mlos_act", 0));
  p.alpha = n.GetFloat("_mlos_alpha", p.alpha);
  p.beta = n.GetFloat("_mlos_beta", p.beta);
  p.min = n.GetFloat("_mlos_min", p.min);
  p.max = n.GetFloat("_mlos_max", p.max);
  return p;
}

}  // namespace mlos::graph::ops
