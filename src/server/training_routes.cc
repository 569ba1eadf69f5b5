// /training/sessions: training sessions over HTTP (issue 7), on runtime::TrainingService.
//
//   POST /training/sessions                 start (body: ParseTrainingRequest's JSON) -> 201
//   GET  /training/sessions                 {"sessions": [...], "total": N}
//   GET  /training/sessions/{id}            one session (TrainingSessionToJson)
//   POST /training/sessions/{id}/pause|resume|stop   -> the session after the change
//   GET  /training/sessions/{id}/events     server-sent events: the session JSON as `status`
//                                           events, a final `end` event, then the stream ends
//
// Handlers run on the HTTP event-loop threads, so they only call the service's non-blocking
// methods (Start/Pause/Resume/Stop hand the work to the session; Get and List copy state), and
// the event stream polls the session instead of waiting on it.
#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/metrics.h"
#include "runtime/training_service.h"
#include "server/api_server.h"
#include "server/json_util.h"

namespace mlos::server {

using http::HttpRequest;
using http::HttpResponse;
using runtime::Route;
using runtime::TrainingService;
using runtime::TrainingSessionInfo;

namespace {

bool IsTerminal(training::SessionState s) {
  return s == training::SessionState::kCompleted || s == training::SessionState::kStopped ||
         s == training::SessionState::kFailed;
}

void MethodNotAllowed(HttpResponse* resp, const char* allow) {
  SetError(resp, 405, std::string("method not allowed; use ") + allow);
  resp->headers.emplace_back("Allow", allow);
}

bool IsGet(const HttpRequest& r) { return r.method == "GET" || r.method == "HEAD"; }

// Server-sent events for one session. The loop thread calls Next() every kPollMs; a `status`
// event goes out at once when the session's state changes and otherwise every `interval_ms`
// (only if something changed since the last event, with a heartbeat comment in between so
// proxies keep the connection). When the session ends, one `end` event carries its final JSON
// and the stream closes.
class TrainingEventStream : public http::StreamSource {
 public:
  static constexpr int kPollMs = 100;
  static constexpr int64_t kHeartbeatMs = 15000;

  TrainingEventStream(const TrainingService* service, std::string id, int interval_ms)
      : service_(service), id_(std::move(id)), interval_ms_(interval_ms) {}

  bool Next(std::string* out, int* next_ms) override {
    *next_ms = kPollMs;
    since_event_ms_ += first_ ? 0 : kPollMs;
    Result<TrainingSessionInfo> info = service_->Get(id_);
    if (!info.ok()) {
      // The session vanished (e.g. the service dropped it): say so and end the stream.
      Append("error", http::ErrorJson(info.status().message()), out);
      return false;
    }
    const training::SessionState state = info->status.state;
    if (IsTerminal(state)) {
      Append("end", runtime::TrainingSessionToJson(*info), out);
      return false;
    }
    bool state_changed = first_ || state != last_state_;
    if (state_changed || since_event_ms_ >= interval_ms_) {
      std::string json = runtime::TrainingSessionToJson(*info);
      if (state_changed || json != last_json_) {
        Append("status", json, out);
        last_json_ = std::move(json);
        last_state_ = state;
        since_event_ms_ = 0;
        since_write_ms_ = 0;
      }
    }
    since_write_ms_ += kPollMs;
    if (since_write_ms_ >= kHeartbeatMs) {
      out->append(": keep-alive\n\n");
      since_write_ms_ = 0;
    }
    first_ = false;
    return true;
  }

 private:
  void Append(std::string_view event, std::string_view data, std::string* out) {
    out->append("event: ");
    out->append(event);
    out->append("\nid: ");
    out->append(std::to_string(sent_++));
    out->append("\ndata: ");
    out->append(data);  // compact JSON: one line
    out->append("\n\n");
  }

