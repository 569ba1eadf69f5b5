// onnx-runtime-builtin through the ABI gives what graph::Session gives directly, on both entries.
#include "plugins/onnx/onnx_plugin.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "graph/session.h"
#include "mlos/smi_spec.h"
#include "plugin_test_util.h"
#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

using testing::TempDir;

// Independent reference of TinyOnnxModel: relu(x W + b).
std::vector<float> Reference(const std::vector<float>& x, int64_t n) {
  const auto& w = testing::TinyWeights();
  const auto& b = testing::TinyBias();
  std::vector<float> y(static_cast<size_t>(n) * 3);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) {
      float acc = b[static_cast<size_t>(j)];
      for (int k = 0; k < 4; ++k)
        acc += x[static_cast<size_t>(i * 4 + k)] * w[static_cast<size_t>(k * 3 + j)];
      y[static_cast<size_t>(i * 3 + j)] = std::max(acc, 0.0f);
    }
  }
  return y;
}

TEST(OnnxPlugin, IsListedAsABuiltin) {
  ThreadPool pool(1);
  PluginHostOptions o;
  o.pool = &pool;
  auto host = std::move(CreatePluginHost(o)).value();
  auto plugins = host->ListPlugins();
  ASSERT_EQ(plugins.size(), 1u);
  EXPECT_EQ(plugins[0].id, "onnx-runtime-builtin");
  EXPECT_EQ(plugins[0].path, "builtin");
  EXPECT_EQ(plugins[0].smi_version, SMI_VERSION);
  EXPECT_EQ(plugins[0].frameworks,
            (std::vector<std::string>{"onnx", "pytorch", "tensorflow", "huggingface"}));
  EXPECT_EQ(host->UnregisterPlugin("onnx-runtime-builtin").code(), StatusCode::kFailedPrecondition);
  for (const char* fw : {"onnx", "pytorch", "tensorflow", "huggingface", "ONNX"}) {
    auto sel = host->SelectPlugin(fw, "", "");
    ASSERT_TRUE(sel.ok()) << fw;
    EXPECT_EQ(*sel, "onnx-runtime-builtin");
  }
  EXPECT_EQ(*host->SelectPlugin("unknown-fw", "onnx", ""), "onnx-runtime-builtin");
  EXPECT_EQ(host->SelectPlugin("sklearn", "pickle", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(host->SelectPlugin("onnx", "", "nope").status().code(), StatusCode::kNotFound);
}

class OnnxPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_path_ = dir_.Write("model.onnx", testing::TinyOnnxModel());
    PluginHostOptions o;
    o.pool = &pool_;
    host_ = std::move(CreatePluginHost(o)).value();
  }
  ThreadPool pool_{2};
  TempDir dir_;
  std::string model_path_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(OnnxPluginTest, TensorsThroughTheAbiMatchTheEngineAndTheReference) {
  auto sel = host_->SelectPlugin("pytorch", "onnx", "");
  ASSERT_TRUE(sel.ok());
  auto m = host_->LoadModelWithMetadata(*sel, "tiny", model_path_, "pytorch", "onnx");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& model = *m;
  ASSERT_EQ(model->inputs().size(), 1u);
  EXPECT_EQ(model->inputs()[0].name, "x");
  EXPECT_EQ(model->inputs()[0].shape, (Shape{-1, 4}));
  EXPECT_EQ(model->outputs()[0].name, "y");
  EXPECT_TRUE(model->has_tensor_inference());
  EXPECT_TRUE(model->has_raw_inference());

  const std::vector<float> xs = {1, -2, 0.5f, 3, -1, -1, 2, 0.25f};
  Tensor x = Tensor::FromVector<float>({2, 4}, xs).value();
  std::vector<NamedTensor> outs;
  ASSERT_TRUE(model->Infer({{"x", x}}, &outs).ok());
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].first, "y");
  ASSERT_EQ(outs[0].second.shape(), (Shape{2, 3}));

  graph::SessionOptions so;
  so.pool = &pool_;
  auto session = graph::Session::Load(model_path_, so).value();
  std::vector<Tensor> direct;
  ASSERT_TRUE(session->Run({{"x", x}}, &direct).ok());
  const auto ref = Reference(xs, 2);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(outs[0].second.GetAsDouble(i), direct[0].GetAsDouble(i)) << i;
    EXPECT_NEAR(outs[0].second.GetAsDouble(i), ref[static_cast<size_t>(i)], 1e-5) << i;
  }
}

