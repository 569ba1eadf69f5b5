// Shared pieces of the mlosctl subcommands: reading tensors from .pb / .npy files, writing them,
// loading a session. Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <vector>

#include "graph/op_registry.h"
#include "graph/session.h"
#include "mlos/status.h"

namespace mlosctl {

mlos::Result<std::string> ReadFile(const std::string& path);
mlos::Status WriteFile(const std::string& path, const std::string& bytes);
// A tensor (or sequence) from a TensorProto .pb file or a .npy file.
mlos::Result<mlos::graph::Value> ReadValueFile(const std::string& path, bool want_sequence);
// Test data for a graph input/output of the given kind: a TensorProto, SequenceProto or
// OptionalProto .pb file (or a .npy for tensors).
mlos::Result<mlos::graph::Value> ReadValueFile(const std::string& path,
                                               mlos::graph::ValueKind kind);
mlos::Result<mlos::Tensor> ReadNpy(const std::string& bytes);
mlos::Result<std::string> WriteNpy(const mlos::Tensor& t);

int Conformance(const std::vector<std::string>& args);
int RunModel(const std::vector<std::string>& args);
int Bench(const std::vector<std::string>& args);

}  // namespace mlosctl
