#include "runtime/package_resolver.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>

#include "runtime/log.h"
#include "runtime/model_id.h"
#include "runtime/package_archive.h"

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsArchive(const fs::path& p) {
  std::string s = p.filename().string();
  return EndsWith(s, ".axon") || EndsWith(s, ".tar.gz") || EndsWith(s, ".tgz") ||
         EndsWith(s, ".tar");
}

// A manifest-relative path that stays inside the package.
bool SafeRelative(std::string_view rel) {
  if (rel.empty() || rel[0] == '/') return false;
  while (!rel.empty()) {
    size_t s = rel.find('/');
    if (rel.substr(0, s) == "..") return false;
    if (s == std::string_view::npos) break;
    rel.remove_prefix(s + 1);
  }
  return true;
}

std::string FormatFromExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".onnx") return "onnx";
  if (ext == ".pt" || ext == ".pth" || ext == ".torchscript") return "pytorch";
  if (ext == ".gguf") return "gguf";
  if (ext == ".so") return "native";
  return "";
}

// The file the plugin loads, inside `dir`.
Result<fs::path> FindModelFile(const fs::path& dir, const ResolvedPackage& pkg) {
  std::error_code ec;
  if (pkg.has_manifest) {
    for (const auto* list : {&pkg.manifest.execution_files, &pkg.manifest.files}) {
      for (const ManifestFile& f : *list) {
        if (!SafeRelative(f.path)) {
          return InvalidArgument("manifest file path '", f.path, "' leaves the package");
        }
        fs::path p = dir / f.path;
        if (list == &pkg.manifest.files && p.extension() != ".onnx") continue;
        if (fs::is_regular_file(p, ec)) return p;
      }
    }
  }
  if (fs::is_regular_file(dir / "model.onnx", ec)) return dir / "model.onnx";
  std::vector<fs::path> found;
  for (const fs::path& sub : {dir, dir / "model", dir / "onnx"}) {
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& e : fs::directory_iterator(sub, ec)) {
      if (e.is_regular_file(ec) && e.path().extension() == ".onnx") found.push_back(e.path());
    }
    if (!found.empty()) break;
  }
  if (found.size() == 1) return found[0];
  if (found.size() > 1) {
    return InvalidArgument("folder ", dir.string(), " holds ", found.size(),
                           " .onnx files; name one in the manifest's execution_files");
  }
  std::string fmt =
      pkg.record.execution_format.empty() ? pkg.record.framework : pkg.record.execution_format;
  if (!fmt.empty() && fmt != "onnx") return dir;  // other plugins load folders themselves
  return InvalidArgument("no model file in ", dir.string(),
                         ": expected model.onnx, one .onnx file or manifest execution_files");
}

