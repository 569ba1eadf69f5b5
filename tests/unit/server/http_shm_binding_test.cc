// KServe inference with outputs in Triton system shared memory, through ApiServer in-process:
// the float output is computed straight into the registered region (pointer identity inside the
// server, through a recording plugin host) and not copied again; windows that are too small or
// misaligned, and the int64 label (a view), still get the plugin host's answer, copied once.
// Model: the embedded digits MLP (probabilities float32 [batch, 10], label int64 [batch]).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/metrics.h"
#include "server/api_server.h"
#include "server/shm_registry.h"
#include "unit/server/digits_model_stack.h"

namespace mlos::server {
namespace {

// A POSIX shm object made the way a client makes one; unlinked at the end.
class Object {
 public:
  explicit Object(size_t size) : size_(size) {
    char key[64];
    std::snprintf(key, sizeof key, "/mlos-unit-bind-%d", static_cast<int>(getpid()));
    key_ = key;
    shm_unlink(key_.c_str());
    int fd = shm_open(key_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    EXPECT_GE(fd, 0) << key_;
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    map_ = static_cast<uint8_t*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    EXPECT_NE(map_, MAP_FAILED);
    close(fd);
  }
  ~Object() {
    munmap(map_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  uint8_t* bytes() const { return map_; }

 private:
  std::string key_;
  uint8_t* map_ = nullptr;
  size_t size_ = 0;
};

class HttpShmBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(stack_.Open("http-bind"));
    ApiInfo info;
    info.http_shm = true;
    api_ = std::make_unique<ApiServer>(stack_.models(), stack_.host(), &metrics_, info);
  }
  void TearDown() override { api_.reset(); }

  http::HttpResponse Post(const std::string& path, const std::string& body) {
    path_ = path;
    body_ = body;
    http::HttpRequest req;
    req.method = "POST";
    req.target = path_;
    req.path = path_;
    req.body = body_;
    http::HttpResponse resp;
    api_->Handle(req, &resp);
    return resp;
  }

  static std::vector<float> Pixels(int rows) {
    std::vector<float> v(static_cast<size_t>(rows) * 64);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 3 + 2) % 17);
    return v;
  }
  std::vector<NamedTensor> Direct(const std::vector<float>& px, int rows) {
    std::vector<NamedTensor> out;
    Tensor x = Tensor::FromVector<float>({rows, 64}, px).value();
    EXPECT_TRUE(
        stack_.models()->Find(stack_.model_id())->loaded()->Infer({{"pixels", x}}, &out).ok());
    return out;
  }
  static std::string Params(uint64_t offset, uint64_t size) {
    return "{\"shared_memory_region\":\"r\",\"shared_memory_offset\":" + std::to_string(offset) +
           ",\"shared_memory_byte_size\":" + std::to_string(size) + "}";
  }
  // The input at region offset 0; probabilities and label windows as given.
  http::HttpResponse Infer(int rows, uint64_t p_off, uint64_t p_size, uint64_t l_off,
                           uint64_t l_size) {
    const std::string body =
        "{\"inputs\":[{\"name\":\"pixels\",\"datatype\":\"FP32\",\"shape\":[" +
        std::to_string(rows) + ",64],\"parameters\":" + Params(0, rows * 64 * 4) +
        "}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":" + Params(p_off, p_size) +
        "},{\"name\":\"label\",\"parameters\":" + Params(l_off, l_size) + "}]}";
    return Post("/v2/models/mlos%2Fdigits/infer", body);
  }
  // The server-side address of region offset `off` (the binding's owner is the registry's
  // mapping of the client's object).
  static const uint8_t* ServerAddress(const testing::InferRecord& rec, size_t i, uint64_t off) {
    auto* region = static_cast<const ShmRegistry::Region*>(rec.bindings[i].owner.get());
    return region->data() + off;
  }
  static void ExpectAt(const Object& obj, uint64_t off, const Tensor& want) {
    Tensor c = want.Contiguous().value();
    EXPECT_EQ(std::memcmp(obj.bytes() + off, c.raw_data(), c.nbytes()), 0) << "at " << off;
  }

