// The IPC frame header and payload codec: round trips, rejection of bad headers, and random /
// truncated payloads that must fail cleanly (never read past the end).
#include "server/ipc/ipc_protocol.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace mlos::ipc {
namespace {

TEST(IpcProtocol, HeaderRoundTrip) {
  FrameHeader h;
  h.opcode = static_cast<uint16_t>(Op::kInfer);
  h.flags = kFlagReply | kFlagError;
  h.status = 7;
  h.request_id = 0x0123456789abcdefull;
  h.payload_size = 4242;
  uint8_t buf[kHeaderSize];
  EncodeHeader(h, buf);
  // The magic is the ASCII bytes "MLOS" on the wire.
  EXPECT_EQ(std::memcmp(buf, "MLOS", 4), 0);
  FrameHeader g;
  ASSERT_TRUE(DecodeHeader(buf, 1 << 20, &g).ok());
  EXPECT_EQ(g.opcode, h.opcode);
  EXPECT_EQ(g.flags, h.flags);
  EXPECT_EQ(g.status, 7u);
  EXPECT_EQ(g.request_id, h.request_id);
  EXPECT_EQ(g.payload_size, 4242u);
}

TEST(IpcProtocol, HeaderRejectsBadMagicVersionAndSize) {
  FrameHeader h;
  h.payload_size = 100;
  uint8_t buf[kHeaderSize];
  EncodeHeader(h, buf);
  FrameHeader g;
  buf[0] ^= 1;
  EXPECT_EQ(DecodeHeader(buf, 1000, &g).code(), StatusCode::kInvalidArgument);
  h.version = 9;
  EncodeHeader(h, buf);
  EXPECT_EQ(DecodeHeader(buf, 1000, &g).code(), StatusCode::kInvalidArgument);
  h.version = kVersion;
  h.payload_size = 1001;
  EncodeHeader(h, buf);
  EXPECT_EQ(DecodeHeader(buf, 1000, &g).code(), StatusCode::kResourceExhausted);
}

TEST(IpcProtocol, TensorDescriptorsRoundTripInlineAndShm) {
  std::string p;
  Writer w(&p);
  w.U8(1);  // misalign on purpose: inline bytes must still land on a 64-byte boundary
  float vals[6] = {1, 2, 3, 4, 5, 6};
  WriteTensorHead(&w, "x", DType::kFloat32, {2, 3});
  WriteTensorInline(&w, 0, vals, sizeof(vals));
  WriteTensorHead(&w, "y", DType::kInt64, {4});
  WriteTensorShm(&w, 7, 128, 32);
  Reader r(reinterpret_cast<const uint8_t*>(p.data()), p.size());
  uint8_t one;
  ASSERT_TRUE(r.U8(&one));
  TensorDesc a, b;
  ASSERT_TRUE(ReadTensorDesc(&r, &a).ok());
  EXPECT_EQ(a.name, "x");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((a.data - reinterpret_cast<const uint8_t*>(p.data())) % kPayloadAlign, 0);
  EXPECT_EQ(std::memcmp(a.data, vals, sizeof(vals)), 0);
  ASSERT_TRUE(ReadTensorDesc(&r, &b).ok());
  EXPECT_EQ(b.location, Location::kShm);
  EXPECT_EQ(b.region, 7u);
  EXPECT_EQ(b.offset, 128u);
  EXPECT_TRUE(r.at_end());
}

TEST(IpcProtocol, TensorDescriptorChecks) {
  auto check = [](auto build) {
    std::string p;
    Writer w(&p);
    build(&w);
    Reader r(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    TensorDesc d;
    return ReadTensorDesc(&r, &d);
  };
  // Size disagreeing with the shape.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kFloat32, {2, 2});
                 WriteTensorShm(w, 1, 0, 15);
               }).ok());
  // Negative dimension.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kFloat32, {-1});
                 WriteTensorShm(w, 1, 0, 0);
               }).ok());
  // A shape whose byte size overflows 64 bits.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kFloat64, {1ll << 40, 1ll << 40});
                 WriteTensorShm(w, 1, 0, 0);
               }).ok());
  // String tensors and unknown dtype codes.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kString, {1});
                 WriteTensorShm(w, 1, 0, 8);
               }).ok());
  EXPECT_FALSE(check([](Writer* w) {
                 w->Str("x");
                 w->U8(200);
                 w->U8(0);
               }).ok());
  // Inline bytes claimed past the end of the payload.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kUInt8, {1000});
                 w->U8(0);
                 w->U64(1000);
               }).ok());
  // Unknown location.
  EXPECT_FALSE(check([](Writer* w) {
                 WriteTensorHead(w, "x", DType::kUInt8, {1});
                 w->U8(9);
               }).ok());
}

// Every prefix of a valid payload, and random bytes, must decode to an error or to a
// descriptor inside the buffer -- never crash or read past the end (ASan builds check that).
TEST(IpcProtocol, TruncatedAndRandomPayloadsFailCleanly) {
  std::string p;
  Writer w(&p);
  std::vector<float> v(100, 1.5f);
  WriteTensorHead(&w, "input", DType::kFloat32, {10, 10});
  WriteTensorInline(&w, 0, v.data(), v.size() * 4);
  for (size_t n = 0; n < p.size(); ++n) {
    std::vector<uint8_t> cut(p.begin(), p.begin() + static_cast<long>(n));
    Reader r(cut.data(), cut.size());
    TensorDesc d;
    EXPECT_FALSE(ReadTensorDesc(&r, &d).ok()) << n;
  }
  std::mt19937 rng(42);
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> buf(rng() % 200);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    if (buf.size() > 6 && iter % 2) {
      // Plausible prefix: short name, valid dtype, small rank.
      buf[0] = 1, buf[1] = buf[2] = buf[3] = 0, buf[5] = static_cast<uint8_t>(rng() % 12);
      buf[6] = static_cast<uint8_t>(rng() % 4);
    }
    Reader r(buf.data(), buf.size());
    TensorDesc d;
    if (ReadTensorDesc(&r, &d).ok()) {
      ++accepted;
      if (d.location == Location::kInline) {
        ASSERT_GE(d.data, buf.data());
        ASSERT_LE(d.data + d.nbytes, buf.data() + buf.size());
      }
    }
    ModelDesc m;
    Reader r2(buf.data(), buf.size());
    (void)ReadModelDesc(&r2, &m);
  }
  EXPECT_LT(accepted, 20000);
}

TEST(IpcProtocol, ModelDescRoundTrip) {
  ModelDesc m;
  m.id = "mlos/digits@1.0.0";
  m.status = "ready";
  m.inputs.push_back({"pixels", DType::kFloat32, {-1, 64}, {}});
  m.outputs.push_back({"label", DType::kInt64, {-1}, {}});
  std::string p;
  Writer w(&p);
  WriteModelDesc(&w, m);
  Reader r(reinterpret_cast<const uint8_t*>(p.data()), p.size());
  ModelDesc g;
  ASSERT_TRUE(ReadModelDesc(&r, &g).ok());
  EXPECT_EQ(g.id, m.id);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].shape, (std::vector<int64_t>{-1, 64}));
  EXPECT_EQ(g.outputs[0].dtype, DType::kInt64);
}

}  // namespace
}  // namespace mlos::ipc
