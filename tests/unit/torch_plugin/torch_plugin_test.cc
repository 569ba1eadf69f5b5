// libmlos_torch.so through the plugin host: found in build/plugins by LoadPluginDirectory,
// chosen for TorchScript models, and its outputs equal PyTorch's (computed by /usr/bin/python3
// from the same .pt file). Bad requests are errors, not crashes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

class TorchPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mlos_torch_plugin_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string cmd = std::string("/usr/bin/python3 ") + MLOS_SOURCE_DIR +
                            "/tests/unit/torch_plugin/make_models.py " + dir_;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "make_models.py failed";
    PluginHostOptions o;
    o.pool = &pool_;
    host_ = std::move(CreatePluginHost(o)).value();
    ASSERT_TRUE(host_->LoadPluginDirectory(MLOS_PLUGINS_DIR).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ThreadPool pool_{1};
  std::string dir_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(TorchPluginTest, IsFoundInThePluginsFolderAndSelectedForTorchScript) {
  bool found = false;
  for (const auto& p : host_->ListPlugins()) {
    if (p.id != "mlos-torch") continue;
    found = true;
    EXPECT_EQ(p.frameworks, (std::vector<std::string>{"pytorch", "torchscript"}));
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(*host_->SelectPlugin("torchscript", "pytorch", ""), "mlos-torch");
}

TEST_F(TorchPluginTest, OutputsEqualPyTorch) {
  auto m =
      host_->LoadModelWithMetadata("mlos-torch", "mlp", dir_ + "/mlp.pt", "pytorch", "pytorch");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ((*m)->inputs().size(), 1u);
  EXPECT_EQ((*m)->inputs()[0].name, "input");  // nn.Sequential's forward argument
  ASSERT_EQ((*m)->outputs().size(), 1u);
  const std::vector<float> x = ReadFloats(dir_ + "/x.bin");
  const std::vector<float> want = ReadFloats(dir_ + "/y.bin");
  ASSERT_EQ(x.size(), 20u);
  ASSERT_EQ(want.size(), 15u);
  std::vector<NamedTensor> in;
  in.emplace_back("input", *Tensor::FromVector<float>(Shape{5, 4}, x));
  std::vector<NamedTensor> out;
  Status s = (*m)->Infer(in, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.shape(), (Shape{5, 3}));
  const float* got = out[0].second.data<float>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;

  // Wrong shape or dtype: an error from libtorch or the plugin, and the model still serves.
  std::vector<NamedTensor> bad;
  bad.emplace_back("input", *Tensor::FromVector<float>(Shape{5, 3}, std::vector<float>(15)));
  EXPECT_FALSE((*m)->Infer(bad, &out).ok());
  std::vector<NamedTensor> bad_type;
  bad_type.emplace_back("input",
                        *Tensor::FromVector<int32_t>(Shape{5, 4}, std::vector<int32_t>(20)));
  EXPECT_FALSE((*m)->Infer(bad_type, &out).ok());
  EXPECT_TRUE((*m)->Infer(in, &out).ok());
}

TEST_F(TorchPluginTest, TwoInputsAndATupleOfOutputs) {
  auto m =
      host_->LoadModelWithMetadata("mlos-torch", "pair", dir_ + "/pair.pt", "pytorch", "pytorch");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ((*m)->inputs().size(), 2u);
  EXPECT_EQ((*m)->inputs()[0].name, "a");
  EXPECT_EQ((*m)->inputs()[1].name, "b");
  ASSERT_EQ((*m)->outputs().size(), 2u);
  std::vector<NamedTensor> in;
  in.emplace_back("b", *Tensor::FromVector<float>(Shape{3}, {1.f, 2.f, 3.f}));
  in.emplace_back("a", *Tensor::FromVector<float>(Shape{3}, {4.f, 5.f, 6.f}));
  std::vector<NamedTensor> out;
  Status s = (*m)->Infer(in, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), 2u);
  const float* sum = out[0].second.data<float>();
  const float* prod = out[1].second.data<float>();
  EXPECT_EQ(sum[0], 5.f);
  EXPECT_EQ(sum[2], 9.f);
  EXPECT_EQ(prod[1], 10.f);
  EXPECT_EQ(prod[2], 18.f);
}

TEST_F(TorchPluginTest, MissingOrCorruptFilesAreErrors) {
  EXPECT_FALSE(host_->LoadModel("mlos-torch", "none", dir_ + "/none.pt").ok());
  std::ofstream(dir_ + "/junk.pt") << "not a zip";
  EXPECT_FALSE(host_->LoadModel("mlos-torch", "junk", dir_ + "/junk.pt").ok());
}

}  // namespace
}  // namespace mlos::runtime
