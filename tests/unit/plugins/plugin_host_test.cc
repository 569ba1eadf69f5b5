// PluginHost: loading, describing, selecting, serving and unloading plugins; version checks and
// plugins that fail to load.
#include "runtime/plugin_host.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "mlos/smi_spec.h"
#include "plugin_test_util.h"

namespace mlos::runtime {
namespace {

using testing::ExamplePlugin;
using testing::TempDir;
using testing::TestPlugin;

std::unique_ptr<PluginHost> NewHost(ThreadPool* pool, bool builtins = true) {
  PluginHostOptions o;
  o.pool = pool;
  o.load_builtins = builtins;
  o.log = [](int, std::string_view, std::string_view) {};
  auto host = CreatePluginHost(o);
  EXPECT_TRUE(host.ok()) << host.status().ToString();
  return std::move(host).value();
}

Tensor Floats(Shape shape, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(shape), v).value();
}

std::vector<float> ToVector(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i)
    out[static_cast<size_t>(i)] = static_cast<float>(t.GetAsDouble(i));
  return out;
}

TEST(PluginHost, ServesTheCExampleThroughBothEntries) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  TempDir dir;
  const std::string model = dir.Write("scale.txt", "2 1\n");
  auto info = host->RegisterPlugin("scale", "", "", "file://" + ExamplePlugin("scale"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, "scale");
  EXPECT_EQ(info->name, "Scale (C example)");
  EXPECT_EQ(info->version, "1.0.0");
  EXPECT_EQ(info->frameworks, std::vector<std::string>{"scale"});
  EXPECT_EQ(*host->SelectPlugin("scale", "", ""), "scale");

  auto m = host->LoadModel("scale", "m1", model);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& model_ptr = *m;
  ASSERT_EQ(model_ptr->inputs().size(), 1u);
  EXPECT_EQ(model_ptr->inputs()[0].name, "x");
  EXPECT_EQ(model_ptr->inputs()[0].shape, Shape{-1});
  EXPECT_EQ(model_ptr->outputs()[0].name, "y");
  EXPECT_TRUE(model_ptr->has_tensor_inference());
  EXPECT_TRUE(model_ptr->has_raw_inference());

  std::vector<NamedTensor> outs;
  InferenceTiming timing;
  ASSERT_TRUE(model_ptr->Infer({{"x", Floats({2, 2}, {1, 2, 3, -4})}}, &outs, &timing).ok());
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].first, "y");
  EXPECT_EQ(outs[0].second.shape(), (Shape{2, 2}));
  EXPECT_EQ(ToVector(outs[0].second), (std::vector<float>{3, 5, 7, -7}));
  EXPECT_GE(timing.plugin_us, 0);

  // A non-contiguous input view is made contiguous before it crosses the ABI.
  Tensor base = Floats({2, 2}, {1, 2, 3, 4});
  Tensor transposed = base.Permute(std::vector<int64_t>{1, 0}).value();
  ASSERT_TRUE(model_ptr->Infer({{"x", transposed}}, &outs).ok());
  EXPECT_EQ(ToVector(outs[0].second), (std::vector<float>{3, 7, 5, 9}));

  // Byte level: raw float32 in and out.
  const float raw_in[3] = {0.5f, 1.5f, -1.0f};
  std::string out;
  ASSERT_TRUE(
      model_ptr->InferRaw(std::string_view(reinterpret_cast<const char*>(raw_in), 12), &out).ok());
  ASSERT_EQ(out.size(), 12u);
  float raw_out[3];
  std::memcpy(raw_out, out.data(), 12);
  EXPECT_EQ(raw_out[0], 2.0f);
  EXPECT_EQ(raw_out[1], 4.0f);
  EXPECT_EQ(raw_out[2], -1.0f);

  // Plugin-reported errors carry the plugin's message.
  auto bad = model_ptr->Infer({{"z", Floats({1}, {1})}}, &outs);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("input 'x' is required"), std::string::npos) << bad.message();
  auto missing = host->LoadModel("scale", "m2", dir.path() + "/nope.txt");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("cannot open the model file"), std::string::npos);

  EXPECT_EQ(host->ListPlugins()[0].models_loaded, 1);
}