Status VerifyFileHashes(const fs::path& dir, const AxonManifest& m) {
  for (const auto* list : {&m.files, &m.execution_files}) {
    for (const ManifestFile& f : *list) {
      if (f.sha256.empty() || !SafeRelative(f.path)) continue;
      fs::path p = dir / f.path;
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) continue;
      MLOS_ASSIGN_OR_RETURN(std::string got, Sha256File(p.string()));
      if (got != f.sha256) {
        return DataLoss("sha256 of ", f.path, " is ", got, ", the manifest says ", f.sha256);
      }
    }
  }
  return Status::OK();
}

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Extracts an archive into data_dir/packages; returns the package root and sets *id.
Result<fs::path> ExtractArchive(const fs::path& archive, const RegisterRequest& req,
                                const std::string& data_dir, ModelId* id) {
  std::error_code ec;
  // Expected hash: from the request, else from a manifest sitting beside the archive.
  std::string expected = req.sha256;
  if (expected.empty()) {
    fs::path beside = req.manifest_path.empty() ? archive.parent_path() / "manifest.yaml"
                                                : fs::path(req.manifest_path);
    if (fs::is_regular_file(beside, ec)) {
      Result<AxonManifest> m = ReadAxonManifest(beside.string());
      if (m.ok()) expected = m->package_sha256;
    }
  }
  if (!expected.empty()) {
    MLOS_ASSIGN_OR_RETURN(std::string got, Sha256File(archive.string()));
    if (got != expected) {
      return DataLoss("sha256 of ", archive.filename().string(), " is ", got, ", expected ",
                      expected);
    }
  }
  fs::path packages = fs::path(data_dir) / "packages";
  fs::create_directories(packages, ec);
  fs::path tmp = packages / (".extract-" + UniqueSuffix());
  MLOS_RETURN_IF_ERROR(ExtractPackage(archive.string(), tmp.string()));
  // The package root: the archive root, or its single top-level folder.
  fs::path root = tmp;
  if (!fs::exists(root / "manifest.yaml", ec)) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(tmp, ec)) entries.push_back(e.path());
    if (entries.size() == 1 && fs::is_directory(entries[0], ec) && !fs::is_symlink(entries[0]))
      root = entries[0];
  }
  if (req.model_id.empty()) {
    fs::path mf = root / "manifest.yaml";
    Result<AxonManifest> m = fs::is_regular_file(mf, ec)
                                 ? ReadAxonManifest(mf.string())
                                 : Result<AxonManifest>(InvalidArgument(
                                       "archive has no manifest.yaml and no model_id was given"));
    if (!m.ok()) {
      fs::remove_all(tmp, ec);
      return m.status();
    }
    Result<ModelId> parsed = ParseModelId((m->ns.empty() ? "local" : m->ns) + "/" + m->name + "@" +
                                          (m->version.empty() ? "latest" : m->version));
    if (!parsed.ok()) {
      fs::remove_all(tmp, ec);
      return parsed.status().WithContext("archive manifest metadata");
    }
    *id = *parsed;
  } else {
    Result<ModelId> parsed = ParseModelId(req.model_id);
    if (!parsed.ok()) {
      fs::remove_all(tmp, ec);
      return parsed.status();
    }
    *id = *parsed;
  }
  fs::path final_dir = packages / id->ns / id->name / (id->version + "-" + UniqueSuffix());
  fs::create_directories(final_dir.parent_path(), ec);
  fs::rename(root, final_dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return Internal("cannot move extracted package to ", final_dir.string(), ": ", ec.message());
  }
  fs::remove_all(tmp, ec);
  return final_dir;
}

}  // namespace

