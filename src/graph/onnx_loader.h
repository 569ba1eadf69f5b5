// Loads an ONNX ModelProto (bytes) into the graph IR: opsets, initializers (external data resolved
// against base_dir), value types with symbolic dims, attributes and subgraphs. Every malformed
// field becomes a Status naming the node, op and opset; nothing aborts.
// Thread-safety: stateless.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "graph/ir.h"
#include "mlos/status.h"

namespace mlos::graph {

inline constexpr int64_t kMaxSupportedOpset = 17;

Result<std::shared_ptr<Graph>> LoadOnnxModel(std::string_view bytes, const std::string& base_dir);

}  // namespace mlos::graph