  const TrainingService* service_;
  std::string id_;
  int interval_ms_;
  bool first_ = true;
  training::SessionState last_state_ = training::SessionState::kRunning;
  std::string last_json_;
  int64_t since_event_ms_ = 0;
  int64_t since_write_ms_ = 0;
  int64_t sent_ = 0;
};

// The session's JSON, or a minimal {"id": ...} when it cannot be read back (it was started,
// so the caller must still learn its id).
std::string SessionJsonOrId(const TrainingService& service, const std::string& id) {
  Result<TrainingSessionInfo> info = service.Get(id);
  if (info.ok()) return runtime::TrainingSessionToJson(*info);
  return "{\"id\":\"" + EscapeJson(id) + "\"}";
}

}  // namespace

Route ApiServer::Training(const HttpRequest& req, std::string_view rest, HttpResponse* resp) {
  // Which route this is, before anything can fail, so metrics see every request.
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  if (rest.empty()) {
    if (training_ == nullptr) {
      SetError(resp, 503, "training is not available in this daemon (no training plugin loaded)");
      return Route::kTrainingSessions;
    }
    if (req.method == "POST") {
      Result<runtime::TrainingRequest> request = runtime::ParseTrainingRequest(req.body);
      if (!request.ok()) {
        SetError(resp, request.status());
        return Route::kTrainingSessions;
      }
      Result<std::string> id = training_->Start(*request);
      if (!id.ok()) {
        SetError(resp, id.status());
        return Route::kTrainingSessions;
      }
      resp->SetJson(201, SessionJsonOrId(*training_, *id));
      resp->headers.emplace_back("Location", "/training/sessions/" + *id);
      return Route::kTrainingSessions;
    }
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET, POST"), Route::kTrainingSessions;
    resp->SetJson(200, runtime::TrainingSessionListToJson(training_->List()));
    return Route::kTrainingSessions;
  }

  std::string_view raw_id = rest, action;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    raw_id = rest.substr(0, slash);
    action = rest.substr(slash + 1);
  }
  Route route = action.empty()       ? Route::kTrainingSession
                : action == "events" ? Route::kTrainingEvents
                                     : Route::kTrainingControl;
  if (training_ == nullptr) {
    SetError(resp, 503, "training is not available in this daemon (no training plugin loaded)");
    return route;
  }
  std::string id;
  if (raw_id.empty() || !http::PercentDecode(raw_id, &id)) {
    SetError(resp, 400, "malformed training session id in the path");
    return route;
  }

  if (action.empty()) {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), route;
    Result<TrainingSessionInfo> info = training_->Get(id);
    if (!info.ok()) return SetError(resp, info.status()), route;
    resp->SetJson(200, runtime::TrainingSessionToJson(*info));
    return route;
  }

  if (action == "events") {
    if (!IsGet(req)) return MethodNotAllowed(resp, "GET"), route;
    int64_t interval = 500;
    if (std::string_view v = req.QueryParam("interval_ms"); !v.empty()) {
      auto r = std::from_chars(v.data(), v.data() + v.size(), interval);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || interval < 100 ||
          interval > 60000) {
        SetError(resp, 400, "interval_ms must be an integer within 100..60000");
        return route;
      }
    }
    // Unknown ids fail here with 404, before the stream starts.
    Result<TrainingSessionInfo> info = training_->Get(id);
    if (!info.ok()) return SetError(resp, info.status()), route;
    resp->status = 200;
    resp->content_type = "text/event-stream";
    resp->headers.emplace_back("Cache-Control", "no-cache");
    resp->stream =
        std::make_shared<TrainingEventStream>(training_, std::move(id), static_cast<int>(interval));
    return route;
  }

  Status (TrainingService::*op)(const std::string&) = nullptr;
  if (action == "pause") {
    op = &TrainingService::Pause;
  } else if (action == "resume") {
    op = &TrainingService::Resume;
  } else if (action == "stop") {
    op = &TrainingService::Stop;
  } else {
    SetError(
        resp, 404,
        "no training route '" + std::string(action) + "'; use /pause, /resume, /stop or /events");
    return route;
  }
  if (req.method != "POST") return MethodNotAllowed(resp, "POST"), route;
  Status st = (training_->*op)(id);
  if (!st.ok()) return SetError(resp, st), route;
  resp->SetJson(200, SessionJsonOrId(*training_, id));
  return route;
}

}  // namespace mlos::server