Result<ResolvedPackage> ResolvePackage(const RegisterRequest& req, const std::string& data_dir) {
  ResolvedPackage pkg;
  ModelRecord& r = pkg.record;
  std::error_code ec;
  std::string path = req.path;
  if (path.empty() && !req.manifest_path.empty()) {
    path = fs::path(req.manifest_path).parent_path().string();
  }
  if (path.empty()) {
    return InvalidArgument("'path' (or 'model_path' or 'manifest_path') is required");
  }
  if (path.find('\0') != std::string::npos) return InvalidArgument("'path' holds a NUL byte");
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec || !fs::exists(p, ec)) return InvalidArgument("path '", path, "' does not exist");
  if (!req.manifest_path.empty() && !fs::is_regular_file(req.manifest_path, ec)) {
    return InvalidArgument("manifest_path '", req.manifest_path, "' does not exist");
  }

  fs::path pkg_dir;
  fs::path model_file;
  ModelId id;
  bool have_id = false;
  fs::path manifest_path = req.manifest_path;
  if (fs::is_regular_file(p, ec) && IsArchive(p)) {
    MLOS_ASSIGN_OR_RETURN(pkg_dir, ExtractArchive(p, req, data_dir, &id));
    have_id = true;
    r.owns_files = true;
    r.source = "archive";
    manifest_path = pkg_dir / "manifest.yaml";
    if (!fs::is_regular_file(manifest_path, ec)) manifest_path.clear();
  } else if (fs::is_directory(p, ec)) {
    pkg_dir = p;
    if (manifest_path.empty() && fs::is_regular_file(p / "manifest.yaml", ec)) {
      manifest_path = p / "manifest.yaml";
    }
  } else if (fs::is_regular_file(p, ec)) {
    model_file = p;
    pkg_dir = p.parent_path();
  } else {
    return InvalidArgument("path '", path, "' is neither a file nor a folder");
  }
  auto cleanup = [&] {
    if (r.owns_files) fs::remove_all(pkg_dir, ec);
  };

  if (!manifest_path.empty()) {
    Result<AxonManifest> m = ReadAxonManifest(manifest_path.string());
    if (!m.ok()) {
      cleanup();
      return m.status();
    }
    pkg.manifest = std::move(m).value();
    pkg.has_manifest = true;
    Status hs = VerifyFileHashes(pkg_dir, pkg.manifest);
    if (!hs.ok()) {
      cleanup();
      return hs;
    }
  }
  const AxonManifest& m = pkg.manifest;

  if (!have_id) {
    std::string text = req.model_id;
    if (text.empty() && pkg.has_manifest && !m.name.empty()) {
      text = (m.ns.empty() ? "local" : m.ns) + "/" + m.name + "@" +
             (m.version.empty() ? "latest" : m.version);
    }
    if (text.empty()) {
      return InvalidArgument("'model_id' is required (no manifest metadata to derive it from)");
    }
    MLOS_ASSIGN_OR_RETURN(id, ParseModelId(text));
  }
  r.id = id.ToString();
  r.ns = id.ns;
  r.name = id.name;
  r.version = id.version;
  r.framework = !req.framework.empty() ? req.framework : m.framework;
  r.execution_format = !req.execution_format.empty() ? req.execution_format
                       : !m.execution_format.empty() ? m.execution_format
                                                     : m.format_type;
  r.description = !req.description.empty() ? req.description : m.description;
  r.plugin_id = req.plugin_id;
  if (r.source.empty()) r.source = req.source;
  if (!r.owns_files) r.source = req.source;

  if (model_file.empty()) {
    Result<fs::path> f = FindModelFile(pkg_dir, pkg);
    if (!f.ok()) {
      cleanup();
      return f.status();
    }
    model_file = *f;
  }
  std::string ext_format = FormatFromExtension(model_file);
  if (r.execution_format.empty()) r.execution_format = ext_format;
  if (r.framework.empty()) r.framework = r.execution_format;
  r.path = model_file.string();
  r.package_dir = pkg_dir.string();
  r.manifest_path = manifest_path.string();
  r.io_json = SerializeIo(m.inputs, m.outputs);
  r.created_at = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return pkg;
}

std::string SerializeIo(const std::vector<TensorInfo>& inputs,
                        const std::vector<TensorInfo>& outputs) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  auto list = [&](const char* key, const std::vector<TensorInfo>& ts) {
    w.Key(key);
    w.StartArray();
    for (const TensorInfo& t : ts) {
      w.StartObject();
      w.Key("name");
      w.String(t.name.c_str(), static_cast<rapidjson::SizeType>(t.name.size()));
      w.Key("dtype");
      std::string_view dt = DTypeName(t.dtype);
      w.String(dt.data(), static_cast<rapidjson::SizeType>(dt.size()));
      w.Key("shape");
      w.StartArray();
      for (int64_t d : t.shape) w.Int64(d);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  list("inputs", inputs);
  list("outputs", outputs);
  w.EndObject();
  return sb.GetString();
}

void ParseIo(const std::string& text, std::vector<TensorInfo>* inputs,
             std::vector<TensorInfo>* outputs) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject()) return;
  auto list = [&](const char* key, std::vector<TensorInfo>* out) {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsArray()) return;
    for (const auto& e : it->value.GetArray()) {
      if (!e.IsObject() || !e.HasMember("name") || !e["name"].IsString()) continue;
      TensorInfo t;
      t.name = e["name"].GetString();
      if (e.HasMember("dtype") && e["dtype"].IsString()) {
        Result<DType> dt = ParseDType(e["dtype"].GetString());
        if (dt.ok()) t.dtype = *dt;
      }
      if (e.HasMember("shape") && e["shape"].IsArray()) {
        for (const auto& s : e["shape"].GetArray()) {
          t.shape.push_back(s.IsInt64() ? s.GetInt64() : -1);
          t.dim_names.emplace_back();
        }
      }
      out->push_back(std::move(t));
    }
  };
  list("inputs", inputs);
  list("outputs", outputs);
}

}  // namespace mlos::runtime