TEST(PluginHost, ServesTheSeedCExampleAsWritten) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  // No id given: the plugin's own plugin_id is used; a seed-style descriptor (struct_size 0).
  auto info = host->RegisterPlugin("", "My ML Plugin", "1.0.0", ExamplePlugin("seed"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, "my-ml-plugin");
  EXPECT_EQ(info->name, "My ML Plugin");
  auto m = host->LoadModel("my-ml-plugin", "echo", "/models/whatever");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->has_tensor_inference());
  std::string out;
  ASSERT_TRUE((*m)->InferRaw("hello plugin", &out).ok());
  EXPECT_EQ(out, "HELLO PLUGIN");
  // A request larger than the default buffer goes through the BUFFER_TOO_SMALL retry.
  std::string big(200000, 'a');
  ASSERT_TRUE((*m)->InferRaw(big, &out).ok());
  EXPECT_EQ(out, std::string(200000, 'A'));
  // Tensors reach a byte-only plugin as JSON; its reply comes back as bytes.
  std::vector<NamedTensor> outs;
  ASSERT_TRUE(
      (*m)->Infer({{"ids", Tensor::FromVector<int64_t>({3}, {1, 2, 3}).value()}}, &outs).ok());
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].second.dtype(), DType::kUInt8);
  std::string reply(static_cast<const char*>(outs[0].second.raw_data()),
                    static_cast<size_t>(outs[0].second.numel()));
  EXPECT_EQ(reply, "{\"IDS\":[1,2,3]}");
}

TEST(PluginHost, RefusesIncompatibleVersionsWithAClearMessage) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  auto major = host->RegisterPlugin("m", "", "", TestPlugin("major2"));
  EXPECT_EQ(major.status().code(), StatusCode::kFailedPrecondition);
  const std::string host_version = std::to_string(SMI_VERSION_MAJOR) + "." +
                                   std::to_string(SMI_VERSION_MINOR) + "." +
                                   std::to_string(SMI_VERSION_PATCH);
  EXPECT_NE(major.status().message().find("built for SMI 2.0.0 but this host implements SMI " +
                                          host_version),
            std::string::npos)
      << major.status().message();
  EXPECT_NE(major.status().message().find("major versions must be equal"), std::string::npos);
  auto minor = host->RegisterPlugin("n", "", "", TestPlugin("minor_up"));
  EXPECT_EQ(minor.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(minor.status().message().find("minor version must not exceed the host's"),
            std::string::npos)
      << minor.status().message();
  auto fn = host->RegisterPlugin("v", "", "", TestPlugin("version_fn"));
  EXPECT_EQ(fn.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(fn.status().message().find("SMI 3.0.0"), std::string::npos);
  EXPECT_TRUE(host->ListPlugins().empty());
}

TEST(PluginHost, ReportsPluginsThatFailToLoad) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  struct Case {
    std::string path;
    StatusCode code;
    const char* text;
  };
  const std::vector<Case> cases = {
      {TestPlugin("init_null"), StatusCode::kInternal, "smi_plugin_init returned NULL"},
      {TestPlugin("bad_id"), StatusCode::kInvalidArgument, "plugin_id points to unreadable memory"},
      {TestPlugin("no_entry"), StatusCode::kInvalidArgument, "neither inference nor"},
      {TestPlugin("init_fails"), StatusCode::kInternal, "cannot find the license server"},
      {TestPlugin("init_throws"), StatusCode::kInternal, "smi_plugin_init threw"},
      {TestPlugin("nosym"), StatusCode::kInvalidArgument, "does not export smi_plugin_init"},
      {"relative/libx.so", StatusCode::kInvalidArgument, "absolute"},
      {"/nonexistent/libx.so", StatusCode::kNotFound, "does not exist"},
      {"http://example.com/libx.so", StatusCode::kInvalidArgument, "file:///"},
      {"/etc/hostname", StatusCode::kInvalidArgument, "cannot load plugin library"},
  };
  for (const auto& c : cases) {
    auto r = host->RegisterPlugin("", "", "", c.path);
    ASSERT_FALSE(r.ok()) << c.path;
    EXPECT_EQ(r.status().code(), c.code) << c.path << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.text), std::string::npos)
        << c.path << ": " << r.status().message();
  }
  EXPECT_TRUE(host->ListPlugins().empty());
}

