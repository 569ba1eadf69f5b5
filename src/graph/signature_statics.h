// Which values of a compiled graph are fixed by the input-shape signature alone: the shape
// arithmetic torch.onnx exports around every Reshape (Shape -> Gather -> Unsqueeze -> Concat),
// masks built from the sequence length (ConstantOfShape -> Trilu), position ids (Range) and
// everything computed only from those and from constants. The first run of a signature computes
// them; later runs of that signature reuse the values and skip their steps.
//
// A value is signature-static when its producer is a deterministic operator without subgraphs
// whose inputs are all signature-static (constants are), or a Shape/Size of a value whose shape
// is known from the signature. Shapes are tracked through a table of operators whose output
// shapes follow from their input shapes (and, for Reshape, Slice, Expand and the like, from
// signature-static values); an operator missing from the table simply ends the chain.
// Graph inputs and graph outputs are never static (outputs must be fresh tensors per run).
// Thread-safety: pure function of the plan.
#pragma once

#include <vector>

namespace mlos::graph {

class GraphPlan;

struct SignatureStatics {
  std::vector<bool> step_static;  // per step: every output is signature-static
  std::vector<int> frontier;      // static value ids read by non-static steps
};

SignatureStatics AnalyzeSignatureStatics(const GraphPlan& plan);

}  // namespace mlos::graph
