// The MLOS IPC wire protocol: header codec, payload reader/writer, tensor and model records.
#include "server/ipc/ipc_protocol.h"

#include <limits>

namespace mlos::ipc {

std::string_view OpName(uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kHealth:
      return "health";
    case Op::kStats:
      return "stats";
    case Op::kModelList:
      return "model_list";
    case Op::kModelRegister:
      return "model_register";
    case Op::kModelUnregister:
      return "model_unregister";
    case Op::kModelInfo:
      return "model_info";
    case Op::kModelSave:
      return "model_save";
    case Op::kInfer:
      return "infer";
    case Op::kShmRegister:
      return "shm_register";
    case Op::kShmUnregister:
      return "shm_unregister";
    case Op::kShmStatus:
      return "shm_status";
    case Op::kTrainStart:
      return "train_start";
    case Op::kTrainPause:
      return "train_pause";
    case Op::kTrainResume:
      return "train_resume";
    case Op::kTrainStatus:
      return "train_status";
    case Op::kTrainStop:
      return "train_stop";
    case Op::kTrainList:
      return "train_list";
  }
  return "unknown";
}

namespace {

template <typename T>
void Put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
}
template <typename T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void EncodeHeader(const FrameHeader& h, uint8_t out[kHeaderSize]) {
  Put(out + 0, h.magic);
  Put(out + 4, h.version);
  Put(out + 6, h.opcode);
  Put(out + 8, h.flags);
  Put(out + 12, h.status);
  Put(out + 16, h.request_id);
  Put(out + 24, h.payload_size);
}

Status DecodeHeader(const uint8_t in[kHeaderSize], uint64_t max_payload, FrameHeader* h) {
  h->magic = Get<uint32_t>(in + 0);
  h->version = Get<uint16_t>(in + 4);
  h->opcode = Get<uint16_t>(in + 6);
  h->flags = Get<uint32_t>(in + 8);
  h->status = Get<uint32_t>(in + 12);
  h->request_id = Get<uint64_t>(in + 16);
  h->payload_size = Get<uint64_t>(in + 24);
  if (h->magic != kMagic) return InvalidArgument("frame: bad magic 0x", std::hex, h->magic);
  if (h->version != kVersion) {
    return InvalidArgument("frame: protocol version ", h->version, " (this side speaks ", kVersion,
                           ")");
  }
  if (h->payload_size > max_payload) {
    return ResourceExhausted("frame: payload of ", h->payload_size, " bytes exceeds the limit of ",
                             max_payload);
  }
  return Status::OK();
}

void Writer::Align(size_t base) {
  size_t used = out_->size() - base;
  size_t pad = (kPayloadAlign - used % kPayloadAlign) % kPayloadAlign;
  out_->append(pad, '\0');
}

bool Reader::Fixed(void* v, size_t k) {
  if (!ok_ || n_ - pos_ < k) {
    ok_ = false;
    std::memset(v, 0, k);
    return false;
  }
  std::memcpy(v, p_ + pos_, k);
  pos_ += k;
  return true;
}

bool Reader::Str(std::string_view* s, uint32_t max_len) {
  uint32_t len = 0;
  const uint8_t* b = nullptr;
  if (!U32(&len) || len > max_len || !Bytes(len, &b)) {
    ok_ = false;
    *s = {};
    return false;
  }
  *s = std::string_view(reinterpret_cast<const char*>(b), len);
  return true;
}

bool Reader::Bytes(size_t n, const uint8_t** out) {
  if (!ok_ || n_ - pos_ < n) {
    ok_ = false;
    *out = nullptr;
    return false;
  }
  *out = p_ + pos_;
  pos_ += n;
  return true;
}

bool Reader::Align() {
  size_t pad = (kPayloadAlign - pos_ % kPayloadAlign) % kPayloadAlign;
  const uint8_t* skip = nullptr;
  return Bytes(pad, &skip);
}

Status Reader::Check(std::string_view what) const {
  if (ok_) return Status::OK();
  return InvalidArgument(what, ": the payload is truncated or a length is out of range");
}

Result<uint64_t> TensorBytes(DType dtype, const std::vector<int64_t>& shape) {
  uint64_t n = DTypeSize(dtype);
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("negative dimension ", d, " in shape ", ShapeToString(shape));
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / 2 / static_cast<uint64_t>(d)) {
      return InvalidArgument("shape ", ShapeToString(shape), " is too large");
    }
    n *= static_cast<uint64_t>(d);
  }
  if (n > (1ull << 62)) return InvalidArgument("shape ", ShapeToString(shape), " is too large");
  return n;
}

void WriteTensorHead(Writer* w, std::string_view name, DType dtype,
                     const std::vector<int64_t>& shape) {
  w->Str(name);
  w->U8(static_cast<uint8_t>(dtype));
  w->U8(static_cast<uint8_t>(shape.size()));
  for (int64_t d : shape) w->I64(d);
}

