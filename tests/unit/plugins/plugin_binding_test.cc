// LoadedModel::InferInto through the SMI 1.2 output bindings: a plugin that computes into its
// binding hands the output back at the bound address (no copy, the caller's owner held); a
// plugin that ignores bindings, or has no room, works as before; a plugin that claims more bytes
// than its binding holds fails the request. The test plugin ("faulty" library) computes
// y = x + 1; references are computed here.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "plugin_test_util.h"
#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

using testing::TempDir;
using testing::TestPlugin;

class BindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginHostOptions o;
    o.pool = &pool_;
    o.load_builtins = false;
    o.log = [](int, std::string_view, std::string_view) {};
    host_ = std::move(CreatePluginHost(o)).value();
    ASSERT_TRUE(host_->RegisterPlugin("faulty", "", "", TestPlugin("faulty")).ok());
  }

  std::shared_ptr<LoadedModel> Model(const std::string& mode) {
    auto m = host_->LoadModel("faulty", mode, dir_.path() + "/" + mode);
    EXPECT_TRUE(m.ok()) << mode << ": " << m.status().ToString();
    return m.ok() ? *m : nullptr;
  }

  static void ExpectPlusOne(const Tensor& y, const std::vector<float>& x) {
    ASSERT_EQ(y.numel(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(y.data<float>()[i], x[i] + 1) << "element " << i;
    }
  }

  ThreadPool pool_{1};
  TempDir dir_;
  std::unique_ptr<PluginHost> host_;
};

TEST_F(BindingTest, APluginThatWritesInPlaceHandsBackTheBoundAddress) {
  auto m = Model("in_place");
  ASSERT_NE(m, nullptr);
  const std::vector<float> x = {1, 2, 3, 4, 5};
  std::vector<float> region(64, -7.f);
  auto owner = std::make_shared<int>(0);
  std::vector<OutputBinding> b(1);
  b[0] = {region.data() + 8, 5 * sizeof(float), owner};
  std::vector<NamedTensor> outs;
  ASSERT_TRUE(m->InferInto({{"x", Tensor::FromVector<float>({5}, x).value()}}, b, &outs).ok());
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].first, "y");
  EXPECT_EQ(outs[0].second.raw_data(), region.data() + 8);
  ExpectPlusOne(outs[0].second, x);
  EXPECT_EQ(region[7], -7.f);
  EXPECT_EQ(region[13], -7.f);
  b.clear();
  EXPECT_EQ(owner.use_count(), 2) << "the output tensor holds the binding's owner";
  outs.clear();
  EXPECT_EQ(owner.use_count(), 1);
}

TEST_F(BindingTest, WithoutRoomOrWithoutBindingsTheOutputComesFromTheHost) {
  auto m = Model("in_place");
  ASSERT_NE(m, nullptr);
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> region(64, -7.f);
  std::vector<OutputBinding> b(1);
  b[0] = {region.data(), 3 * sizeof(float), nullptr};  // one float short
  std::vector<NamedTensor> outs;
  Tensor in = Tensor::FromVector<float>({4}, x).value();
  ASSERT_TRUE(m->InferInto({{"x", in}}, b, &outs).ok());
  EXPECT_NE(outs[0].second.raw_data(), region.data());
  ExpectPlusOne(outs[0].second, x);
  EXPECT_EQ(region[0], -7.f);
  ASSERT_TRUE(m->Infer({{"x", in}}, &outs).ok());
  ExpectPlusOne(outs[0].second, x);
  ASSERT_TRUE(m->InferInto({{"x", in}}, {}, &outs).ok());
  ExpectPlusOne(outs[0].second, x);
}

TEST_F(BindingTest, PluginsThatIgnoreBindingsKeepWorking) {
  for (const char* mode : {"good", "adopt"}) {
    auto m = Model(mode);
    ASSERT_NE(m, nullptr);
    const std::vector<float> x = {0.5f, -1.5f};
    std::vector<float> region(16, -7.f);
    std::vector<OutputBinding> b(1);
    b[0] = {region.data(), region.size() * sizeof(float), nullptr};
    std::vector<NamedTensor> outs;
    ASSERT_TRUE(m->InferInto({{"x", Tensor::FromVector<float>({2}, x).value()}}, b, &outs).ok())
        << mode;
    EXPECT_NE(outs[0].second.raw_data(), region.data()) << mode;
    ExpectPlusOne(outs[0].second, x);
  }
}

TEST_F(BindingTest, AnOutputClaimingMoreThanItsBindingFailsTheRequest) {
  auto m = Model("in_place_overrun");
  ASSERT_NE(m, nullptr);
  std::vector<float> region(16, 0.f);
  std::vector<OutputBinding> b(1);
  b[0] = {region.data(), 4 * sizeof(float), nullptr};
  std::vector<NamedTensor> outs;
  Status s = m->InferInto({{"x", Tensor::FromVector<float>({4}, {1, 2, 3, 4}).value()}}, b, &outs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("20 bytes was handed over in its 16-byte output binding"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(outs.empty());
}

}  // namespace
}  // namespace mlos::runtime
