#include "server/api_server.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/json_fields.h"
#include "runtime/log.h"
#include "server/http/response_writer.h"
#include "server/json_util.h"
#include "server/shm_registry.h"
#include "server/tensor_json.h"

namespace mlos::server {

using http::HttpRequest;
using http::HttpResponse;
using runtime::Route;

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
      return 422;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

void SetError(HttpResponse* resp, int status, std::string_view message) {
  resp->SetJson(status, http::ErrorJson(message));
}
void SetError(HttpResponse* resp, const Status& s) {
  SetError(resp, HttpStatusFor(s), s.message());
}

ApiServer::ApiServer(runtime::ModelManager* models, runtime::PluginHost* plugins,
                     runtime::ServerMetrics* metrics, ApiInfo info)
    : models_(models), plugins_(plugins), metrics_(metrics), info_(std::move(info)) {
  if (info_.http_shm) shm_ = std::make_shared<ShmRegistry>();
}

void ApiServer::Handle(const HttpRequest& req, HttpResponse* resp) {
  Route route = Dispatch(req, resp);
  int64_t us = runtime::MonotonicMicros() - req.received_us;
  metrics_->Record(route, resp->status, us);
  if (runtime::LogEnabled(runtime::LogLevel::kDebug)) {
    runtime::Log(runtime::LogLevel::kDebug, "request",
                 {{"method", std::string(req.method)},
                  {"target", std::string(req.target)},
                  {"status", std::to_string(resp->status)},
                  {"us", std::to_string(us)}});
  }
}

namespace {

bool IsGet(const HttpRequest& r) { return r.method == "GET" || r.method == "HEAD"; }

void MethodNotAllowed(HttpResponse* resp, const char* allow) {
  SetError(resp, 405, std::string("method not allowed; use ") + allow);
  resp->headers.emplace_back("Allow", allow);
}

}  // namespace

Route ApiServer::Dispatch(const HttpRequest& req, HttpResponse* resp) {
  std::string_view path = req.path;
  if (path == "/health") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kHealth;
    Health(resp);
    return Route::kHealth;
  }
  if (path.substr(0, 22) == "/v2/systemsharedmemory" && (path.size() == 22 || path[22] == '/')) {
    return SystemSharedMemory(req, path.substr(22), resp);
  }
  if (path.substr(0, 3) == "/v2" && (path.size() == 3 || path[3] == '/')) {
    return KServe(req, path.substr(3), resp);
  }
  if (path.substr(0, 18) == "/training/sessions" && (path.size() == 18 || path[18] == '/')) {
    return Training(req, path.substr(18), resp);
  }
  if (path == "/models" || path == "/models/") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kModelsList;
    ListModels(resp);
    return Route::kModelsList;
  }
  if (path == "/models/register") {
    if (req.method != "POST") return MethodNotAllowed(resp, "POST"), Route::kModelRegister;
    RegisterModel(req, resp);
    return Route::kModelRegister;
  }
  if (path.substr(0, 8) == "/models/") {
    std::string_view rest = path.substr(8);
    constexpr std::string_view kInfer = "/inference";
    bool infer = rest.size() > kInfer.size() && rest.substr(rest.size() - kInfer.size()) == kInfer;
    if (infer) rest.remove_suffix(kInfer.size());
    std::string id;
    if (!http::PercentDecode(rest, &id)) {
      SetError(resp, 400, "malformed percent-encoding in the model id");
      return infer ? Route::kModelInference : Route::kModelGet;
    }
    if (infer) {
      if (req.method != "POST") return MethodNotAllowed(resp, "POST"), Route::kModelInference;
      Inference(id, req, resp);
      return Route::kModelInference;
    }
    if (req.method == "DELETE") {
      DeleteModel(id, resp);
      return Route::kModelDelete;
    }
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET, DELETE"), Route::kModelGet;
    GetModel(id, resp);
    return Route::kModelGet;
  }
  if (path == "/stats") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kStats;
    Stats(resp);
    return Route::kStats;
  }
  if (path == "/metrics") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kMetrics;
    Metrics(resp);
    return Route::kMetrics;
  }
  if (path == "/events") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kEvents;
    Events(req, resp);
    return Route::kEvents;
  }
  if (path == "/plugins" || path == "/plugins/") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), Route::kPluginsList;
    ListPlugins(resp);
    return Route::kPluginsList;
  }
  if (path == "/plugins/register") {
    if (req.method != "POST") return MethodNotAllowed(resp, "POST"), Route::kPluginRegister;
    RegisterPlugin(req, resp);
    return Route::kPluginRegister;
  }
  if (path.substr(0, 9) == "/plugins/") {
    if (req.method != "DELETE") return MethodNotAllowed(resp, "DELETE"), Route::kPluginDelete;
    std::string id;
    if (!http::PercentDecode(path.substr(9), &id)) {
      SetError(resp, 400, "malformed percent-encoding in the plugin id");
    } else {
      DeletePlugin(id, resp);
    }
    return Route::kPluginDelete;
  }
  if (path == "/") {
    resp->SetJson(200,
                  "{\"service\":\"mlos-core\",\"version\":\"" + info_.version +
                      "\",\"routes\":[\"/health\",\"/stats\",\"/metrics\",\"/events\",\"/models\","
                      "\"/models/register\",\"/models/{id}\",\"/models/{id}/inference\","
                      "\"/plugins\",\"/plugins/register\",\"/v2\",\"/training/sessions\"]}");
    return Route::kHealth;
  }
  SetError(resp, 404, "no route for " + std::string(req.method) + " " + std::string(path));
  return Route::kNotFound;
}