void WriteTensorInline(Writer* w, size_t payload_base, const void* data, uint64_t nbytes) {
  w->U8(static_cast<uint8_t>(Location::kInline));
  w->U64(nbytes);
  w->Align(payload_base);
  w->Raw(data, nbytes);
}

void WriteTensorShm(Writer* w, uint32_t region, uint64_t offset, uint64_t nbytes) {
  w->U8(static_cast<uint8_t>(Location::kShm));
  w->U32(region);
  w->U64(offset);
  w->U64(nbytes);
}

Status ReadTensorDesc(Reader* r, TensorDesc* t) {
  uint8_t dtype = 0, rank = 0, loc = 0;
  r->Str(&t->name, 4096);
  r->U8(&dtype);
  r->U8(&rank);
  MLOS_RETURN_IF_ERROR(r->Check("tensor header"));
  if (dtype >= static_cast<uint8_t>(DType::kString)) {
    return InvalidArgument("tensor '", t->name, "': dtype code ", int{dtype},
                           " is not a fixed-size type");
  }
  if (rank > kMaxRank) {
    return InvalidArgument("tensor '", t->name, "': rank ", int{rank}, " exceeds ", kMaxRank);
  }
  t->dtype = static_cast<DType>(dtype);
  t->shape.resize(rank);
  for (int i = 0; i < rank; ++i) r->I64(&t->shape[static_cast<size_t>(i)]);
  r->U8(&loc);
  MLOS_RETURN_IF_ERROR(r->Check("tensor shape"));
  Result<uint64_t> expect = TensorBytes(t->dtype, t->shape);
  if (!expect.ok()) return InvalidArgument("tensor '", t->name, "': ", expect.status().message());
  if (loc == static_cast<uint8_t>(Location::kInline)) {
    t->location = Location::kInline;
    r->U64(&t->nbytes);
    r->Align();
    MLOS_RETURN_IF_ERROR(r->Check("inline tensor"));
    if (t->nbytes != *expect) {
      return InvalidArgument("tensor '", t->name, "': ", t->nbytes, " bytes given, shape ",
                             ShapeToString(t->shape), " of ", DTypeName(t->dtype), " needs ",
                             *expect);
    }
    if (!r->Bytes(t->nbytes, &t->data)) {
      return InvalidArgument("tensor '", t->name, "': ", t->nbytes,
                             " inline bytes run past the end of the payload");
    }
  } else if (loc == static_cast<uint8_t>(Location::kShm)) {
    t->location = Location::kShm;
    r->U32(&t->region);
    r->U64(&t->offset);
    r->U64(&t->nbytes);
    MLOS_RETURN_IF_ERROR(r->Check("shared-memory tensor"));
    if (t->nbytes != *expect) {
      return InvalidArgument("tensor '", t->name, "': byte size ", t->nbytes, " but shape ",
                             ShapeToString(t->shape), " of ", DTypeName(t->dtype), " needs ",
                             *expect);
    }
  } else {
    return InvalidArgument("tensor '", t->name, "': unknown location ", int{loc});
  }
  return Status::OK();
}

namespace {

void WriteInfos(Writer* w, const std::vector<TensorInfo>& ts) {
  w->U32(static_cast<uint32_t>(ts.size()));
  for (const TensorInfo& t : ts) WriteTensorHead(w, t.name, t.dtype, t.shape);
}

Status ReadInfos(Reader* r, std::vector<TensorInfo>* ts) {
  uint32_t n = 0;
  if (!r->U32(&n) || n > kMaxTensors) return InvalidArgument("model description: bad count");
  ts->resize(n);
  for (TensorInfo& t : *ts) {
    std::string_view name;
    uint8_t dtype = 0, rank = 0;
    r->Str(&name, 4096);
    r->U8(&dtype);
    r->U8(&rank);
    if (!r->ok() || dtype > static_cast<uint8_t>(DType::kString) || rank > kMaxRank) {
      return InvalidArgument("model description: bad tensor entry");
    }
    t.name = std::string(name);
    t.dtype = static_cast<DType>(dtype);
    t.shape.resize(rank);
    for (int64_t& d : t.shape) r->I64(&d);
  }
  return r->Check("model description");
}

}  // namespace

void WriteModelDesc(Writer* w, const ModelDesc& m) {
  w->Str(m.id);
  w->Str(m.plugin_id);
  w->Str(m.status);
  w->Str(m.path);
  WriteInfos(w, m.inputs);
  WriteInfos(w, m.outputs);
}

Status ReadModelDesc(Reader* r, ModelDesc* m) {
  std::string_view s[4];
  for (auto& x : s) r->Str(&x);
  MLOS_RETURN_IF_ERROR(r->Check("model description"));
  m->id = std::string(s[0]);
  m->plugin_id = std::string(s[1]);
  m->status = std::string(s[2]);
  m->path = std::string(s[3]);
  MLOS_RETURN_IF_ERROR(ReadInfos(r, &m->inputs));
  return ReadInfos(r, &m->outputs);
}

}  // namespace mlos::ipc
