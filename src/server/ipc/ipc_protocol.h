// The MLOS IPC wire protocol (docs/IPC.md): 32-byte frame headers, opcodes, and bounds-checked
// payload readers/writers shared by the daemon's IPC server and the remote clients.
//
// Every multi-byte field is little-endian. A payload is a sequence of fixed-size integers,
// length-prefixed strings and tensor descriptors; inline tensor bytes start at a 64-byte
// aligned offset of the payload so the receiver can view them in place.
// Thread-safety: pure functions and value types; a Reader/Writer belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "mlos/dtype.h"
#include "mlos/status.h"
#include "mlos/tensor_info.h"

namespace mlos::ipc {

inline constexpr uint32_t kMagic = 0x534F4C4Du;  // the bytes "MLOS"
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kPayloadAlign = 64;  // inline tensor bytes are aligned to this
inline constexpr uint64_t kDefaultMaxPayload = 1ull << 30;
inline constexpr int kMaxRank = 16;
inline constexpr uint32_t kMaxTensors = 4096;

enum class Op : uint16_t {
  kHealth = 0x01,
  kStats = 0x02,
  kModelList = 0x03,
  kModelRegister = 0x04,
  kModelUnregister = 0x05,
  kModelInfo = 0x06,
  kModelSave = 0x07,
  kInfer = 0x10,
  kShmRegister = 0x20,
  kShmUnregister = 0x21,
  kShmStatus = 0x22,
  // 0x40..0x4f: training sessions (docs/IPC.md). Payloads are the JSON of the HTTP routes
  // (runtime/training_service.h codecs); a daemon without a training service answers
  // kUnavailable.
  kTrainStart = 0x40,   // str request JSON -> str session JSON
  kTrainPause = 0x41,   // str id -> str session JSON
  kTrainResume = 0x42,  // str id -> str session JSON
  kTrainStatus = 0x43,  // str id -> str session JSON
  kTrainStop = 0x44,    // str id -> str session JSON
  kTrainList = 0x45,    // empty -> str {"sessions": [...], "total": N}
};
std::string_view OpName(uint16_t op);

enum FrameFlags : uint32_t {
  kFlagReply = 1u << 0,  // set on every reply
  kFlagError = 1u << 1,  // reply carries a Status code and a message instead of a result
};

struct FrameHeader {
  uint32_t magic = kMagic;
  uint16_t version = kVersion;
  uint16_t opcode = 0;
  uint32_t flags = 0;
  uint32_t status = 0;  // replies: a StatusCode; requests: 0
  uint64_t request_id = 0;
  uint64_t payload_size = 0;
};

void EncodeHeader(const FrameHeader& h, uint8_t out[kHeaderSize]);
// Decodes and validates magic, version and payload size (<= max_payload).
Status DecodeHeader(const uint8_t in[kHeaderSize], uint64_t max_payload, FrameHeader* out);

// Appends to a byte string. Never fails (the string grows).
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { Raw(&v, 1); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  // Pads with zeros to a multiple of kPayloadAlign, counted from `base` (the payload start).
  void Align(size_t base);
  size_t size() const { return out_->size(); }

 private:
  std::string* out_;
};

// Reads a payload; every read is checked against the end. After a failed read, ok() is false
// and every later read fails too, so a handler may check once at the end.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool U8(uint8_t* v) { return Fixed(v, 1); }
  bool U16(uint16_t* v) { return Fixed(v, 2); }
  bool U32(uint32_t* v) { return Fixed(v, 4); }
  bool U64(uint64_t* v) { return Fixed(v, 8); }
  bool I64(int64_t* v) { return Fixed(v, 8); }
  bool Str(std::string_view* s, uint32_t max_len = 1u << 20);
  bool Bytes(size_t n, const uint8_t** out);
  bool Align();  // skips padding up to the next multiple of kPayloadAlign
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == n_; }
  size_t remaining() const { return n_ - pos_; }
  // InvalidArgument naming `what` when a read ran past the end.
  Status Check(std::string_view what) const;

 private:
  bool Fixed(void* v, size_t k);
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  bool ok_ = true;
};

enum class Location : uint8_t { kInline = 0, kShm = 1 };

// One tensor on the wire: name, dtype, shape, then either inline bytes (aligned) or a region
// reference (region id, offset, byte size).
struct TensorDesc {
  std::string_view name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  Location location = Location::kInline;
  uint32_t region = 0;
  uint64_t offset = 0;
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // inline bytes (inside the payload)
};

// Reads one descriptor and checks it: known non-string dtype, rank <= kMaxRank, dims >= 0,
// numel x element size == nbytes without overflow, inline bytes inside the payload.
Status ReadTensorDesc(Reader* r, TensorDesc* out);
void WriteTensorHead(Writer* w, std::string_view name, DType dtype,
                     const std::vector<int64_t>& shape);
// After WriteTensorHead: the inline form (payload_base: where the payload started in the
// writer's string) or the region form.
void WriteTensorInline(Writer* w, size_t payload_base, const void* data, uint64_t nbytes);
void WriteTensorShm(Writer* w, uint32_t region, uint64_t offset, uint64_t nbytes);

// Model descriptions (kModelInfo, kModelRegister replies).
struct ModelDesc {
  std::string id;
  std::string plugin_id;
  std::string status;
  std::string path;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};
void WriteModelDesc(Writer* w, const ModelDesc& m);
Status ReadModelDesc(Reader* r, ModelDesc* m);

// Bytes that `shape` x `dtype` occupy, or InvalidArgument on overflow / negative dims.
Result<uint64_t> TensorBytes(DType dtype, const std::vector<int64_t>& shape);

}  // namespace mlos::ipc
