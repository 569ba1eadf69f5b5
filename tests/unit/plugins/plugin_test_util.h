// Helpers shared by the plugin host tests: paths of the built plugins, temporary files, and a
// small ONNX model written with the ONNX protobuf classes.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace mlos::runtime::testing {

inline std::string TestPlugin(const std::string& variant) {
  return std::string(MLOS_TEST_PLUGIN_DIR) + "/libmlos_test_plugin_" + variant + ".so";
}
inline std::string ExamplePlugin(const std::string& name) {
  return std::string(MLOS_EXAMPLE_PLUGIN_DIR) + "/libmlos_example_" + name + ".so";
}
inline std::string SourcePath(const std::string& rel) {
  return std::string(MLOS_SOURCE_DIR) + "/" + rel;
}

// A directory removed (with its files) at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mlos_plugin_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    for (const auto& f : files_) std::remove(f.c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    files_.push_back(p);
    return p;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// y = Relu(x @ W + b) with x float32 [N, 4], W [4, 3], b [3]: serialized ModelProto bytes.
std::string TinyOnnxModel();
// The W and b of TinyOnnxModel, row-major, for reference computations.
const std::vector<float>& TinyWeights();
const std::vector<float>& TinyBias();

}  // namespace mlos::runtime::testing