// SMI 1.2 output bindings: the engine computes y straight into the caller's memory, and the
// host hands it back there (the copy the servers used to make is gone).
TEST_F(OnnxPluginTest, OutputsAreComputedIntoTheCallersBinding) {
  auto m = host_->LoadModel("onnx-runtime-builtin", "tiny", model_path_).value();
  const std::vector<float> xs = {1, -2, 0.5f, 3, -1, -1, 2, 0.25f, 4, 0, -3, 1};
  Tensor x = Tensor::FromVector<float>({3, 4}, xs).value();
  const auto ref = Reference(xs, 3);
  alignas(64) float region[64];
  std::fill(std::begin(region), std::end(region), -9.f);
  auto owner = std::make_shared<int>(0);
  std::vector<OutputBinding> b(1);
  b[0] = {region + 16, 9 * sizeof(float), owner};
  for (int run = 0; run < 3; ++run) {  // the recording run and planned runs alike
    std::vector<NamedTensor> outs;
    ASSERT_TRUE(m->InferInto({{"x", x}}, b, &outs).ok());
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].second.raw_data(), region + 16) << "run " << run;
    EXPECT_EQ(outs[0].second.shape(), (Shape{3, 3}));
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(region[16 + i], ref[i], 1e-5) << i;
    EXPECT_EQ(region[15], -9.f);
    EXPECT_EQ(region[25], -9.f);
    EXPECT_EQ(owner.use_count(), 3);  // b[0] and the output tensor
  }
  EXPECT_EQ(owner.use_count(), 2);
  // Fallbacks: one float short, then misaligned; the answer is right and elsewhere.
  for (OutputBinding bad :
       {OutputBinding{region + 16, 9 * sizeof(float) - 4, nullptr},
        OutputBinding{reinterpret_cast<uint8_t*>(region) + 66, 9 * sizeof(float), nullptr}}) {
    std::vector<NamedTensor> outs;
    ASSERT_TRUE(m->InferInto({{"x", x}}, {bad}, &outs).ok());
    EXPECT_NE(outs[0].second.raw_data(), bad.data);
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_NEAR(outs[0].second.GetAsDouble(static_cast<int64_t>(i)), ref[i], 1e-5) << i;
    }
  }
}

TEST_F(OnnxPluginTest, JsonThroughTheByteEntry) {
  // A folder holding model.onnx works as the model path.
  auto m = host_->LoadModel("onnx-runtime-builtin", "tiny", dir_.path());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string out;
  // Flat values take the declared shape [N, 4] with N from the count.
  ASSERT_TRUE((*m)->InferRaw(R"({"x": [1, -2, 0.5, 3, -1, -1, 2, 0.25]})", &out).ok());
  const auto ref = Reference({1, -2, 0.5f, 3, -1, -1, 2, 0.25f}, 2);
  EXPECT_NE(out.find("\"y\":{\"dtype\":\"float32\",\"shape\":[2,3],\"data\":["), std::string::npos)
      << out;
  // Nested arrays give the shape; an explicit {"data", "shape"} object does too.
  std::string nested, expl;
  ASSERT_TRUE((*m)->InferRaw(R"({"x": [[1, -2, 0.5, 3], [-1, -1, 2, 0.25]]})", &nested).ok());
  ASSERT_TRUE(
      (*m)->InferRaw(
              R"({"inputs": {"x": {"data": [1, -2, 0.5, 3, -1, -1, 2, 0.25], "shape": [2, 4]}}})",
              &expl)
          .ok());
  EXPECT_EQ(out, nested);
  EXPECT_EQ(out, expl);

  struct Bad {
    const char* body;
    const char* text;
  };
  for (const Bad& b : std::vector<Bad>{{"not json", "not valid JSON"},
                                       {"[1,2]", "JSON object"},
                                       {R"({"q": [1]})", "no input 'q' (inputs: x)"},
                                       {R"({"x": [1, 2, 3]})", "do not fit its shape"},
                                       {R"({"x": [[1, 2], [3]]})", "ragged"},
                                       {R"({"x": ["a"]})", "non-numeric"},
                                       {R"({"x": {"data": [1], "shape": [2]}})", "needs 2"}}) {
    Status s = (*m)->InferRaw(b.body, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << b.body << ": " << s.ToString();
    EXPECT_NE(s.message().find(b.text), std::string::npos) << b.body << ": " << s.message();
  }
}

TEST_F(OnnxPluginTest, LargeRepliesGoThroughTheRetry) {
  auto m = host_->LoadModel("onnx-runtime-builtin", "tiny", model_path_).value();
  std::string body = "{\"x\": [";
  const int64_t rows = 4000;  // a reply well over the 64 KiB first buffer
  for (int64_t i = 0; i < rows * 4; ++i) body += (i ? ",1" : "1");
  body += "]}";
  std::string out;
  ASSERT_TRUE(m->InferRaw(body, &out).ok());
  EXPECT_GT(out.size(), size_t{65536});
  EXPECT_NE(out.find("\"shape\":[4000,3]"), std::string::npos);
}

TEST_F(OnnxPluginTest, BadModelsAndRequestsAreCleanErrors) {
  const std::string junk = dir_.Write("junk.onnx", "this is not a model");
  auto bad = host_->LoadModel("onnx-runtime-builtin", "junk", junk);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("onnx-runtime-builtin"), std::string::npos);
  auto missing = host_->LoadModel("onnx-runtime-builtin", "none", "/nonexistent/model.onnx");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto m = host_->LoadModel("onnx-runtime-builtin", "tiny", model_path_).value();
  std::vector<NamedTensor> outs;
  Status wrong =
      m->Infer({{"x", Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6}).value()}}, &outs);
  EXPECT_FALSE(wrong.ok());
  EXPECT_TRUE(outs.empty());
  Status dtype =
      m->Infer({{"x", Tensor::FromVector<int32_t>({1, 4}, {1, 2, 3, 4}).value()}}, &outs);
  EXPECT_FALSE(dtype.ok());
}

