#include "runtime/axon_manifest.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace mlos::runtime {
namespace {

// Scalar as string, or "" when absent; InvalidArgument when present but not a scalar.
Status Str(const YAML::Node& parent, const char* key, const std::string& where, std::string* out) {
  YAML::Node n = parent[key];
  if (!n.IsDefined() || n.IsNull()) return Status::OK();
  if (!n.IsScalar()) return InvalidArgument("manifest ", where, ".", key, " must be a scalar");
  *out = n.as<std::string>();
  return Status::OK();
}

Status Files(const YAML::Node& parent, const char* key, const std::string& where,
             std::vector<ManifestFile>* out) {
  YAML::Node n = parent[key];
  if (!n.IsDefined() || n.IsNull()) return Status::OK();
  if (!n.IsSequence()) return InvalidArgument("manifest ", where, ".", key, " must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    YAML::Node e = n[i];
    ManifestFile f;
    std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    if (e.IsScalar()) {
      f.path = e.as<std::string>();
    } else if (e.IsMap()) {
      MLOS_RETURN_IF_ERROR(Str(e, "path", at, &f.path));
      if (f.path.empty()) MLOS_RETURN_IF_ERROR(Str(e, "name", at, &f.path));
      MLOS_RETURN_IF_ERROR(Str(e, "sha256", at, &f.sha256));
      std::string size;
      MLOS_RETURN_IF_ERROR(Str(e, "size", at, &size));
      if (!size.empty()) {
        try {
          f.size = std::stoll(size);
        } catch (...) {
          return InvalidArgument("manifest ", at, ".size is not an integer");
        }
      }
    } else {
      return InvalidArgument("manifest ", at, " must be a path or a map");
    }
    if (f.path.empty()) return InvalidArgument("manifest ", at, " has no path");
    out->push_back(std::move(f));
  }
  return Status::OK();
}

Status Tensors(const YAML::Node& io, const char* key, std::vector<TensorInfo>* out) {
  YAML::Node n = io[key];
  if (!n.IsDefined() || n.IsNull()) return Status::OK();
  if (!n.IsSequence()) return InvalidArgument("manifest spec.io.", key, " must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    YAML::Node e = n[i];
    std::string at = std::string("spec.io.") + key + "[" + std::to_string(i) + "]";
    if (!e.IsMap()) return InvalidArgument("manifest ", at, " must be a map");
    TensorInfo t;
    MLOS_RETURN_IF_ERROR(Str(e, "name", at, &t.name));
    if (t.name.empty()) return InvalidArgument("manifest ", at, ".name is missing");
    std::string dtype = "float32";
    MLOS_RETURN_IF_ERROR(Str(e, "dtype", at, &dtype));
    if (dtype.empty()) MLOS_RETURN_IF_ERROR(Str(e, "type", at, &dtype));
    Result<DType> dt = ParseDType(dtype.empty() ? "float32" : dtype);
    if (!dt.ok()) return InvalidArgument("manifest ", at, ".dtype: ", dt.status().message());
    t.dtype = *dt;
    YAML::Node shape = e["shape"];
    if (shape.IsDefined() && !shape.IsNull()) {
      if (!shape.IsSequence()) return InvalidArgument("manifest ", at, ".shape must be a list");
      for (size_t d = 0; d < shape.size(); ++d) {
        YAML::Node dim = shape[d];
        if (!dim.IsScalar()) return InvalidArgument("manifest ", at, ".shape[", d, "] bad");
        std::string s = dim.as<std::string>();
        long long v = -1;
        bool numeric =
            !s.empty() && s.size() < 19 && s.find_first_not_of("-0123456789") == std::string::npos;
        if (numeric) {
          try {
            v = std::stoll(s);
          } catch (...) {
            numeric = false;
          }
        }
        if (!numeric) {  // symbolic ("batch", "sequence") or null: dynamic
          t.shape.push_back(-1);
          t.dim_names.push_back(s);
        } else {
          if (v < -1) return InvalidArgument("manifest ", at, ".shape[", d, "] = ", v);
          t.shape.push_back(v);
          t.dim_names.emplace_back();
        }
      }
    }
    out->push_back(std::move(t));
  }
  return Status::OK();
}

}  // namespace

