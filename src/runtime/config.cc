#include "runtime/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <map>

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;

enum class Kind { kString, kInt, kInt64, kBool };

struct Option {
  const char* key;  // snake_case
  Kind kind;
  std::function<void*(DaemonConfig&)> field;
  const char* help;
};

const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"host", Kind::kString, [](DaemonConfig& c) -> void* { return &c.host; },
       "address to listen on (default 127.0.0.1)"},
      {"http_port", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.http_port; },
       "HTTP port (default 8080; 0 picks a free one)"},
      {"grpc_port", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.grpc_port; },
       "gRPC port (default 8081; the gRPC server is not served yet)"},
      {"socket", Kind::kString, [](DaemonConfig& c) -> void* { return &c.socket; },
       "Unix socket of the IPC server (default $XDG_RUNTIME_DIR/mlos.sock, else "
       "<data_dir>/mlos.sock)"},
      {"config", Kind::kString, [](DaemonConfig& c) -> void* { return &c.config; },
       "YAML file whose keys are these options"},
      {"data_dir", Kind::kString, [](DaemonConfig& c) -> void* { return &c.data_dir; },
       "registry database and extracted packages (default $HOME/.mlos)"},
      {"models_dir", Kind::kString, [](DaemonConfig& c) -> void* { return &c.models_dir; },
       "folder scanned at start for <ns>/<name>/<version>/manifest.yaml"},
      {"plugins_dir", Kind::kString, [](DaemonConfig& c) -> void* { return &c.plugins_dir; },
       "folder of lib*.so SMI plugins loaded at start"},
      {"no_default_plugins", Kind::kBool,
       [](DaemonConfig& c) -> void* { return &c.no_default_plugins; },
       "load plugins at start only from plugins_dir, not from <data_dir>/plugins, "
       "/usr/local/lib/mlos/plugins or the folders beside mlos_core (skips loading "
       "libtorch: 0.7-2 s per start)"},
      {"no_http", Kind::kBool, [](DaemonConfig& c) -> void* { return &c.no_http; },
       "do not serve HTTP"},
      {"no_grpc", Kind::kBool, [](DaemonConfig& c) -> void* { return &c.no_grpc; },
       "do not serve gRPC"},
      {"no_ipc", Kind::kBool, [](DaemonConfig& c) -> void* { return &c.no_ipc; },
       "do not serve the Unix-socket IPC protocol"},
      {"http_shm", Kind::kBool, [](DaemonConfig& c) -> void* { return &c.http_shm; },
       "serve KServe/Triton system shared memory over HTTP (/v2/systemsharedmemory; off)"},
      {"log_level", Kind::kString, [](DaemonConfig& c) -> void* { return &c.log_level; },
       "debug, info, warn, error or off (default info)"},
      {"http_threads", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.http_threads; },
       "HTTP event-loop threads (default: CPUs)"},
      {"compute_threads", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.compute_threads; },
       "threads of the shared compute pool (default: CPUs)"},
      {"max_body_bytes", Kind::kInt64, [](DaemonConfig& c) -> void* { return &c.max_body_bytes; },
       "largest request body (default 67108864)"},
      {"max_header_bytes", Kind::kInt64,
       [](DaemonConfig& c) -> void* { return &c.max_header_bytes; },
       "largest request line plus headers (default 65536)"},
      {"max_connections", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.max_connections; },
       "open connections before new ones get 503 (default 10000)"},
      {"idle_timeout_ms", Kind::kInt, [](DaemonConfig& c) -> void* { return &c.idle_timeout_ms; },
       "close connections idle this long (default 60000)"},
      {"shutdown_timeout_ms", Kind::kInt,
       [](DaemonConfig& c) -> void* { return &c.shutdown_timeout_ms; },
       "time in-flight requests get to finish on SIGINT/SIGTERM (default 10000)"},
      {"cors_origin", Kind::kString, [](DaemonConfig& c) -> void* { return &c.cors_origin; },
       "allowed CORS origin, e.g. * (default: no CORS headers)"},
  };
  return kOptions;
}

std::string Normalize(std::string_view key) {
  std::string k(key);
  for (char& ch : k) {
    if (ch == '-') ch = '_';
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return k;
}

const Option* FindOption(const std::string& key) {
  for (const Option& o : Options()) {
    if (key == o.key) return &o;
  }
  return nullptr;
}

Status Apply(const Option& o, const std::string& value, const std::string& source,
             DaemonConfig* cfg) {
  void* field = o.field(*cfg);
  auto bad = [&](const char* what) {
    return InvalidArgument(source, ": '", o.key, "' must be ", what, ", got '", value, "'");
  };
  switch (o.kind) {
    case Kind::kString:
      *static_cast<std::string*>(field) = value;
      return Status::OK();
    case Kind::kBool: {
      std::string v = Normalize(value);
      if (v == "1" || v == "true" || v == "yes" || v == "on" || v.empty()) {
        *static_cast<bool*>(field) = true;
      } else if (v == "0" || v == "false" || v == "no" || v == "off") {
        *static_cast<bool*>(field) = false;
      } else {
        return bad("a boolean");
      }
      return Status::OK();
    }
    case Kind::kInt:
    case Kind::kInt64: {
      int64_t v = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), v);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || v < 0) {
        return bad("a non-negative integer");
      }
      if (o.kind == Kind::kInt) {
        if (v > INT32_MAX) return bad("a smaller integer");
        *static_cast<int*>(field) = static_cast<int>(v);
      } else {
        *static_cast<int64_t*>(field) = v;
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

Status ReadYaml(const std::string& path, std::map<std::string, std::string>* out) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) return Status::OK();
    if (!root.IsMap()) return InvalidArgument("config file ", path, ": top level must be a map");
    for (const auto& kv : root) {
      std::string key = Normalize(kv.first.as<std::string>());
      if (!kv.second.IsScalar()) {
        return InvalidArgument("config file ", path, ": '", key, "' must be a scalar");
      }
      (*out)[key] = kv.second.as<std::string>();
    }
  } catch (const std::exception& e) {
    return InvalidArgument("config file ", path, ": ", e.what());
  }
  return Status::OK();
}

