// CNN-specific graph rewrites that run after the generic fusions in passes.cc (Conv+BatchNorm,
// activations): patterns whose payoff is in convolutional networks.
#include "graph/ir.h"

namespace mlos::graph {

// No CNN-only rewrite is needed yet beyond passes.cc's Conv+BatchNorm+activation fusion.
void FuseCnnPatterns(Graph& g) { (void)g; }

}  // namespace mlos::graph
