// mlos_core: the MLOS daemon. Loads the configuration (flags > MLOS_* environment > --config
// YAML > defaults), restores the model registry, scans the models dir, serves the HTTP API
// and stops gracefully on SIGINT/SIGTERM: stop accepting, let in-flight requests finish
// within shutdown_timeout_ms, checkpoint the registry, exit 0.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mlos/thread_pool.h"
#include "mlos/version.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "runtime/registry_store.h"
#include "runtime/training_service.h"
#include "runtime/training_service_plugin.h"
#include "server/api_server.h"
#include "server/http/http_server.h"
#include "server/ipc/ipc_server.h"

extern char** environ;

namespace {

using namespace mlos;           // NOLINT
using namespace mlos::runtime;  // NOLINT

std::string ExecutablePath(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

// `rel` resolved against the executable's folder, or "" when that folder is not a directory.
std::string ExecutableRelative(const char* argv0, const char* rel) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(
      std::filesystem::path(ExecutablePath(argv0)).parent_path() / rel, ec);
  if (ec || !std::filesystem::is_directory(p, ec)) return "";
  return p.string();
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  Result<DaemonConfig> loaded = LoadConfig(args, env);
  if (!loaded.ok()) {
    fprintf(stderr, "mlos_core: %s\n", loaded.status().message().c_str());
    return 2;
  }
  DaemonConfig cfg = std::move(loaded).value();
  if (cfg.show_help) {
    fputs(ConfigUsage().c_str(), stdout);
    return 0;
  }
  if (cfg.show_version) {
    printf("mlos_core %s\n", MLOS_VERSION_STRING);
    return 0;
  }
  Result<LogLevel> level = ParseLogLevel(cfg.log_level);
  if (!level.ok()) {
    fprintf(stderr, "mlos_core: %s\n", level.status().message().c_str());
    return 2;
  }
  SetLogLevel(*level);
  ResolveDefaultDirs(&cfg, ExecutablePath(argv[0]));

  // Signals are taken synchronously by the main thread; every other thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    LogError("cannot create the data dir", {{"data_dir", cfg.data_dir}, {"error", ec.message()}});
    return 1;
  }
  LogInfo("starting mlos_core", {{"version", MLOS_VERSION_STRING},
                                 {"data_dir", cfg.data_dir},
                                 {"models_dir", cfg.models_dir},
                                 {"config", cfg.config}});

  ThreadPool pool(cfg.compute_threads);
  std::unique_ptr<PluginHost> host;
#ifdef MLOS_HAVE_PLUGIN_HOST
  PluginHostOptions popts;
  popts.pool = &pool;
  popts.log = [](int lvl, std::string_view source, std::string_view message) {
    LogLevel l = lvl <= 0   ? LogLevel::kDebug
                 : lvl == 1 ? LogLevel::kInfo
                 : lvl == 2 ? LogLevel::kWarn
                            : LogLevel::kError;
    Log(l, message, {{"source", std::string(source)}});
  };
  Result<std::unique_ptr<PluginHost>> h = CreatePluginHost(popts);
  if (h.ok()) {
    host = std::move(h).value();
    // Plugins found at start: the data dir's plugins/, the system folder, the folder beside
    // the executable (build/mlos_core -> build/plugins, where libmlos_torch.so is built;
    // <prefix>/bin/mlos_core -> <prefix>/lib/mlos/plugins), and --plugins-dir; with
    // --no-default-plugins only the last (tests start daemons without libtorch that way).
    std::vector<std::string> dirs;
    std::vector<std::string> candidates = {cfg.plugins_dir};
    if (!cfg.no_default_plugins) {
      candidates = {cfg.data_dir + "/plugins", std::string("/usr/local/lib/mlos/plugins"),
                    ExecutableRelative(argv[0], "plugins"),
                    ExecutableRelative(argv[0], "../lib/mlos/plugins"), cfg.plugins_dir};
    }
    for (std::string dir : candidates) {
      if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
        dirs.push_back(std::move(dir));
      }
    }
    for (const std::string& dir : dirs) {
      Status s = host->LoadPluginDirectory(dir);
      if (!s.ok()) LogWarn("plugins dir", {{"dir", dir}, {"error", s.ToString()}});
    }
  } else {
    LogError("plugin host unavailable; models will not be served",
             {{"error", h.status().ToString()}});
  }
#else
  LogWarn("built without the plugin host; models register but are not served");
