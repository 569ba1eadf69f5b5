// The IPC inference operation: inputs inline (viewed in the payload buffer) or in registered
// shared-memory regions (viewed in place), outputs inline or written into a client region.
#include <cstring>

#include "runtime/metrics.h"
#include "server/ipc/ipc_connection.h"

namespace mlos::server::ipc {

namespace proto = mlos::ipc;

namespace {

constexpr uint64_t kAlign = proto::kPayloadAlign;

uint64_t AlignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

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

  std::vector<NamedTensor> outputs;
  runtime::InferenceTiming timing;
  int64_t infer_start = runtime::MonotonicMicros();
  Status st = model->Infer(inputs, &outputs, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - infer_start;
  if (!st.ok()) return fail(st);
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;

  reply_.clear();
  proto::Writer w(&reply_);
  w.I64(plugin_us);
  size_t server_us_at = reply_.size();
  w.I64(0);  // server time, patched below
  w.U32(static_cast<uint32_t>(outputs.size()));
  uint64_t cursor = 0;  // bytes used of the output window
  for (const auto& [name, t] : outputs) {
    if (t.dtype() == DType::kString) {
      return fail(Unimplemented("output '", name,
                                "' is a string tensor; IPC v1 carries only "
                                "fixed-size types"));
    }
    proto::WriteTensorHead(&w, name, t.dtype(), t.shape());
    uint64_t nbytes = t.nbytes();
    uint64_t at = AlignUp(cursor);
    if (out_region && at <= out_capacity && nbytes <= out_capacity - at) {
      // Range checked above: [out_offset, out_offset + out_capacity) lies in the region.
      uint8_t* dst = static_cast<uint8_t*>(out_region->data()) + out_offset + at;
      if (t.is_contiguous()) {
        if (nbytes) std::memcpy(dst, t.raw_data(), nbytes);
      } else {
        Result<std::shared_ptr<Storage>> s = Storage::FromShm(out_region, out_offset + at, nbytes);
        if (!s.ok()) return fail(s.status());
        Result<Tensor> view = Tensor::FromStorage(std::move(s).value(), t.dtype(), t.shape());
        if (!view.ok()) return fail(view.status());
        st = view->CopyFrom(t);
        if (!st.ok()) return fail(st);
      }
      proto::WriteTensorShm(&w, out_region_id, out_offset + at, nbytes);
      cursor = at + nbytes;
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
  stats.latency.Observe(server_us);
  stats.queue.Observe(0);
  stats.plugin.Observe(plugin_us);
  stats.overhead.Observe(server_us - plugin_us);
  return Status::OK();
}

}  // namespace mlos::server::ipc
