// DaemonConfig: every setting of mlos_core, and how it is loaded.
//
// Sources, lowest precedence first: built-in defaults, the YAML file named by --config (or
// MLOS_CONFIG), MLOS_* environment variables, then command-line flags. Every flag is also a
// config key and an environment variable: --http-port, `http_port:` (or `http-port:`) in YAML,
// MLOS_HTTP_PORT. Values are validated; a bad value is an InvalidArgument naming the key and
// where it came from. Pure functions of their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlos/status.h"

namespace mlos::runtime {

struct DaemonConfig {
  std::string host = "127.0.0.1";
  int http_port = 8080;
  int grpc_port = 8081;
  std::string socket;    // IPC socket; empty: $XDG_RUNTIME_DIR/mlos.sock, else <data_dir>/mlos.sock
  std::string config;    // the YAML file that was read, if any
  std::string data_dir;  // registry database and extracted packages
  std::string models_dir;   // scanned at start for <ns>/<name>/<version>/manifest.yaml
  std::string plugins_dir;  // lib*.so plugins loaded at start (optional)
  // Only plugins_dir at start: skip the default folders (data dir, system, beside the binary).
  bool no_default_plugins = false;
  bool no_http = false;
  bool no_grpc = false;
  bool no_ipc = false;
  bool http_shm = false;  // Triton system shared memory over HTTP (off by default, as in Triton)
  std::string log_level = "info";
  // HTTP server tuning.
  int http_threads = 0;     // event loops; 0 = CPUs available
  int compute_threads = 0;  // the shared ThreadPool; 0 = CPUs available
  int64_t max_body_bytes = 64ll << 20;
  int64_t max_header_bytes = 64 << 10;
  int max_connections = 10000;
  int idle_timeout_ms = 60000;
  int shutdown_timeout_ms = 10000;
  std::string cors_origin;  // empty: CORS off
  bool show_help = false;
  bool show_version = false;
};

// `environ`-style list of "NAME=value" strings.
Result<DaemonConfig> LoadConfig(const std::vector<std::string>& args,
                                const std::vector<std::string>& env);

std::string ConfigUsage();

// Fills data_dir / models_dir when left empty: data in $HOME/.mlos (or ./mlos-data), models
// from the repository's models/ next to the executable or the compile-time source tree.
void ResolveDefaultDirs(DaemonConfig* config, const std::string& executable_path);

}  // namespace mlos::runtime