TEST(PluginHost, RefusesDuplicateIdsAndUnknownUnregisters) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  ASSERT_TRUE(host->RegisterPlugin("a", "", "", ExamplePlugin("scale")).ok());
  EXPECT_EQ(host->RegisterPlugin("a", "", "", ExamplePlugin("seed")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(host->UnregisterPlugin("zzz").code(), StatusCode::kNotFound);
  EXPECT_TRUE(host->UnregisterPlugin("a").ok());
  EXPECT_EQ(host->UnregisterPlugin("a").code(), StatusCode::kNotFound);
}

bool LibraryLoaded(const std::string& path) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (h != nullptr) dlclose(h);
  return h != nullptr;
}

TEST(PluginHost, UnloadsTheLibraryOnceNoModelUsesIt) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  TempDir dir;
  const std::string lib = TestPlugin("faulty");
  ASSERT_FALSE(LibraryLoaded(lib));
  ASSERT_TRUE(host->RegisterPlugin("t", "", "", lib).ok());
  std::shared_ptr<LoadedModel> model = host->LoadModel("t", "m", dir.path() + "/good").value();
  std::shared_ptr<LoadedModel> adopting = host->LoadModel("t", "a", dir.path() + "/adopt").value();
  ASSERT_TRUE(host->UnregisterPlugin("t").ok());
  EXPECT_TRUE(host->ListPlugins().empty());
  EXPECT_EQ(host->LoadModel("t", "m2", "x").status().code(), StatusCode::kNotFound);
  // The models still serve: they hold the library.
  EXPECT_TRUE(LibraryLoaded(lib));
  std::vector<NamedTensor> outs;
  ASSERT_TRUE(model->Infer({{"x", Floats({2}, {1, 2})}}, &outs).ok());
  EXPECT_EQ(ToVector(outs[0].second), (std::vector<float>{2, 3}));
  std::vector<NamedTensor> adopted;
  ASSERT_TRUE(adopting->Infer({{"x", Floats({3}, {1, 2, 3})}}, &adopted).ok());
  EXPECT_EQ(ToVector(adopted[0].second), (std::vector<float>{2, 3, 4}));
  model.reset();
  adopting.reset();
  // Outputs a plugin handed over (adopt) keep the library until they are freed.
  EXPECT_TRUE(LibraryLoaded(lib));
  Tensor keep = adopted[0].second;
  adopted.clear();
  EXPECT_TRUE(LibraryLoaded(lib));
  EXPECT_EQ(ToVector(keep), (std::vector<float>{2, 3, 4}));
  keep = Tensor();
  EXPECT_FALSE(LibraryLoaded(lib));
}

TEST(PluginHost, LoadsAPluginDirectory) {
  ThreadPool pool(1);
  auto host = NewHost(&pool, false);
  EXPECT_TRUE(host->LoadPluginDirectory("/nonexistent/plugins").ok());
  // The example folder: both example libraries load; failures would only be logged.
  ASSERT_TRUE(host->LoadPluginDirectory(MLOS_EXAMPLE_PLUGIN_DIR).ok());
  std::vector<std::string> ids;
  for (const auto& p : host->ListPlugins()) ids.push_back(p.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"example-scale", "my-ml-plugin"}));
  // The test plugin folder holds broken ones: they are skipped, the good one loads.
  auto host2 = NewHost(&pool, false);
  ASSERT_TRUE(host2->LoadPluginDirectory(MLOS_TEST_PLUGIN_DIR).ok());
  ASSERT_EQ(host2->ListPlugins().size(), 1u);
  EXPECT_EQ(host2->ListPlugins()[0].id, "test-plugin");
  EXPECT_EQ(host2->ListPlugins()[0].frameworks, (std::vector<std::string>{"test-fw", "other"}));
}

}  // namespace
}  // namespace mlos::runtime