void ApiServer::Health(HttpResponse* resp) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string body = "{\"status\":\"healthy\",\"service\":\"mlos-core\",\"version\":\"";
  body += info_.version;
  body += "\",\"apis\":[\"http\"],\"timestamp\":";
  body += std::to_string(now);
  body += '}';
  resp->SetJson(200, std::move(body));
}

std::string ApiServer::StatsJson() const {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  uint64_t total = metrics_->total();
  w.StartObject();
  JsonField(&w, "status", "success");
  JsonField(&w, "total_requests", total);
  JsonField(&w, "successful_requests", metrics_->successful());
  JsonField(&w, "failed_requests", metrics_->failed());
  JsonField(&w, "avg_response_time_us",
            total ? static_cast<double>(metrics_->total_us()) / static_cast<double>(total) : 0.0);
  JsonField(&w, "uptime_seconds", metrics_->uptime_seconds());
  w.Key("apis");
  w.StartObject();
  w.Key("http");
  w.StartObject();
  JsonField(&w, "state", "running");
  JsonField(&w, "host", info_.host);
  JsonField(&w, "port", info_.http_port);
  JsonField(&w, "active_connections", http_ ? http_->active_connections() : 0);
  JsonField(&w, "accepted_connections", http_ ? http_->accepted_connections() : 0);
  w.EndObject();
  w.Key("grpc");
  w.StartObject();
  JsonField(&w, "state", info_.grpc_enabled ? "not_implemented" : "disabled");
  JsonField(&w, "port", info_.grpc_port);
  w.EndObject();
  w.Key("ipc");
  w.StartObject();
  JsonField(&w, "state", info_.ipc_enabled ? "not_served" : "disabled");
  JsonField(&w, "socket", info_.socket);
  w.EndObject();
  w.EndObject();
  auto list = models_->List();
  int ready = 0;
  for (const auto& e : list) ready += e->state() == runtime::ModelState::kReady;
  w.Key("models");
  w.StartObject();
  JsonField(&w, "total", list.size());
  JsonField(&w, "ready", ready);
  w.EndObject();
  JsonField(&w, "plugins", plugins_ ? plugins_->ListPlugins().size() : 0);
  w.EndObject();
  return sb.GetString();
}

