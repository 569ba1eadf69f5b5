// Engine-internal extensions of graph::Session for tools and tests: runs with sequence-typed
// inputs/outputs (the ONNX test suite has them) and access to the optimised graph.
// Thread-safety: as Session::Run.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "graph/op_registry.h"
#include "graph/session.h"

namespace mlos::graph {

Status RunSessionValues(Session& session, const std::vector<std::pair<std::string, Value>>& inputs,
                        std::vector<Value>* outputs, RunStats* stats = nullptr);
// The session's (optimised) graph, or nullptr when `session` is not an engine session.
const Graph* SessionGraph(const Session& session);

}  // namespace mlos::graph
