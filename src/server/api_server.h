// ApiServer: the daemon's HTTP API, one handler for mlos_http.
//
//   MLOS Core:  GET /health, GET /stats, GET /metrics (Prometheus), GET /events (SSE stats),
//               POST /models/register, GET /models, GET|DELETE /models/{id},
//               POST /models/{id}/inference, POST /plugins/register, GET /plugins,
//               DELETE /plugins/{id}
//   KServe v2:  GET /v2, /v2/health/live, /v2/health/ready, /v2/models/{m}[/versions/{v}],
//               .../ready, POST .../infer (JSON and binary tensor data)
//
// Every error is {"error": "..."} with a status from the Status code (400, 404, 409, 413, 422,
// 503, ...). Handle() is called concurrently from the event loops; the ApiServer holds no
// per-request state and its collaborators are thread-safe. Inference runs on the calling loop
// thread (the engine parallelises inside the shared ThreadPool).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/metrics.h"
#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "server/http/http_message.h"
#include "server/http/http_server.h"

namespace mlos::runtime {
class TrainingService;  // runtime/training_service.h
}  // namespace mlos::runtime

namespace mlos::server {

class ShmRegistry;  // shm_registry.h: regions registered through /v2/systemsharedmemory

struct ApiInfo {
  std::string version;
  std::string host;
  int http_port = 0;
  int grpc_port = 0;
  std::string socket;
  bool grpc_enabled = false;  // requested (not yet served)
  bool ipc_enabled = false;   // requested (served by the IPC server when it exists)
  bool http_shm = false;      // Triton system shared memory over HTTP (--http-shm)
};

class ApiServer {
 public:
  ApiServer(runtime::ModelManager* models, runtime::PluginHost* plugins,
            runtime::ServerMetrics* metrics, ApiInfo info);

  void Handle(const http::HttpRequest& req, http::HttpResponse* resp);

  // For the connection gauges in /stats and /metrics; may stay null.
  void set_http_server(const http::HttpServer* server) { http_ = server; }
  void set_http_port(int port) { info_.http_port = port; }
  // Training sessions (/training/sessions); null: those routes answer 503.
  void set_training_service(runtime::TrainingService* training) { training_ = training; }

 private:
  // Routes; each returns the Route it served, for metrics.
  runtime::Route Dispatch(const http::HttpRequest& req, http::HttpResponse* resp);
  void Health(http::HttpResponse* resp);
  void Stats(http::HttpResponse* resp);
  void Metrics(http::HttpResponse* resp);
  void Events(const http::HttpRequest& req, http::HttpResponse* resp);
  void ListPlugins(http::HttpResponse* resp);
  void RegisterPlugin(const http::HttpRequest& req, http::HttpResponse* resp);
  void DeletePlugin(std::string_view id, http::HttpResponse* resp);

  // model_routes.cc
  void RegisterModel(const http::HttpRequest& req, http::HttpResponse* resp);
  void ListModels(http::HttpResponse* resp);
  void GetModel(std::string_view id, http::HttpResponse* resp);
  void DeleteModel(std::string_view id, http::HttpResponse* resp);
  void Inference(std::string_view id, const http::HttpRequest& req, http::HttpResponse* resp);
  void RawInference(runtime::ModelEntry& e, runtime::LoadedModel& model,
                    const http::HttpRequest& req, http::HttpResponse* resp);

  // kserve_routes.cc
  runtime::Route KServe(const http::HttpRequest& req, std::string_view rest,
                        http::HttpResponse* resp);
  void KServeMetadata(const runtime::ModelEntry& e, http::HttpResponse* resp);
  void KServeInfer(runtime::ModelEntry& e, const http::HttpRequest& req, http::HttpResponse* resp);

  // shm_routes.cc: /v2/systemsharedmemory (status, region/{r}/register|status|unregister)
  runtime::Route SystemSharedMemory(const http::HttpRequest& req, std::string_view rest,
                                    http::HttpResponse* resp);

  // training_routes.cc: /training/sessions[/{id}[/pause|/resume|/stop|/events]]
  runtime::Route Training(const http::HttpRequest& req, std::string_view rest,
                          http::HttpResponse* resp);

  std::string StatsJson() const;

  runtime::ModelManager* models_;
  runtime::PluginHost* plugins_;
  runtime::ServerMetrics* metrics_;
  ApiInfo info_;
  const http::HttpServer* http_ = nullptr;
  runtime::TrainingService* training_ = nullptr;
  std::shared_ptr<ShmRegistry> shm_;  // created when info_.http_shm
};

// The HTTP status for a failed Status (InvalidArgument 400, NotFound 404, ...).
int HttpStatusFor(const Status& s);
void SetError(http::HttpResponse* resp, int status, std::string_view message);
void SetError(http::HttpResponse* resp, const Status& s);

}  // namespace mlos::server
