// KServe tensors in system shared memory: the tensor parameters of Triton's extension
// (shared_memory_region, shared_memory_offset, shared_memory_byte_size) on inference inputs
// and requested outputs.
//
// Inputs of floating dtypes are viewed in place (zero-copy): the tensor's Storage owns a
// reference to the region, so the mapping outlives an unregister that races the request.
// Integer, bool and string inputs are copied first, as on the IPC path: integers may be indices
// the engine checks and then uses, and a client could change them in between; bool bytes other
// than 0/1 are not valid C++ bools. Outputs are computed straight into their region window when
// the plugin can (AddShmOutputBinding, LoadedModel::InferInto), else copied once by
// WriteShmOutput. Every error is InvalidArgument (HTTP 400) naming the tensor, the region, and
// the expected and actual sizes. Pure functions; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/tensor_info.h"
#include "runtime/plugin_host.h"
#include "server/shm_registry.h"

namespace mlos::server {

struct ShmTensorRef {
  ShmRegistry::RegionPtr region;  // null: this tensor does not use shared memory
  uint64_t offset = 0;            // within the region
  uint64_t byte_size = 0;
};

// Reads the shared-memory parameters of `tensor` (a KServe input or requested-output object;
// `what` is "input 'x'" or "output 'y'" for messages). Leaves `out->region` null when the
// tensor names no region. `registry` null means the extension is disabled: naming a region is
// then an error saying how to enable it. Outputs need a writable region.
Status ParseShmRef(const rapidjson::Value& tensor, std::string_view what, bool output,
                   const ShmRegistry* registry, ShmTensorRef* out);

// The input tensor `name` of `dtype` and `shape` from `ref`'s window; byte_size must equal the
// shape's size (for BYTES: the serialized elements).
Result<Tensor> ShmInputTensor(const ShmTensorRef& ref, DType dtype, const Shape& shape,
                              std::string_view name);

// When `ref` names a region, binds output `name` (one of the model's `declared` outputs) to its
// window: data = region + offset, capacity = byte_size, the region as owner. bindings is sized
// to `declared` on first use; a name bound already keeps its first window.
void AddShmOutputBinding(const std::vector<TensorInfo>& declared, std::string_view name,
                         const ShmTensorRef& ref, std::vector<runtime::OutputBinding>* bindings);

// Writes output `name` into `ref`'s window (the binary tensor layout) and returns the bytes
// written; fails, writing nothing, when they exceed shared_memory_byte_size. An output the
// engine already computed at the window's start (its binding) is not copied.
Result<uint64_t> WriteShmOutput(const Tensor& t, const ShmTensorRef& ref, std::string_view name);

}  // namespace mlos::server