void ApiServer::Stats(HttpResponse* resp) { resp->SetJson(200, StatsJson()); }

void ApiServer::Metrics(HttpResponse* resp) {
  std::string out;
  out.reserve(16384);
  metrics_->Render(&out);
  if (http_) {
    out += "# TYPE mlos_http_connections_active gauge\nmlos_http_connections_active ";
    out += std::to_string(http_->active_connections());
    out +=
        "\n# TYPE mlos_http_connections_accepted_total counter\n"
        "mlos_http_connections_accepted_total ";
    out += std::to_string(http_->accepted_connections());
    out += "\n";
  }
  auto list = models_->List();
  out += "# HELP mlos_model_state 1 for the model's current lifecycle state.\n";
  out += "# TYPE mlos_model_state gauge\n";
  for (const auto& e : list) {
    out += "mlos_model_state{model=\"" + runtime::PromLabel(e->id()) + "\",state=\"" +
           std::string(runtime::ModelStateName(e->state())) + "\"} 1\n";
  }
  out += "# HELP mlos_model_memory_bytes Resident memory the model added when loaded.\n";
  out += "# TYPE mlos_model_memory_bytes gauge\n";
  for (const auto& e : list) {
    out += "mlos_model_memory_bytes{model=\"" + runtime::PromLabel(e->id()) + "\"} " +
           std::to_string(e->memory_bytes()) + "\n";
  }
  out += "# HELP mlos_model_inference_requests_total Inference requests per model and result.\n";
  out += "# TYPE mlos_model_inference_requests_total counter\n";
  for (const auto& e : list) {
    const auto& s = e->stats();
    uint64_t n = s.requests.load(), f = s.failures.load();
    std::string m = runtime::PromLabel(e->id());
    out += "mlos_model_inference_requests_total{model=\"" + m + "\",result=\"success\"} " +
           std::to_string(n - std::min(n, f)) + "\n";
    out += "mlos_model_inference_requests_total{model=\"" + m + "\",result=\"failure\"} " +
           std::to_string(f) + "\n";
  }
  struct H {
    const char* name;
    const char* help;
    const runtime::Histogram& (*get)(const runtime::ModelStats&);
  };
  const H hs[] = {
      {"mlos_model_inference_duration_seconds", "Server time of inference requests per model.",
       [](const runtime::ModelStats& s) -> const runtime::Histogram& { return s.latency; }},
      {"mlos_model_queue_duration_seconds", "From the request's last byte to the plugin call.",
       [](const runtime::ModelStats& s) -> const runtime::Histogram& { return s.queue; }},
      {"mlos_model_plugin_duration_seconds", "Time inside the plugin per request.",
       [](const runtime::ModelStats& s) -> const runtime::Histogram& { return s.plugin; }},
      {"mlos_model_overhead_duration_seconds", "Server time minus plugin time per request.",
       [](const runtime::ModelStats& s) -> const runtime::Histogram& { return s.overhead; }},
  };
  for (const H& h : hs) {
    out += std::string("# HELP ") + h.name + " " + h.help + "\n# TYPE " + h.name + " histogram\n";
    for (const auto& e : list) {
      const runtime::Histogram& hist = h.get(e->stats());
      if (hist.count() == 0) continue;
      hist.Render(h.name, "model=\"" + runtime::PromLabel(e->id()) + "\"", &out);
    }
  }
  resp->status = 200;
  resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
  resp->body = std::move(out);
}

namespace {

// Server-sent events: the /stats document every `interval_ms`, `count` times (0: forever).
class StatsStream : public http::StreamSource {
 public:
  StatsStream(const ApiServer* api, std::string (*make)(const ApiServer*), int interval_ms,
              int64_t count)
      : api_(api), make_(make), interval_ms_(interval_ms), count_(count) {}
  bool Next(std::string* out, int* next_ms) override {
    out->append("event: stats\nid: ");
    out->append(std::to_string(sent_));
    out->append("\ndata: ");
    out->append(make_(api_));
    out->append("\n\n");
    ++sent_;
    *next_ms = interval_ms_;
    return count_ == 0 || sent_ < count_;
  }

