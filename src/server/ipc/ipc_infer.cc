// The IPC inference operation: inputs inline (viewed in the payload buffer) or in registered
// shared-memory regions (viewed in place), outputs inline or in a client region's output window:
// computed there by the engine where the plugin can (SMI 1.2 output bindings), else copied once.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/metrics.h"
#include "runtime/plugin_host.h"
#include "server/ipc/ipc_connection.h"

namespace mlos::server::ipc {

namespace proto = mlos::ipc;

namespace {

constexpr uint64_t kAlign = proto::kPayloadAlign;

uint64_t AlignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// Where each declared output may be computed in the window [0, capacity), by output position:
// packed in order at 64-byte aligned offsets, an output of fully known shape getting exactly its
// size; the first output whose size is unknown before the run gets the rest of the window and
// the outputs after it get nothing (their offsets would depend on it). `slot_at[i]` is the
// window offset of binding i (unset for unbound outputs).
std::vector<runtime::OutputBinding> PlanWindow(const std::vector<TensorInfo>& declared,
                                               uint8_t* window, uint64_t capacity,
                                               const std::shared_ptr<ShmRegion>& owner,
                                               std::vector<uint64_t>* slot_at) {
  std::vector<runtime::OutputBinding> bindings;
  uint64_t cursor = 0;
  for (size_t i = 0; i < declared.size(); ++i) {
    const TensorInfo& d = declared[i];
    const uint64_t at = AlignUp(cursor);
    if (d.dtype == DType::kString || at >= capacity) break;
    uint64_t size = capacity - at;  // unknown size: the rest of the window
    bool known = true;
    for (int64_t dim : d.shape) known = known && dim >= 0;
    if (known) {
      Result<int64_t> n = NumElements(d.shape);
      if (!n.ok() || static_cast<uint64_t>(*n) > size / DTypeSize(d.dtype)) break;
      size = static_cast<uint64_t>(*n) * DTypeSize(d.dtype);
    }
    if (bindings.empty()) {
      bindings.resize(declared.size());
      slot_at->assign(declared.size(), 0);
    }
    bindings[i] = {window + at, static_cast<size_t>(size), owner};
    (*slot_at)[i] = at;
    if (!known) break;
    cursor = at + size;
  }
  return bindings;
}

}  // namespace

Status IpcConnection::Infer(proto::Reader* r) {
  int64_t start_us = runtime::MonotonicMicros();
  std::string_view model_id;
  uint32_t n_inputs = 0;
  r->Str(&model_id, 4096);
  r->U32(&n_inputs);
  MLOS_RETURN_IF_ERROR(r->Check("infer"));
  if (n_inputs > proto::kMaxTensors) return InvalidArgument("infer: ", n_inputs, " inputs");
  std::shared_ptr<runtime::ModelEntry> entry = ctx_->models->Find(model_id);
  if (!entry) return NotFound("model '", model_id, "' is not registered");
  runtime::ModelStats& stats = entry->stats();
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](Status s) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    return s;
  };
  std::shared_ptr<runtime::LoadedModel> model = entry->loaded();
  if (!model) return fail(Unavailable("model '", entry->id(), "' is not ready"));

  std::vector<NamedTensor> inputs;
  inputs.reserve(n_inputs);
  proto::TensorDesc d;
  for (uint32_t i = 0; i < n_inputs; ++i) {
    Status st = proto::ReadTensorDesc(r, &d);
    if (!st.ok()) return fail(st);
    std::shared_ptr<Storage> storage;
    if (d.location == proto::Location::kInline) {
      // The payload buffer lives until the reply is sent; no owner needed.
      storage = Storage::Wrap(const_cast<uint8_t*>(d.data), d.nbytes, nullptr);
    } else {
      auto it = regions_.find(d.region);
      if (it == regions_.end()) {
        return fail(NotFound("input '", d.name, "': region ", d.region, " is not registered"));
      }
      const std::shared_ptr<ShmRegion>& region = it->second.region;
      st = region->CheckRange(d.offset, d.nbytes);
      if (!st.ok()) return fail(OutOfRange("input '", d.name, "': ", st.message()));
      if (d.offset % DTypeSize(d.dtype) != 0) {
        return fail(InvalidArgument("input '", d.name, "': offset ", d.offset,
                                    " is not aligned to its ", DTypeName(d.dtype), " elements"));
      }
      if (IsInteger(d.dtype) || d.dtype == DType::kBool) {
        // Integer inputs may be indices the engine checks and then uses; a client changing them
        // between the check and the use could steer reads, so they are copied first. Float
        // data cannot steer memory accesses and is read in place.
        Result<std::shared_ptr<Storage>> copy =
            Storage::Allocate(d.nbytes, DType::kUInt8, DefaultAllocator(), false);
        if (!copy.ok()) return fail(copy.status());
        std::memcpy((*copy)->data(), static_cast<uint8_t*>(region->data()) + d.offset, d.nbytes);
        storage = std::move(copy).value();
      } else {
        Result<std::shared_ptr<Storage>> view = Storage::FromShm(region, d.offset, d.nbytes);
        if (!view.ok()) return fail(view.status());
        storage = std::move(view).value();
      }
    }
    Result<Tensor> t = Tensor::FromStorage(std::move(storage), d.dtype, d.shape);
    if (!t.ok()) return fail(InvalidArgument("input '", d.name, "': ", t.status().message()));
    inputs.emplace_back(std::string(d.name), std::move(t).value());
  }

  // Where outputs go: inline, or packed (64-byte aligned) into a client region window.
  uint8_t mode = 0;
  uint32_t out_region_id = 0;
  uint64_t out_offset = 0, out_capacity = 0;
  r->U8(&mode);
  std::shared_ptr<ShmRegion> out_region;
  if (mode == 1) {
    r->U32(&out_region_id);
    r->U64(&out_offset);
    r->U64(&out_capacity);
    MLOS_RETURN_IF_ERROR(r->Check("infer output window"));
    auto it = regions_.find(out_region_id);
    if (it == regions_.end()) {
      return fail(NotFound("output window: region ", out_region_id, " is not registered"));
    }
    out_region = it->second.region;
    if (!out_region->writable()) {
      return fail(FailedPrecondition("output window: region ", out_region_id, " is read-only"));
    }
    Status st = out_region->CheckRange(out_offset, out_capacity);
    if (!st.ok()) return fail(OutOfRange("output window: ", st.message()));
  } else if (mode != 0) {
    return fail(InvalidArgument("infer: unknown output mode ", int{mode}));
  }
  MLOS_RETURN_IF_ERROR(r->Check("infer"));
  if (!r->at_end()) return fail(InvalidArgument("infer: ", r->remaining(), " trailing bytes"));

  // Range checked above: [out_offset, out_offset + out_capacity) lies in the region.
  uint8_t* window = out_region ? static_cast<uint8_t*>(out_region->data()) + out_offset : nullptr;
  std::vector<uint64_t> slot_at;
  std::vector<runtime::OutputBinding> bindings;
  if (out_region)
    bindings = PlanWindow(model->outputs(), window, out_capacity, out_region, &slot_at);

  std::vector<NamedTensor> outputs;
  runtime::InferenceTiming timing;
  int64_t infer_start = runtime::MonotonicMicros();
  Status st = model->InferInto(inputs, bindings, &outputs, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - infer_start;
  if (!st.ok()) return fail(st);
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;

  // Window offsets: outputs the engine wrote in place stay where they are; the others are copied
  // after the last in-place byte (64-byte aligned, in order) while they fit, else sent inline.
  constexpr uint64_t kInline = UINT64_MAX;
  std::vector<uint64_t> at(outputs.size(), kInline);
  uint64_t cursor = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i].second;
    if (t.dtype() == DType::kString) {
      return fail(Unimplemented("output '", outputs[i].first,
                                "' is a string tensor; IPC v1 carries only "
                                "fixed-size types"));
    }
    if (i < bindings.size() && bindings[i].data != nullptr && t.nbytes() > 0 &&
        t.raw_data() == bindings[i].data && t.is_contiguous()) {
      at[i] = slot_at[i];
      cursor = std::max(cursor, slot_at[i] + t.nbytes());
    }
  }
  for (size_t i = 0; out_region && i < outputs.size(); ++i) {
    const Tensor& t = outputs[i].second;
    if (at[i] != kInline) continue;
    const uint64_t nbytes = t.nbytes();
    const uint64_t a = AlignUp(cursor);
    if (a > out_capacity || nbytes > out_capacity - a) continue;
    uint8_t* dst = window + a;
    if (t.is_contiguous()) {
      // memmove: the output may view an input the client placed in this same region.
      if (nbytes) std::memmove(dst, t.raw_data(), nbytes);
    } else {
      Result<std::shared_ptr<Storage>> s = Storage::FromShm(out_region, out_offset + a, nbytes);
      if (!s.ok()) return fail(s.status());
      Result<Tensor> view = Tensor::FromStorage(std::move(s).value(), t.dtype(), t.shape());
      if (!view.ok()) return fail(view.status());
      st = view->CopyFrom(t);
      if (!st.ok()) return fail(st);
    }
    at[i] = a;
    cursor = a + nbytes;
  }

  reply_.clear();
  proto::Writer w(&reply_);
  w.I64(plugin_us);
  size_t server_us_at = reply_.size();
  w.I64(0);  // server time, patched below
  w.U32(static_cast<uint32_t>(outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [name, t] = outputs[i];
    proto::WriteTensorHead(&w, name, t.dtype(), t.shape());
    const uint64_t nbytes = t.nbytes();
    if (at[i] != kInline) {
      proto::WriteTensorShm(&w, out_region_id, out_offset + at[i], nbytes);
    } else if (t.is_contiguous()) {
      proto::WriteTensorInline(&w, 0, t.raw_data(), nbytes);
    } else {
      Result<Tensor> c = t.Contiguous();
      if (!c.ok()) return fail(c.status());
      proto::WriteTensorInline(&w, 0, c->raw_data(), nbytes);
    }
  }
  int64_t server_us = runtime::MonotonicMicros() - start_us;
  std::memcpy(reply_.data() + server_us_at, &server_us, sizeof(server_us));
  stats.ObserveServed(server_us, 0, plugin_us);
  return Status::OK();
}

}  // namespace mlos::server::ipc
