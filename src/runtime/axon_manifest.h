// AxonManifest: the manifest.yaml of an Axon package (the Model Package Format), read with
// yaml-cpp. Only what MLOS uses is kept; unknown keys are ignored so newer Axon versions load.
//
//   apiVersion, kind
//   metadata: {name, namespace, version, description, license, ...}
//   spec:
//     framework: {name, version}
//     format: {type, execution_format, files: [...], execution_files: [...]}
//     io: {inputs: [{name, dtype, shape: [-1, 128], preprocessing}], outputs: [...]}
//     requirements: {compute: {cpu, memory, gpu}}
//   distribution: {package: {url, size, sha256}}
//
// Files entries may be plain paths or maps {path, size, sha256}. Every malformed field is an
// InvalidArgument naming it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor_info.h"

namespace mlos::runtime {

struct ManifestFile {
  std::string path;  // relative to the package folder
  std::string sha256;
  int64_t size = -1;
};

struct AxonManifest {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string ns;
  std::string version;
  std::string description;
  std::string license;
  std::string framework;
  std::string framework_version;
  std::string format_type;
  std::string execution_format;
  std::vector<ManifestFile> files;
  std::vector<ManifestFile> execution_files;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::string compute_cpu;
  std::string compute_memory;
  std::string compute_gpu;
  std::string package_url;
  int64_t package_size = -1;
  std::string package_sha256;
};

Result<AxonManifest> ParseAxonManifest(const std::string& yaml_text);
Result<AxonManifest> ReadAxonManifest(const std::string& path);

}  // namespace mlos::runtime