 private:
  const ApiServer* api_;
  std::string (*make_)(const ApiServer*);
  int interval_ms_;
  int64_t count_;
  int64_t sent_ = 0;
};

int64_t ParseIntParam(std::string_view v, int64_t fallback) {
  int64_t x = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return fallback;
  return x;
}

}  // namespace

void ApiServer::Events(const HttpRequest& req, HttpResponse* resp) {
  int64_t interval = ParseIntParam(req.QueryParam("interval_ms"), 1000);
  int64_t count = ParseIntParam(req.QueryParam("count"), 0);
  if (interval < 50 || interval > 3600000 || count < 0) {
    SetError(resp, 400, "interval_ms must be within 50..3600000 and count non-negative");
    return;
  }
  resp->status = 200;
  resp->content_type = "text/event-stream";
  resp->stream = std::make_shared<StatsStream>(
      this, [](const ApiServer* a) { return a->StatsJson(); }, static_cast<int>(interval), count);
}

void ApiServer::ListPlugins(HttpResponse* resp) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::vector<runtime::PluginInfo> list;
  if (plugins_) list = plugins_->ListPlugins();
  w.StartObject();
  JsonField(&w, "status", "success");
  w.Key("plugins");
  w.StartArray();
  for (const auto& p : list) {
    w.StartObject();
    JsonField(&w, "id", p.id);
    JsonField(&w, "name", p.name);
    JsonField(&w, "version", p.version);
    JsonField(&w, "path", p.path);
    w.Key("frameworks");
    w.StartArray();
    for (const auto& f : p.frameworks) WriteString(f, &w);
    w.EndArray();
    JsonField(&w, "smi_version", p.smi_version);
    JsonField(&w, "models_loaded", p.models_loaded);
    JsonField(&w, "status", "loaded");
    w.EndObject();
  }
  w.EndArray();
  JsonField(&w, "total", list.size());
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

void ApiServer::RegisterPlugin(const HttpRequest& req, HttpResponse* resp) {
  rapidjson::Document doc;
  Status st = ParseJson(req.body, &doc);
  if (!st.ok()) return SetError(resp, st);
  if (!doc.IsObject()) return SetError(resp, 400, "the body must be a JSON object");
  std::string id, name, version, path;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"id", &id},
                          {"name", &name},
                          {"version", &version},
                          {"path", &path},
                          {"library_path", &path},
                          {"endpoint", &path},  // issue 5: "file:///abs/path/libx.so"
                          {"plugin_id", &id}}) {
    st = GetOptionalString(doc, key, out);
    if (!st.ok()) return SetError(resp, st);
  }
  if (path.empty()) {
    return SetError(resp, 400,
                    "'endpoint' or 'path' (file:// + the plugin's shared library or .py file, "
                    "absolute) is required");
  }
  if (!plugins_) return SetError(resp, 503, "the plugin host is not available");
  Result<runtime::PluginInfo> info = plugins_->RegisterPlugin(id, name, version, path);
  if (!info.ok()) return SetError(resp, info.status());
  runtime::LogInfo("plugin registered", {{"plugin_id", info->id}, {"path", info->path}});
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  JsonField(&w, "plugin_id", info->id);
  JsonField(&w, "name", info->name);
  JsonField(&w, "version", info->version);
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

void ApiServer::DeletePlugin(std::string_view id, HttpResponse* resp) {
  if (!plugins_) return SetError(resp, 503, "the plugin host is not available");
  Status st = plugins_->UnregisterPlugin(std::string(id));
  if (!st.ok()) return SetError(resp, st);
  resp->SetJson(200, "{\"status\":\"success\",\"plugin_id\":\"" + EscapeJson(id) + "\"}");
}

}  // namespace mlos::server
