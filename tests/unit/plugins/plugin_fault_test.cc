// Faulty plugins are contained: exceptions, error codes, nonsense sizes, bad pointers and
// malformed outputs each give that request a clean Status, and the host keeps serving.
#include <gtest/gtest.h>

#include "plugin_test_util.h"
#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

using testing::TempDir;
using testing::TestPlugin;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginHostOptions o;
    o.pool = &pool_;
    o.load_builtins = false;
    o.log = [](int, std::string_view, std::string_view) {};
    host_ = std::move(CreatePluginHost(o)).value();
    ASSERT_TRUE(host_->RegisterPlugin("faulty", "", "", TestPlugin("faulty")).ok());
    good_ = host_->LoadModel("faulty", "good", dir_.path() + "/good").value();
  }

  std::shared_ptr<LoadedModel> Model(const std::string& mode) {
    auto m = host_->LoadModel("faulty", mode, dir_.path() + "/" + mode);
    EXPECT_TRUE(m.ok()) << mode << ": " << m.status().ToString();
    return m.ok() ? *m : nullptr;
  }

  // The host still serves after a fault.
  void ExpectHealthy() {
    std::vector<NamedTensor> outs;
    Tensor x = Tensor::FromVector<float>({2}, {1, 2}).value();
    ASSERT_TRUE(good_->Infer({{"x", x}}, &outs).ok());
    EXPECT_EQ(outs[0].second.GetAsDouble(1), 3.0);
    std::string raw;
    ASSERT_TRUE(good_->InferRaw("ping", &raw).ok());
    EXPECT_EQ(raw, "ping");
  }

  ThreadPool pool_{1};
  TempDir dir_;
  std::unique_ptr<PluginHost> host_;
  std::shared_ptr<LoadedModel> good_;
};

struct TensorFault {
  const char* mode;
  StatusCode code;
  const char* text;
};

TEST_F(FaultTest, TensorEntryFaultsBecomeRequestErrors) {
  const std::vector<TensorFault> faults = {
      {"throw", StatusCode::kInternal, "threw an exception: tensor inference exploded"},
      {"throw_int", StatusCode::kInternal, "threw an unknown exception"},
      {"error", StatusCode::kInvalidArgument, "x must be positive"},
      {"unknown_code", StatusCode::kInternal, "unknown SMI status code -99"},
      {"bad_dtype", StatusCode::kInvalidArgument, "unknown dtype code 99"},
      {"neg_shape", StatusCode::kInvalidArgument, "invalid shape [-5]"},
      {"huge_shape", StatusCode::kInvalidArgument, "shape"},
      {"too_many_dims", StatusCode::kInvalidArgument, "40 dimensions"},
      {"null_name", StatusCode::kInvalidArgument, "name is NULL"},
      {"bad_name_ptr", StatusCode::kInvalidArgument, "unreadable memory"},
      {"bad_shape_ptr", StatusCode::kInvalidArgument, "unreadable memory"},
      {"bad_adopt", StatusCode::kInvalidArgument, "unreadable data pointer"},
      {"dup_output", StatusCode::kInvalidArgument, "produced output 'y' twice"},
      {"missing_output", StatusCode::kInternal, "produced 0 outputs but declares 1"},
      {"extra_output", StatusCode::kInternal, "produced 2 outputs but declares 1"},
  };
  for (const auto& f : faults) {
    auto m = Model(f.mode);
    ASSERT_NE(m, nullptr);
    std::vector<NamedTensor> outs;
    Tensor x = Tensor::FromVector<float>({2}, {1, 2}).value();
    Status s = m->Infer({{"x", x}}, &outs);
    ASSERT_FALSE(s.ok()) << f.mode;
    EXPECT_EQ(s.code(), f.code) << f.mode << ": " << s.ToString();
    EXPECT_NE(s.message().find(f.text), std::string::npos) << f.mode << ": " << s.message();
    EXPECT_NE(s.message().find("plugin 'faulty'"), std::string::npos) << s.message();
    EXPECT_TRUE(outs.empty()) << f.mode;
    ExpectHealthy();
  }
}

TEST_F(FaultTest, ByteEntryFaultsBecomeRequestErrors) {
  const std::vector<TensorFault> faults = {
      {"throw", StatusCode::kInternal, "inference exploded"},
      {"throw_int", StatusCode::kInternal, "unknown exception"},
      {"error", StatusCode::kInternal, "the accelerator caught fire"},
      {"error_nomsg", StatusCode::kInternal, "inference failed with status -5"},
      {"unknown_code", StatusCode::kInternal, "unknown SMI status code 42"},
      {"big_size", StatusCode::kInternal, "bytes written into a 65536-byte buffer"},
      {"endless_too_small", StatusCode::kInternal, "kept asking for larger buffers"},
      {"huge_too_small", StatusCode::kInternal, "limit"},
      {"overflow", StatusCode::kInternal, "wrote past the end of its 65536-byte output buffer"},
  };
  for (const auto& f : faults) {
    auto m = Model(f.mode);
    ASSERT_NE(m, nullptr);
    std::string out = "untouched";
    Status s = m->InferRaw("request", &out);
    ASSERT_FALSE(s.ok()) << f.mode;
    EXPECT_EQ(s.code(), f.code) << f.mode << ": " << s.ToString();
    EXPECT_NE(s.message().find(f.text), std::string::npos) << f.mode << ": " << s.message();
    EXPECT_EQ(out, "untouched") << f.mode;
    ExpectHealthy();
  }
}

TEST_F(FaultTest, LifecycleFaultsBecomeLoadErrors) {
  auto reg = host_->LoadModel("faulty", "r", dir_.path() + "/register_error");
  EXPECT_EQ(reg.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reg.status().message().find("register_model failed: no such model in the zoo"),
            std::string::npos)
      << reg.status().message();
  auto load = host_->LoadModel("faulty", "l", dir_.path() + "/load_throw");
  EXPECT_EQ(load.status().code(), StatusCode::kInternal);
  EXPECT_NE(load.status().message().find("load_model threw an exception: load exploded"),
            std::string::npos);
  auto info = host_->LoadModel("faulty", "i", dir_.path() + "/bad_info");
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(info.status().message().find("unreadable memory"), std::string::npos);
  auto huge = host_->LoadModel("faulty", "h", dir_.path() + "/huge_info");
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("exceeds"), std::string::npos);
  // Failed loads release what they registered.
  EXPECT_EQ(host_->ListPlugins()[0].models_loaded, 1);
  ExpectHealthy();
}

TEST_F(FaultTest, InputsTheAbiCannotCarryAreRefused) {
  std::vector<NamedTensor> outs;
  Tensor s = Tensor::Scalar<std::string>("text");
  EXPECT_EQ(good_->Infer({{"x", s}}, &outs).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(good_->Infer({{"x", Tensor()}}, &outs).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(good_->Infer({{"x", Tensor::FromVector<float>({1}, {1}).value()}}, nullptr).code(),
            StatusCode::kInvalidArgument);
  ExpectHealthy();
}

}  // namespace
}  // namespace mlos::runtime