Status Validate(const DaemonConfig& c) {
  if (c.http_port > 65535) return InvalidArgument("http_port ", c.http_port, " exceeds 65535");
  if (c.grpc_port > 65535) return InvalidArgument("grpc_port ", c.grpc_port, " exceeds 65535");
  if (c.max_body_bytes < 1) return InvalidArgument("max_body_bytes must be positive");
  if (c.max_header_bytes < 1024 || c.max_header_bytes > (1 << 30)) {
    return InvalidArgument("max_header_bytes must be within 1024..1073741824");
  }
  if (c.max_connections < 1) return InvalidArgument("max_connections must be positive");
  if (c.idle_timeout_ms < 1) return InvalidArgument("idle_timeout_ms must be positive");
  if (c.http_threads > 64 || c.compute_threads > 256) {
    return InvalidArgument("http_threads is at most 64 and compute_threads at most 256");
  }
  return Status::OK();
}

}  // namespace

Result<DaemonConfig> LoadConfig(const std::vector<std::string>& args,
                                const std::vector<std::string>& env) {
  DaemonConfig cfg;
  // Flags first into a list, so --config is known before anything is applied.
  std::vector<std::pair<const Option*, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      cfg.show_help = true;
      continue;
    }
    if (a == "--version") {
      cfg.show_version = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return InvalidArgument("unexpected argument '", a, "'");
    std::string name = a.substr(2);
    std::string value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Option* o = FindOption(Normalize(name));
    if (!o) return InvalidArgument("unknown flag '--", name, "' (see --help)");
    if (!has_value && o->kind != Kind::kBool) {
      if (i + 1 >= args.size()) return InvalidArgument("flag '--", name, "' needs a value");
      value = args[++i];
    }
    flags.emplace_back(o, value);
  }

  std::map<std::string, std::string> env_values;
  for (const std::string& e : env) {
    if (e.rfind("MLOS_", 0) != 0) continue;
    size_t eq = e.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Normalize(e.substr(5, eq - 5));
    if (FindOption(key)) env_values[key] = e.substr(eq + 1);
  }

  std::string config_file;
  if (env_values.count("config")) config_file = env_values["config"];
  for (const auto& [o, v] : flags) {
    if (std::string_view(o->key) == "config") config_file = v;
  }
  if (!config_file.empty()) {
    std::map<std::string, std::string> file_values;
    MLOS_RETURN_IF_ERROR(ReadYaml(config_file, &file_values));
    for (const auto& [k, v] : file_values) {
      const Option* o = FindOption(k);
      if (!o) return InvalidArgument("config file ", config_file, ": unknown key '", k, "'");
      MLOS_RETURN_IF_ERROR(Apply(*o, v, "config file " + config_file, &cfg));
    }
  }
  for (const auto& [k, v] : env_values) {
    MLOS_RETURN_IF_ERROR(Apply(*FindOption(k), v, "environment MLOS_*", &cfg));
  }
  for (const auto& [o, v] : flags) {
    MLOS_RETURN_IF_ERROR(Apply(*o, v, "command line", &cfg));
  }
  cfg.config = config_file;
  MLOS_RETURN_IF_ERROR(Validate(cfg));
  return cfg;
}

std::string ConfigUsage() {
  std::string s =
      "usage: mlos_core [options]\n"
      "Every option is also a YAML key in --config FILE (http_port: 9090) and an environment\n"
      "variable (MLOS_HTTP_PORT=9090); flags override the environment, which overrides the "
      "file.\n\n";
  for (const Option& o : Options()) {
    std::string flag = std::string("--") + o.key;
    for (char& c : flag) {
      if (c == '_') c = '-';
    }
    if (o.kind != Kind::kBool) flag += " V";
    s += "  " + flag + std::string(flag.size() < 26 ? 26 - flag.size() : 1, ' ') + o.help + "\n";
  }
  s += "  --help, --version\n";
  return s;
}

void ResolveDefaultDirs(DaemonConfig* config, const std::string& executable_path) {
  if (config->data_dir.empty()) {
    const char* home = getenv("HOME");
    config->data_dir = home && *home ? std::string(home) + "/.mlos" : "mlos-data";
  }
  if (config->socket.empty()) {
    const char* xdg = getenv("XDG_RUNTIME_DIR");
    config->socket = (xdg && *xdg ? std::string(xdg) : config->data_dir) + "/mlos.sock";
  }
  if (config->models_dir.empty()) {
    std::error_code ec;
    fs::path exe = fs::weakly_canonical(fs::path(executable_path), ec);
    std::vector<fs::path> candidates;
    if (!ec && !executable_path.empty()) {
      candidates.push_back(exe.parent_path().parent_path() / "models");  // build/mlos_core
      candidates.push_back(exe.parent_path().parent_path() / "share" / "mlos" / "models");
    }
#ifdef MLOS_SOURCE_MODELS_DIR
    candidates.push_back(MLOS_SOURCE_MODELS_DIR);
#endif
    for (const fs::path& p : candidates) {
      if (fs::is_directory(p, ec)) {
        config->models_dir = p.string();
        break;
      }
    }
  }
}

}  // namespace mlos::runtime
