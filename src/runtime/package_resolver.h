// ResolvePackage: turns a registration request into a ModelRecord: finds the package folder,
// reads its Axon manifest, extracts .axon archives (verifying sha256 when known), picks the
// model file the plugin will load and fills framework, format and I/O from the manifest.
//
// Accepted `path`s: an Axon package folder (manifest.yaml inside), a folder holding model.onnx
// or exactly one .onnx file, a single model file, or a .axon / .tar.gz archive (extracted to
// <data_dir>/packages/<ns>/<name>/<version>). Every problem is a Status naming the path or
// field; a failed extraction leaves nothing behind. Thread-safety: call with the manager's
// registration lock held (it writes under data_dir/packages).
#pragma once

#include <string>
#include <vector>

#include "mlos/status.h"
#include "mlos/tensor_info.h"
#include "runtime/axon_manifest.h"
#include "runtime/registry_store.h"

namespace mlos::runtime {

struct RegisterRequest {
  std::string model_id;
  std::string name;
  std::string framework;
  std::string execution_format;
  std::string path;
  std::string description;
  std::string manifest_path;
  std::string plugin_id;
  std::string sha256;  // expected sha256 of an archive `path`
  std::string source = "api";
};

struct ResolvedPackage {
  ModelRecord record;
  bool has_manifest = false;
  AxonManifest manifest;
};

Result<ResolvedPackage> ResolvePackage(const RegisterRequest& req, const std::string& data_dir);

// Declared I/O <-> the text kept in ModelRecord::io_json (a small JSON document).
std::string SerializeIo(const std::vector<TensorInfo>& inputs,
                        const std::vector<TensorInfo>& outputs);
void ParseIo(const std::string& text, std::vector<TensorInfo>* inputs,
             std::vector<TensorInfo>* outputs);

}  // namespace mlos::runtime