  testing::DigitsModelStack stack_;  // destroyed after the server below
  std::string path_, body_;
  runtime::ServerMetrics metrics_;
  std::unique_ptr<ApiServer> api_;
};

TEST_F(HttpShmBindingTest, FloatOutputIsComputedInTheRegion) {
  Object obj(1 << 16);
  auto reg = Post("/v2/systemsharedmemory/region/r/register",
                  "{\"key\":\"" + obj.key() + "\",\"offset\":0,\"byte_size\":65536}");
  ASSERT_EQ(reg.status, 200) << reg.body;
  for (int rows : {4, 9, 4}) {
    const std::vector<float> px = Pixels(rows);
    std::memcpy(obj.bytes(), px.data(), px.size() * sizeof(float));
    std::memset(obj.bytes() + 8192, 0xEE, 8192);
    const auto want = Direct(px, rows);
    stack_.host()->Clear();
    auto r = Infer(rows, 8192, 4096, 12288, 1024);
    ASSERT_EQ(r.status, 200) << r.body;
    ExpectAt(obj, 8192, want[0].second);
    ExpectAt(obj, 12288, want[1].second);
    const testing::InferRecord rec = stack_.host()->Last();
    ASSERT_EQ(rec.bindings.size(), 2u);
    EXPECT_EQ(rec.outputs[0], ServerAddress(rec, 0, 8192)) << "rows " << rows;
    EXPECT_EQ(rec.outputs[0], rec.bindings[0].data);
    // The label is a view of a Cast result: bound, but not computed in place.
    EXPECT_EQ(rec.bindings[1].data, ServerAddress(rec, 1, 12288));
    EXPECT_NE(rec.outputs[1], rec.bindings[1].data);
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    ASSERT_TRUE(doc.IsObject()) << r.body;
    const auto& p = doc["outputs"][0]["parameters"];
    EXPECT_EQ(p["shared_memory_offset"].GetUint64(), 8192u);
    EXPECT_EQ(p["shared_memory_byte_size"].GetUint64(), static_cast<uint64_t>(rows) * 40);
  }
}

TEST_F(HttpShmBindingTest, WindowsThatCannotHoldTheOutputFallBack) {
  Object obj(1 << 16);
  ASSERT_EQ(Post("/v2/systemsharedmemory/region/r/register",
                 "{\"key\":\"" + obj.key() + "\",\"offset\":0,\"byte_size\":65536}")
                .status,
            200);
  const int rows = 3;
  const std::vector<float> px = Pixels(rows);
  std::memcpy(obj.bytes(), px.data(), px.size() * sizeof(float));
  const auto want = Direct(px, rows);
  // Misaligned for float: computed elsewhere, copied in.
  auto r = Infer(rows, 8194, 4096, 12288, 1024);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectAt(obj, 8194, want[0].second);
  testing::InferRecord rec = stack_.host()->Last();
  EXPECT_NE(rec.outputs[0], rec.bindings[0].data);
  // One byte short: the engine does not place it and the request fails as before, naming sizes.
  std::memset(obj.bytes() + 8192, 0xEE, 256);
  r = Infer(rows, 8192, rows * 40 - 1, 12288, 1024);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("needs 120 bytes but shared_memory_byte_size is 119"), std::string::npos)
      << r.body;
  EXPECT_EQ(obj.bytes()[8192], 0xEE);
  // A window over the input: not written during the run; the answer is still right.
  r = Infer(rows, 0, 4096, 12288, 1024);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectAt(obj, 0, want[0].second);
  rec = stack_.host()->Last();
  EXPECT_NE(rec.outputs[0], rec.bindings[0].data);
}

}  // namespace
}  // namespace mlos::server