// The ABI's batch entry, called on the plugin's own descriptor: each item is answered as the
// single-request entry answers it, a failing item stops the batch with its error, and NULL arrays
// are refused.
TEST_F(OnnxPluginTest, BatchEntryAnswersEachItemLikeTheSingleEntry) {
  const smi_plugin_interface_t& api = mlos_onnx_builtin_plugin_init()->interface;
  ASSERT_NE(api.batch_inference, nullptr);
  smi_model_handle_t h = nullptr;
  ASSERT_EQ(api.register_model("{}", &h), SMI_SUCCESS);
  ASSERT_EQ(api.load_model(h, model_path_.c_str()), SMI_SUCCESS);
  const std::string a = R"({"x": [1, -2, 0.5, 3]})";
  const std::string b = R"({"x": [-1, -1, 2, 0.25, 4, 0, -3, 1]})";
  const void* inputs[] = {a.data(), b.data()};
  const size_t input_sizes[] = {a.size(), b.size()};
  std::string out_a(4096, '\0'), out_b(4096, '\0'), single(4096, '\0');
  void* outputs[] = {out_a.data(), out_b.data()};
  size_t output_sizes[] = {out_a.size(), out_b.size()};
  ASSERT_EQ(api.batch_inference(h, inputs, input_sizes, 2, outputs, output_sizes), SMI_SUCCESS);
  for (int i = 0; i < 2; ++i) {
    size_t n = single.size();
    ASSERT_EQ(api.inference(h, inputs[i], input_sizes[i], single.data(), &n), SMI_SUCCESS);
    EXPECT_EQ(std::string(static_cast<char*>(outputs[i]), output_sizes[i]), single.substr(0, n))
        << "item " << i;
  }
  EXPECT_NE(std::string(out_b.data(), output_sizes[1]).find("\"shape\":[2,3]"), std::string::npos);

  const std::string bad = R"({"x": [1, 2, 3]})";
  const void* mixed[] = {a.data(), bad.data()};
  const size_t mixed_sizes[] = {a.size(), bad.size()};
  output_sizes[0] = out_a.size();
  output_sizes[1] = out_b.size();
  EXPECT_EQ(api.batch_inference(h, mixed, mixed_sizes, 2, outputs, output_sizes),
            SMI_ERROR_INVALID_PARAM);
  EXPECT_EQ(api.batch_inference(h, nullptr, input_sizes, 2, outputs, output_sizes),
            SMI_ERROR_INVALID_PARAM);
  EXPECT_EQ(api.batch_inference(h, nullptr, nullptr, 0, nullptr, nullptr), SMI_SUCCESS);
  EXPECT_EQ(api.unregister_model(h), SMI_SUCCESS);
}

}  // namespace
}  // namespace mlos::runtime
