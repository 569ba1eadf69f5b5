// The MLOS Core model routes: register, list, get, delete and inference.
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "runtime/log.h"
#include "server/api_server.h"
#include "server/json_util.h"
#include "server/tensor_json.h"

namespace mlos::server {

using http::HttpRequest;
using http::HttpResponse;
using runtime::ModelEntry;
using runtime::ModelState;

namespace {

void WriteTensorInfos(const std::vector<TensorInfo>& ts, JsonWriter* w) {
  w->StartArray();
  for (const TensorInfo& t : ts) {
    w->StartObject();
    JsonField(w, "name", t.name);
    JsonField(w, "dtype", DTypeName(t.dtype));
    w->Key("shape");
    WriteShape(t.shape, w);
    w->EndObject();
  }
  w->EndArray();
}

void WriteModel(const ModelEntry& e, bool detail, JsonWriter* w) {
  const runtime::ModelRecord& r = e.record();
  w->StartObject();
  JsonField(w, "id", r.id);
  JsonField(w, "name", r.name);
  JsonField(w, "namespace", r.ns);
  JsonField(w, "version", r.version);
  JsonField(w, "plugin_id", e.plugin_id());
  JsonField(w, "status", runtime::ModelStateName(e.state()));
  JsonField(w, "framework", r.framework);
  JsonField(w, "execution_format", r.execution_format);
  JsonField(w, "path", r.path);
  std::string err = e.error();
  if (!err.empty()) {
    JsonField(w, "error", err);
  }
  if (detail) {
    JsonField(w, "description", r.description);
    JsonField(w, "package_dir", r.package_dir);
    JsonField(w, "manifest_path", r.manifest_path);
    JsonField(w, "source", r.source);
    w->Key("inputs");
    WriteTensorInfos(e.inputs(), w);
    w->Key("outputs");
    WriteTensorInfos(e.outputs(), w);
    JsonField(w, "memory_bytes", e.memory_bytes());
    const runtime::ModelStats& st = e.stats();
    JsonField(w, "inference_requests", st.requests.load());
    w->Key("stats");
    w->StartObject();
    JsonField(w, "requests", st.requests.load());
    JsonField(w, "failures", st.failures.load());
    // Estimated from the histograms (linear within a bucket).
    const std::pair<const char*, const runtime::Histogram*> hs[] = {{"latency", &st.latency},
                                                                    {"queue", &st.queue},
                                                                    {"plugin", &st.plugin},
                                                                    {"overhead", &st.overhead}};
    for (const auto& [name, h] : hs) {
      for (const auto& [q, suffix] : {std::pair{0.5, "_p50_us"}, std::pair{0.99, "_p99_us"}}) {
        w->Key((std::string(name) + suffix).c_str());
        w->Double(h->Quantile(q));
      }
    }
    w->EndObject();
    JsonField(w, "inference_endpoint", "/models/" + r.id + "/inference");
  }
  w->EndObject();
}

}  // namespace

void ApiServer::RegisterModel(const HttpRequest& req, HttpResponse* resp) {
  rapidjson::Document doc;
  Status st = ParseJson(req.body, &doc);
  if (!st.ok()) return SetError(resp, st);
  if (!doc.IsObject()) return SetError(resp, 400, "the body must be a JSON object");
  runtime::RegisterRequest r;
  std::string model_path;
  const std::pair<const char*, std::string*> fields[] = {{"model_id", &r.model_id},
                                                         {"name", &r.name},
                                                         {"framework", &r.framework},
                                                         {"execution_format", &r.execution_format},
                                                         {"path", &r.path},
                                                         {"model_path", &model_path},
                                                         {"description", &r.description},
                                                         {"manifest_path", &r.manifest_path},
                                                         {"plugin_id", &r.plugin_id},
                                                         {"sha256", &r.sha256}};
  for (const auto& [key, out] : fields) {
    st = GetOptionalString(doc, key, out);
    if (!st.ok()) return SetError(resp, st);
  }
  if (r.path.empty()) r.path = model_path;
  Result<std::shared_ptr<ModelEntry>> entry = models_->Register(r);
  if (!entry.ok()) {
    runtime::LogWarn("model registration refused",
                     {{"model_id", r.model_id}, {"error", entry.status().ToString()}});
    return SetError(resp, entry.status());
  }
  const ModelEntry& e = **entry;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  JsonField(&w, "model_id", e.id());
  JsonField(&w, "name", e.record().name);
  JsonField(&w, "version", e.record().version);
  JsonField(&w, "state", runtime::ModelStateName(e.state()));
  JsonField(&w, "plugin_id", e.plugin_id());
  JsonField(&w, "framework", e.record().framework);
  JsonField(&w, "path", e.record().path);
  JsonField(&w, "message", "model registered");
  JsonField(&w, "inference_endpoint", "/models/" + e.id() + "/inference");
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

void ApiServer::ListModels(HttpResponse* resp) {
  auto list = models_->List();
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  w.Key("models");
  w.StartArray();
  for (const auto& e : list) WriteModel(*e, false, &w);
  w.EndArray();
  JsonField(&w, "total", list.size());
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

void ApiServer::GetModel(std::string_view id, HttpResponse* resp) {
  std::shared_ptr<ModelEntry> e = models_->Find(id);
  if (!e) return SetError(resp, 404, "model '" + std::string(id) + "' is not registered");
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  w.Key("model");
  WriteModel(*e, true, &w);
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

void ApiServer::DeleteModel(std::string_view id, HttpResponse* resp) {
  std::shared_ptr<ModelEntry> e = models_->Find(id);
  if (!e) return SetError(resp, 404, "model '" + std::string(id) + "' is not registered");
  Status st = models_->Unregister(e->id());
  if (!st.ok()) return SetError(resp, st);
  resp->SetJson(200, "{\"status\":\"success\",\"model_id\":\"" + EscapeJson(e->id()) +
                         "\",\"message\":\"model unregistered\"}");
}

// Builds the named input tensors for `model` from a JSON object of name -> values.
static Status InputsFromJson(const rapidjson::Value& obj, const std::vector<TensorInfo>& declared,
                             std::vector<NamedTensor>* inputs) {
  if (declared.empty()) return FailedPrecondition("the model declares no inputs");
  // One declared input and one member with another name ("input", "data"): the legacy form.
  bool legacy =
      declared.size() == 1 && obj.MemberCount() == 1 && !obj.HasMember(declared[0].name.c_str());
  for (const auto& m : obj.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    bool known = legacy;
    for (const TensorInfo& t : declared) known = known || t.name == key;
    if (!known) {
      std::string names;
      for (const TensorInfo& t : declared) names += (names.empty() ? "" : ", ") + t.name;
      return InvalidArgument("unknown input '", key, "'; the model takes: ", names);
    }
  }
  inputs->reserve(declared.size());
  for (const TensorInfo& t : declared) {
    const rapidjson::Value* v = nullptr;
    if (legacy) {
      v = &obj.MemberBegin()->value;
    } else {
      auto it = obj.FindMember(rapidjson::StringRef(t.name.data(), t.name.size()));
      if (it == obj.MemberEnd()) return InvalidArgument("missing input '", t.name, "'");
      v = &it->value;
    }
    Shape nested;
    int64_t count = 0;
    MLOS_RETURN_IF_ERROR(JsonShape(*v, t.name, &nested, &count));
    MLOS_ASSIGN_OR_RETURN(Shape shape, SolveShape(t, nested, count));
    MLOS_ASSIGN_OR_RETURN(Tensor tensor, JsonToTensor(*v, t.dtype, shape, t.name));
    inputs->emplace_back(t.name, std::move(tensor));
  }
  return Status::OK();
}

// A plugin with only the seed's byte-level entry: the request body goes to it untouched and its
// reply comes back as "outputs" (a JSON object as is; other JSON or text under "output") and, as
// MLOS Core clients read it, "output".
void ApiServer::RawInference(ModelEntry& e, runtime::LoadedModel& model, const HttpRequest& req,
                             HttpResponse* resp) {
  runtime::ModelStats& stats = e.stats();
  int64_t start_us = runtime::MonotonicMicros();
  int64_t queue_us = start_us - req.received_us;
  std::string out;
  runtime::InferenceTiming timing;
  Status st = model.InferRaw(req.body, &out, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - start_us;
  if (!st.ok()) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    return SetError(resp, st);
  }
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;
  rapidjson::Document parsed;
  bool is_json = ParseJson(out, &parsed).ok();
  auto write_value = [&](JsonWriter* w) {
    if (is_json) {
      parsed.Accept(*w);
    } else {
      WriteString(out, w);
    }
  };
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  JsonField(&w, "model_id", e.id());
  JsonField(&w, "inference_time_us", plugin_us);
  JsonField(&w, "queue_time_us", queue_us);
  JsonField(&w, "output_size", out.size());
  w.Key("outputs");
  if (is_json && parsed.IsObject()) {
    parsed.Accept(w);
  } else {
    w.StartObject();
    w.Key("output");
    write_value(&w);
    w.EndObject();
  }
  w.Key("output");
  if (is_json && parsed.IsObject() && parsed.MemberCount() == 1) {
    parsed.MemberBegin()->value.Accept(w);
  } else {
    write_value(&w);
  }
  w.EndObject();
  resp->SetJson(200, std::string(sb.GetString(), sb.GetSize()));
  int64_t server_us = runtime::MonotonicMicros() - req.received_us;
  stats.ObserveServed(server_us, queue_us, plugin_us);
}

void ApiServer::Inference(std::string_view id, const HttpRequest& req, HttpResponse* resp) {
  std::shared_ptr<ModelEntry> e = models_->Find(id);
  if (!e) return SetError(resp, 404, "model '" + std::string(id) + "' is not registered");
  runtime::ModelStats& stats = e->stats();
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](const Status& s) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    SetError(resp, s);
  };
  std::shared_ptr<runtime::LoadedModel> model = e->loaded();
  if (!model) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    std::string err = e->error();
    return SetError(resp, 503,
                    "model '" + e->id() + "' is not ready (state " +
                        std::string(runtime::ModelStateName(e->state())) +
                        (err.empty() ? "" : ": " + err) + ")");
  }
  if ((!model->has_tensor_inference() || model->inputs().empty()) && model->has_raw_inference()) {
    return RawInference(*e, *model, req, resp);
  }
  rapidjson::Document doc;
  Status st = ParseJson(req.body, &doc);
  if (!st.ok()) return fail(st);
  if (!doc.IsObject()) return fail(InvalidArgument("the body must be a JSON object of inputs"));
  const rapidjson::Value* obj = &doc;
  auto wrapped = doc.FindMember("inputs");
  if (wrapped != doc.MemberEnd() && wrapped->value.IsObject() && doc.MemberCount() == 1) {
    bool model_has_inputs_input = false;
    for (const TensorInfo& t : model->inputs()) model_has_inputs_input |= t.name == "inputs";
    if (!model_has_inputs_input) obj = &wrapped->value;
  }
  std::vector<NamedTensor> inputs;
  st = InputsFromJson(*obj, model->inputs(), &inputs);
  if (!st.ok()) return fail(st);

  int64_t start_us = runtime::MonotonicMicros();
  int64_t queue_us = start_us - req.received_us;
  std::vector<NamedTensor> outputs;
  runtime::InferenceTiming timing;
  st = model->Infer(inputs, &outputs, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - start_us;
  if (!st.ok()) return fail(st);
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;

  bool include =
      req.QueryParam("include_outputs") == "true" || req.QueryParam("include_outputs") == "1";
  size_t output_bytes = 0;
  for (const auto& [name, t] : outputs) output_bytes += t.nbytes();
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "status", "success");
  JsonField(&w, "model_id", e->id());
  JsonField(&w, "inference_time_us", plugin_us);
  JsonField(&w, "queue_time_us", queue_us);
  JsonField(&w, "output_size", output_bytes);
  w.Key("output_names");
  w.StartArray();
  for (const auto& [name, t] : outputs) WriteString(name, &w);
  w.EndArray();
  w.Key("output_shapes");
  w.StartObject();
  for (const auto& [name, t] : outputs) {
    WriteString(name, &w);
    WriteShape(t.shape(), &w);
  }
  w.EndObject();
  if (include) {
    w.Key("outputs");
    w.StartObject();
    for (const auto& [name, t] : outputs) {
      WriteString(name, &w);
      WriteTensorValues(t, &w);
    }
    w.EndObject();
    if (outputs.size() == 1) {
      w.Key("output");
      WriteTensorValues(outputs[0].second, &w);
    }
  }
  w.EndObject();
  resp->SetJson(200, std::string(sb.GetString(), sb.GetSize()));
  int64_t server_us = runtime::MonotonicMicros() - req.received_us;
  stats.ObserveServed(server_us, queue_us, plugin_us);
}

}  // namespace mlos::server