#endif

  Result<std::unique_ptr<RegistryStore>> store = RegistryStore::Open(cfg.data_dir + "/registry.db");
  if (!store.ok()) {
    LogError("cannot open the registry", {{"error", store.status().ToString()}});
    return 1;
  }
  ModelManager models(store->get(), host.get(), cfg.data_dir);
  Status rs = models.Restore();
  if (!rs.ok()) LogError("registry restore failed", {{"error", rs.ToString()}});
  int scanned = models.ScanModelsDir(cfg.models_dir);
  LogInfo("models dir scanned",
          {{"models_dir", cfg.models_dir}, {"registered", std::to_string(scanned)}});

  // ---- training sessions (issue 7): served by a plugin with the SMI training entries ----
  // The service exists even without such a plugin, so persisted sessions stay listable; then
  // starting or resuming one answers Unavailable (HTTP 503).
  std::unique_ptr<TrainingService> training;
#ifdef MLOS_HAVE_PLUGIN_HOST
  if (host) {
    training = CreatePluginTrainingService(host.get(), &models, cfg.data_dir);
    Result<std::shared_ptr<PluginTrainer>> trainer = host->OpenTrainer("");
    if (!trainer.ok()) {
      LogWarn(
          "no training plugin loaded (libmlos_torch.so in <data-dir>/plugins, "
          "/usr/local/lib/mlos/plugins, the plugins folder beside mlos_core, or "
          "--plugins-dir); training sessions answer 503",
          {{"sessions", std::to_string(training->List().size())}});
    } else {
      LogInfo("training sessions served", {{"plugin", (*trainer)->plugin_id()},
                                           {"sessions", std::to_string(training->List().size())}});
    }
  } else {
    LogWarn("no plugin host; training sessions are not available");
  }
#endif

  ServerMetrics metrics;
  server::ApiInfo info;
  info.version = MLOS_VERSION_STRING;
  info.host = cfg.host;
  info.http_port = cfg.http_port;
  info.grpc_port = cfg.grpc_port;
  info.socket = cfg.socket;
  info.grpc_enabled = !cfg.no_grpc;
  info.ipc_enabled = !cfg.no_ipc;
  info.http_shm = cfg.http_shm;
  server::ApiServer api(&models, host.get(), &metrics, info);
  api.set_training_service(training.get());

  std::unique_ptr<server::http::HttpServer> http;
  if (!cfg.no_http) {
    server::http::HttpServerOptions hopts;
    hopts.host = cfg.host;
    hopts.port = cfg.http_port;
    hopts.threads = cfg.http_threads;
    hopts.limits.max_body_bytes = static_cast<size_t>(cfg.max_body_bytes);
    hopts.limits.max_header_bytes = static_cast<size_t>(cfg.max_header_bytes);
    hopts.idle_timeout_ms = cfg.idle_timeout_ms;
    hopts.max_connections = cfg.max_connections;
    hopts.cors_origin = cfg.cors_origin;
    auto started = server::http::HttpServer::Start(
        hopts, [&api](const server::http::HttpRequest& req, server::http::HttpResponse* resp) {
          api.Handle(req, resp);
        });
    if (!started.ok()) {
      LogError("cannot start the HTTP server", {{"error", started.status().ToString()}});
      return 1;
    }
    http = std::move(started).value();
    api.set_http_server(http.get());
    api.set_http_port(http->port());
    LogInfo("HTTP API listening",
            {{"host", cfg.host},
             {"port", std::to_string(http->port())},
             {"url", "http://" + cfg.host + ":" + std::to_string(http->port())}});
  } else {
    LogInfo("HTTP disabled (--no-http)");
  }
  if (!cfg.no_grpc) {
    LogWarn("gRPC is not served yet (later work); --grpc-port accepted",
            {{"grpc_port", std::to_string(cfg.grpc_port)}});
  }
  // ---- IPC server (server/ipc; issue 6) ----
  std::unique_ptr<server::ipc::IpcServer> ipc;
  if (!cfg.no_ipc) {
    server::ipc::IpcServerOptions iopts;
    iopts.socket_path = cfg.socket;
    iopts.version = MLOS_VERSION_STRING;
    auto started = server::ipc::IpcServer::Start(iopts, &models, host.get(), training.get());
    if (!started.ok()) {
      LogError("cannot start the IPC server", {{"error", started.status().ToString()}});
      return 1;
    }
    ipc = std::move(started).value();
    LogInfo("IPC listening", {{"socket", cfg.socket}});
  }
  // ---- end IPC server ----

  int sig = 0;
  sigwait(&stop_signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
                            {"timeout_ms", std::to_string(cfg.shutdown_timeout_ms)}});
  if (ipc) ipc->Shutdown();
  if (http) http->Shutdown(cfg.shutdown_timeout_ms);
  // The servers no longer use the service; it goes before the models and the plugin host it
  // trains on (running sessions write a last checkpoint).
  training.reset();
  models.UnloadAll();
  (*store)->Checkpoint();
  LogInfo("stopped", {{"requests", std::to_string(metrics.total())}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