Result<AxonManifest> ParseAxonManifest(const std::string& yaml_text) {
  AxonManifest m;
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) return InvalidArgument("manifest: top level must be a map");
    MLOS_RETURN_IF_ERROR(Str(root, "apiVersion", "", &m.api_version));
    MLOS_RETURN_IF_ERROR(Str(root, "kind", "", &m.kind));
    YAML::Node meta = root["metadata"];
    if (meta.IsDefined() && !meta.IsNull()) {
      if (!meta.IsMap()) return InvalidArgument("manifest metadata must be a map");
      MLOS_RETURN_IF_ERROR(Str(meta, "name", "metadata", &m.name));
      MLOS_RETURN_IF_ERROR(Str(meta, "namespace", "metadata", &m.ns));
      MLOS_RETURN_IF_ERROR(Str(meta, "version", "metadata", &m.version));
      MLOS_RETURN_IF_ERROR(Str(meta, "description", "metadata", &m.description));
      MLOS_RETURN_IF_ERROR(Str(meta, "license", "metadata", &m.license));
    }
    YAML::Node spec = root["spec"];
    if (spec.IsDefined() && !spec.IsNull()) {
      if (!spec.IsMap()) return InvalidArgument("manifest spec must be a map");
      YAML::Node fw = spec["framework"];
      if (fw.IsScalar()) {
        m.framework = fw.as<std::string>();
      } else if (fw.IsMap()) {
        MLOS_RETURN_IF_ERROR(Str(fw, "name", "spec.framework", &m.framework));
        MLOS_RETURN_IF_ERROR(Str(fw, "version", "spec.framework", &m.framework_version));
      }
      YAML::Node fmt = spec["format"];
      if (fmt.IsScalar()) {
        m.format_type = fmt.as<std::string>();
      } else if (fmt.IsMap()) {
        MLOS_RETURN_IF_ERROR(Str(fmt, "type", "spec.format", &m.format_type));
        MLOS_RETURN_IF_ERROR(Str(fmt, "execution_format", "spec.format", &m.execution_format));
        MLOS_RETURN_IF_ERROR(Files(fmt, "files", "spec.format", &m.files));
        MLOS_RETURN_IF_ERROR(Files(fmt, "execution_files", "spec.format", &m.execution_files));
      }
      YAML::Node io = spec["io"];
      if (io.IsDefined() && !io.IsNull()) {
        if (!io.IsMap()) return InvalidArgument("manifest spec.io must be a map");
        MLOS_RETURN_IF_ERROR(Tensors(io, "inputs", &m.inputs));
        MLOS_RETURN_IF_ERROR(Tensors(io, "outputs", &m.outputs));
      }
      YAML::Node req = spec["requirements"];
      if (req.IsMap() && req["compute"].IsMap()) {
        YAML::Node c = req["compute"];
        MLOS_RETURN_IF_ERROR(Str(c, "cpu", "spec.requirements.compute", &m.compute_cpu));
        MLOS_RETURN_IF_ERROR(Str(c, "memory", "spec.requirements.compute", &m.compute_memory));
        if (c["gpu"].IsScalar())
          m.compute_gpu = c["gpu"].as<std::string>();
        else if (c["gpu"].IsMap())
          m.compute_gpu = "required";
      }
    }
    YAML::Node dist = root["distribution"];
    if (dist.IsMap() && dist["package"].IsMap()) {
      YAML::Node p = dist["package"];
      MLOS_RETURN_IF_ERROR(Str(p, "url", "distribution.package", &m.package_url));
      MLOS_RETURN_IF_ERROR(Str(p, "sha256", "distribution.package", &m.package_sha256));
      std::string size;
      MLOS_RETURN_IF_ERROR(Str(p, "size", "distribution.package", &size));
      if (!size.empty()) {
        try {
          m.package_size = std::stoll(size);
        } catch (...) {
          return InvalidArgument("manifest distribution.package.size is not an integer");
        }
      }
    }
  } catch (const std::exception& e) {
    return InvalidArgument("manifest is not valid YAML: ", e.what());
  }
  return m;
}

Result<AxonManifest> ReadAxonManifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read manifest ", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (4u << 20)) return InvalidArgument("manifest ", path, " exceeds 4 MiB");
  Result<AxonManifest> m = ParseAxonManifest(ss.str());
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

}  // namespace mlos::runtime
