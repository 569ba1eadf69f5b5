// Python plugins: the seed's example as written, typed numpy tensors, and Python errors turned
// into clean request errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "plugin_test_util.h"
#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

using testing::SourcePath;
using testing::TempDir;

std::unique_ptr<PluginHost> PyHost(ThreadPool* pool) {
  PluginHostOptions o;
  o.pool = pool;
  o.load_builtins = false;
  o.log = [](int, std::string_view, std::string_view) {};
  return std::move(CreatePluginHost(o)).value();
}

TEST(PythonPlugin, TheSeedExampleRunsAsWritten) {
  ThreadPool pool(1);
  auto host = PyHost(&pool);
  auto info =
      host->RegisterPlugin("my-python-plugin", "My Python Plugin", "1.0.0",
                           "file://" + SourcePath("examples/plugins/python/my_ml_plugin.py"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "My Python Plugin");
  EXPECT_EQ(info->path, SourcePath("examples/plugins/python/my_ml_plugin.py"));
  auto m = host->LoadModel("my-python-plugin", "echo", "/models/echo");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->has_tensor_inference());
  std::string out;
  ASSERT_TRUE((*m)->InferRaw("hello from C++", &out).ok());
  EXPECT_EQ(out, "hello from C++");
  std::string big(100000, 'z');
  ASSERT_TRUE((*m)->InferRaw(big, &out).ok());
  EXPECT_EQ(out, big);
  ASSERT_TRUE(host->UnregisterPlugin("my-python-plugin").ok());
}

TEST(PythonPlugin, NumpyTensorsBothWays) {
  ThreadPool pool(1);
  auto host = PyHost(&pool);
  // No id: named after the script.
  auto info =
      host->RegisterPlugin("", "", "", SourcePath("examples/plugins/python/numpy_plugin.py"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, "numpy_plugin");
  EXPECT_EQ(info->name, "Softmax (Python example)");
  EXPECT_EQ(info->frameworks, std::vector<std::string>{"numpy-softmax"});
  EXPECT_EQ(*host->SelectPlugin("numpy-softmax", "", ""), "numpy_plugin");
  auto m = host->LoadModel("numpy_plugin", "softmax", "/unused").value();
  ASSERT_EQ(m->inputs().size(), 1u);
  EXPECT_EQ(m->inputs()[0].name, "logits");
  EXPECT_EQ(m->inputs()[0].shape, (Shape{-1, -1}));
  std::vector<NamedTensor> outs;
  Tensor x = Tensor::FromVector<float>({2, 2}, {0, 0, 1, 3}).value();
  Status st = m->Infer({{"logits", x}}, &outs);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].first, "probs");
  EXPECT_EQ(outs[0].second.shape(), (Shape{2, 2}));
  EXPECT_NEAR(outs[0].second.GetAsDouble(0), 0.5, 1e-6);
  EXPECT_NEAR(outs[0].second.GetAsDouble(3), std::exp(3.0) / (std::exp(1.0) + std::exp(3.0)), 1e-6);
  std::string out;
  ASSERT_TRUE(m->InferRaw("[0, 0]", &out).ok());
  EXPECT_EQ(out, "[0.5, 0.5]");
  // A missing input is the plugin's ERROR_INVALID_PARAM.
  EXPECT_EQ(m->Infer({{"other", x}}, &outs).code(), StatusCode::kInvalidArgument);
}

TEST(PythonPlugin, PythonErrorsBecomeCleanRequestErrors) {
  ThreadPool pool(1);
  auto host = PyHost(&pool);
  TempDir dir;
  const std::string script = dir.Write("broken_plugin.py", R"(
import mlos_smi

class Broken(mlos_smi.Plugin):
    frameworks = ["broken"]
    def load_model(self, handle, path):
        if path.endswith("missing"):
            raise mlos_smi.PluginError("no weights at " + path, mlos_smi.ERROR_NOT_FOUND)
        return mlos_smi.SUCCESS
    def inference(self, handle, input_data):
        if input_data == b"div":
            return 1 / 0
        if input_data == b"code":
            return None, 12345
        if input_data == b"type":
            return object(), mlos_smi.SUCCESS
        return "error text", mlos_smi.ERROR_INVALID_PARAM

mlos_smi.register_plugin(Broken())
)");
  ASSERT_TRUE(host->RegisterPlugin("broken", "", "", script).ok());
  auto missing = host->LoadModel("broken", "m", "/x/missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("PluginError: no weights at /x/missing"),
            std::string::npos)
      << missing.status().message();
  auto m = host->LoadModel("broken", "m", "/x/ok").value();
  std::string out;
  Status div = m->InferRaw("div", &out);
  EXPECT_EQ(div.code(), StatusCode::kInternal);
  EXPECT_NE(div.message().find("ZeroDivisionError: division by zero (broken_plugin.py:"),
            std::string::npos)
      << div.message();
  Status code = m->InferRaw("code", &out);
  EXPECT_NE(code.message().find("unknown status code 12345"), std::string::npos) << code.message();
  Status type = m->InferRaw("type", &out);
  EXPECT_NE(type.message().find("cannot encode object as JSON"), std::string::npos)
      << type.message();
  Status inv = m->InferRaw("x", &out);
  EXPECT_EQ(inv.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(inv.message().find("error text"), std::string::npos) << inv.message();

  // Scripts that fail to load are refused with the Python error.
  const std::string syntax = dir.Write("syntax_plugin.py", "def broken(:\n");
  auto r = host->RegisterPlugin("syn", "", "", syntax);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SyntaxError"), std::string::npos) << r.status().message();
  const std::string none = dir.Write("none_plugin.py", "import mlos_smi\n");
  auto n = host->RegisterPlugin("none", "", "", none);
  EXPECT_NE(n.status().message().find("did not call mlos_smi.register_plugin()"), std::string::npos)
      << n.status().message();
  // Two Python plugins live side by side, each with its own host copy.
  ASSERT_TRUE(
      host->RegisterPlugin("echo", "", "", SourcePath("examples/plugins/python/my_ml_plugin.py"))
          .ok());
  auto e = host->LoadModel("echo", "e", "/e").value();
  ASSERT_TRUE(e->InferRaw("both", &out).ok());
  EXPECT_EQ(out, "both");
  EXPECT_EQ(m->InferRaw("x", &out).code(), StatusCode::kInvalidArgument);
}

TEST(PythonPlugin, PluginDirectoriesLoadScriptsToo) {
  ThreadPool pool(1);
  auto host = PyHost(&pool);
  ASSERT_TRUE(host->LoadPluginDirectory(SourcePath("examples/plugins/python")).ok());
  std::vector<std::string> ids;
  for (const auto& p : host->ListPlugins()) ids.push_back(p.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"my_ml_plugin", "numpy_plugin"}));
}

}  // namespace
}  // namespace mlos::runtime
