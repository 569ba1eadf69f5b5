// Graph passes run at load time: constant folding, dead-node elimination and fusions.
// Each pass keeps the graph's observable outputs identical (within float rounding for fusions).
// Thread-safety: mutates the graph it is given; call before the graph is shared.
#pragma once

#include "graph/ir.h"
#include "graph/op_registry.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {

Status OptimizeGraph(Graph& g, const OpRegistry& registry, ThreadPool& pool);

}  // namespace mlos::graph
