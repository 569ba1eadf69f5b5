// Axon manifest reader.
#include <gtest/gtest.h>

#include "runtime/axon_manifest.h"

namespace mlos::runtime {
namespace {

const char* kManifest = R"(apiVersion: axon.mlos.ai/v1
kind: Model
metadata:
  name: bert-base-uncased
  namespace: hf
  version: latest
  description: BERT
spec:
  framework:
    name: pytorch
    version: "2.1"
  format:
    type: onnx
    execution_format: onnx
    files:
      - model.onnx
      - path: vocab.txt
        size: 10
        sha256: abc
    execution_files: [model.onnx]
  io:
    inputs:
      - name: input_ids
        dtype: int64
        shape: [-1, batch_seq]
        preprocessing: {tokenizer: wordpiece}
    outputs:
      - name: last_hidden_state
        dtype: float32
        shape: [-1, -1, 768]
  requirements:
    compute: {cpu: "2", memory: 2Gi, gpu: false}
distribution:
  package: {url: "https://x/y.axon", size: 1234, sha256: deadbeef}
)";

TEST(AxonManifest, ParsesEverything) {
  Result<AxonManifest> m = ParseAxonManifest(kManifest);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "bert-base-uncased");
  EXPECT_EQ(m->ns, "hf");
  EXPECT_EQ(m->version, "latest");
  EXPECT_EQ(m->framework, "pytorch");
  EXPECT_EQ(m->framework_version, "2.1");
  EXPECT_EQ(m->execution_format, "onnx");
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[1].sha256, "abc");
  EXPECT_EQ(m->files[1].size, 10);
  ASSERT_EQ(m->execution_files.size(), 1u);
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->inputs[0].dtype, DType::kInt64);
  EXPECT_EQ(m->inputs[0].shape, (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(m->inputs[0].dim_names[1], "batch_seq");
  EXPECT_EQ(m->outputs[0].shape, (std::vector<int64_t>{-1, -1, 768}));
  EXPECT_EQ(m->compute_memory, "2Gi");
  EXPECT_EQ(m->compute_gpu, "false");
  EXPECT_EQ(m->package_sha256, "deadbeef");
  EXPECT_EQ(m->package_size, 1234);
}

TEST(AxonManifest, ErrorsNameTheField) {
  auto err = [](const char* y) { return ParseAxonManifest(y).status().message(); };
  EXPECT_NE(err("[1, 2]").find("top level"), std::string::npos);
  EXPECT_NE(err("metadata: [1]").find("metadata"), std::string::npos);
  EXPECT_NE(err("spec: {io: {inputs: [{name: x, dtype: complex99}]}}").find("dtype"),
            std::string::npos);
  EXPECT_NE(err("spec: {io: {inputs: [{dtype: float32}]}}").find("name"), std::string::npos);
  EXPECT_NE(err("spec: {io: {inputs: [{name: x, shape: [-5]}]}}").find("shape"), std::string::npos);
  EXPECT_NE(err("a: [unclosed").find("YAML"), std::string::npos);
  EXPECT_NE(err("spec: {format: {files: [{size: 3}]}}").find("path"), std::string::npos);
  EXPECT_FALSE(ReadAxonManifest("/nonexistent/manifest.yaml").ok());
}

}  // namespace
}  // namespace mlos::runtime
