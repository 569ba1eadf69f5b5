// KServe v2 / Open Inference Protocol over REST, with the binary tensor data extension and
// (with --http-shm) Triton's system shared memory for inputs and requested outputs.
#include <cstring>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "server/api_server.h"
#include "server/json_util.h"
#include "server/kserve_shm.h"
#include "server/shm_registry.h"
#include "server/tensor_json.h"

namespace mlos::server {

using http::HttpRequest;
using http::HttpResponse;
using runtime::ModelEntry;
using runtime::Route;

namespace {

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool GetBoolParam(const rapidjson::Value& obj, const char* key) {
  auto p = obj.FindMember("parameters");
  if (p == obj.MemberEnd() || !p->value.IsObject()) return false;
  auto it = p->value.FindMember(key);
  return it != p->value.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

}  // namespace

Route ApiServer::KServe(const HttpRequest& req, std::string_view rest, HttpResponse* resp) {
  bool get = req.method == "GET" || req.method == "HEAD";
  if (rest.empty() || rest == "/") {
    if (!get) return SetError(resp, 405, "use GET"), Route::kV2Server;
    resp->SetJson(200, "{\"name\":\"mlos-core\",\"version\":\"" + info_.version +
                           "\",\"extensions\":[\"binary_tensor_data\"" +
                           (shm_ ? ",\"system_shared_memory\"" : "") + "]}");
    return Route::kV2Server;
  }
  if (rest == "/health/live" || rest == "/health/ready") {
    Route r = rest == "/health/live" ? Route::kV2Live : Route::kV2Ready;
    if (!get) return SetError(resp, 405, "use GET"), r;
    resp->status = 200;
    resp->content_type = {};
    return r;
  }
  if (rest.substr(0, 8) != "/models/") {
    SetError(resp, 404, "no route for " + std::string(req.method) + " /v2" + std::string(rest));
    return Route::kNotFound;
  }
  std::string_view s = rest.substr(8);
  enum { kMeta, kReady, kInfer } action = kMeta;
  auto strip = [&](std::string_view suffix) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
      s.remove_suffix(suffix.size());
      return true;
    }
    return false;
  };
  if (strip("/infer")) {
    action = kInfer;
  } else if (strip("/ready")) {
    action = kReady;
  }
  Route route = action == kInfer   ? Route::kV2Infer
                : action == kReady ? Route::kV2ModelReady
                                   : Route::kV2ModelMetadata;
  std::string_view raw_version;
  size_t vpos = s.rfind("/versions/");
  if (vpos != std::string_view::npos) {
    raw_version = s.substr(vpos + 10);
    s = s.substr(0, vpos);
  }
  std::string name, version;
  if (!http::PercentDecode(s, &name) || !http::PercentDecode(raw_version, &version)) {
    SetError(resp, 400, "malformed percent-encoding in the model name");
    return route;
  }
  if ((action == kInfer && req.method != "POST") || (action != kInfer && !get)) {
    SetError(resp, 405, action == kInfer ? "use POST" : "use GET");
    return route;
  }
  std::shared_ptr<ModelEntry> e;
  if (version.empty()) {
    e = models_->Find(name);
  } else {
    e = models_->Find(name + "@" + version);
    if (!e) {
      for (const auto& c : models_->List()) {
        if (c->record().name == name && c->record().version == version) e = c;
      }
    }
  }
  if (!e) {
    SetError(resp, 404,
             "unknown model '" + name + "'" + (version.empty() ? "" : " version " + version));
    return route;
  }
  if (action == kReady) {
    bool ready = e->state() == runtime::ModelState::kReady;
    if (ready) {
      resp->status = 200;
      resp->content_type = {};
    } else {
      SetError(resp, 400, "model '" + e->id() + "' is not ready");
    }
    return route;
  }
  if (action == kMeta) {
    KServeMetadata(*e, resp);
    return route;
  }
  KServeInfer(*e, req, resp);
  return route;
}

void ApiServer::KServeMetadata(const ModelEntry& e, HttpResponse* resp) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  JsonField(&w, "name", e.record().ns + "/" + e.record().name);
  w.Key("versions");
  w.StartArray();
  for (const std::string& v : models_->Versions(e)) WriteString(v, &w);
  w.EndArray();
  JsonField(&w, "platform",
            e.record().execution_format.empty() ? "unknown" : e.record().execution_format);
  auto tensors = [&](const char* key, const std::vector<TensorInfo>& ts) {
    w.Key(key);
    w.StartArray();
    for (const TensorInfo& t : ts) {
      w.StartObject();
      JsonField(&w, "name", t.name);
      JsonField(&w, "datatype", KServeDatatype(t.dtype));
      w.Key("shape");
      WriteShape(t.shape, &w);
      w.EndObject();
    }
    w.EndArray();
  };
  tensors("inputs", e.inputs());
  tensors("outputs", e.outputs());
  w.EndObject();
  resp->SetJson(200, sb.GetString());
}

namespace {

struct RequestedOutput {
  std::string name;
  bool binary = false;
  ShmTensorRef shm;  // region set: written into shared memory
};

struct KServeRequest {
  std::vector<NamedTensor> inputs;
  std::vector<RequestedOutput> outputs;
  std::string id;
};

// `shm` null: the system-shared-memory extension is off.
Status ParseKServeRequest(const rapidjson::Document& doc, std::string_view binary,
                          const runtime::LoadedModel& model, const ShmRegistry* shm,
                          KServeRequest* out) {
  if (!doc.IsObject()) return InvalidArgument("the inference request must be a JSON object");
  auto idm = doc.FindMember("id");
  if (idm != doc.MemberEnd()) {
    if (!idm->value.IsString()) return InvalidArgument("'id' must be a string");
    out->id.assign(idm->value.GetString(), idm->value.GetStringLength());
  }
  auto inm = doc.FindMember("inputs");
  if (inm == doc.MemberEnd() || !inm->value.IsArray()) {
    return InvalidArgument("'inputs' must be an array of tensors");
  }
  const std::vector<TensorInfo>& declared = model.inputs();
  size_t binary_pos = 0;
  for (const auto& in : inm->value.GetArray()) {
    if (!in.IsObject()) return InvalidArgument("each input must be an object");
    std::string name, datatype;
    MLOS_RETURN_IF_ERROR(GetOptionalString(in, "name", &name));
    MLOS_RETURN_IF_ERROR(GetOptionalString(in, "datatype", &datatype));
    if (name.empty()) return InvalidArgument("an input has no 'name'");
    const TensorInfo* info = nullptr;
    for (const TensorInfo& t : declared) {
      if (t.name == name) info = &t;
    }
    if (!info) return InvalidArgument("unknown input '", name, "'");
    for (const auto& [n, t] : out->inputs) {
      if (n == name) return InvalidArgument("input '", name, "' is given twice");
    }
    MLOS_ASSIGN_OR_RETURN(DType dtype, ParseKServeDatatype(datatype));
    if (dtype != info->dtype) {
      return InvalidArgument("input '", name, "' has datatype ", datatype, " but the model takes ",
                             KServeDatatype(info->dtype));
    }
    auto sm = in.FindMember("shape");
    if (sm == in.MemberEnd() || !sm->value.IsArray()) {
      return InvalidArgument("input '", name, "' needs a 'shape' array");
    }
    Shape shape;
    for (const auto& d : sm->value.GetArray()) {
      if (!d.IsInt64() || d.GetInt64() < 0) {
        return InvalidArgument("input '", name, "': shape entries must be non-negative integers");
      }
      shape.push_back(d.GetInt64());
    }
    if (shape.size() > 32) return InvalidArgument("input '", name, "': rank above 32");
    const Shape& ds = info->shape;
    bool fits = ds.empty() || ds.size() == shape.size();
    for (size_t i = 0; fits && i < ds.size(); ++i) fits = ds[i] < 0 || ds[i] == shape[i];
    if (!fits) {
      return InvalidArgument("input '", name, "' has shape ", ShapeToString(shape),
                             " but the model declares ", ShapeToString(ds));
    }
    MLOS_RETURN_IF_ERROR(NumElements(shape).status());
    uint64_t binary_size = 0;
    bool is_binary = false;
    auto pm = in.FindMember("parameters");
    if (pm != in.MemberEnd() && pm->value.IsObject()) {
      auto bs = pm->value.FindMember("binary_data_size");
      if (bs != pm->value.MemberEnd()) {
        if (!bs->value.IsUint64()) {
          return InvalidArgument("input '", name, "': binary_data_size must be an integer");
        }
        binary_size = bs->value.GetUint64();
        is_binary = true;
      }
    }
    ShmTensorRef ref;
    MLOS_RETURN_IF_ERROR(ParseShmRef(in, "input '" + name + "'", /*output=*/false, shm, &ref));
    Result<Tensor> t = Status(StatusCode::kInternal, "unset");
    if (ref.region) {
      if (is_binary) {
        return InvalidArgument("input '", name,
                               "' has both binary_data_size and shared_memory_region");
      }
      t = ShmInputTensor(ref, dtype, shape, name);
    } else if (is_binary) {
      if (binary_size > binary.size() - binary_pos) {
        return InvalidArgument("input '", name, "': binary_data_size ", binary_size,
                               " runs past the binary data");
      }
      t = TensorFromBinary(binary.substr(binary_pos, binary_size), dtype, shape, name);
      binary_pos += binary_size;
    } else {
      auto dm = in.FindMember("data");
      if (dm == in.MemberEnd()) {
        return InvalidArgument("input '", name,
                               "' has no 'data', binary_data_size or shared_memory_region");
      }
      t = JsonToTensor(dm->value, dtype, shape, name);
    }
    if (!t.ok()) return t.status();
    out->inputs.emplace_back(name, std::move(t).value());
  }
  if (binary_pos != binary.size()) {
    return InvalidArgument(binary.size() - binary_pos, " bytes of binary data were not used");
  }
  for (const TensorInfo& t : declared) {
    bool given = false;
    for (const auto& [n, x] : out->inputs) given = given || n == t.name;
    if (!given) return InvalidArgument("missing input '", t.name, "'");
  }
  bool binary_all = GetBoolParam(doc, "binary_data_output");
  auto om = doc.FindMember("outputs");
  if (om != doc.MemberEnd()) {
    if (!om->value.IsArray()) return InvalidArgument("'outputs' must be an array");
    for (const auto& o : om->value.GetArray()) {
      if (!o.IsObject()) return InvalidArgument("each requested output must be an object");
      std::string name;
      MLOS_RETURN_IF_ERROR(GetOptionalString(o, "name", &name));
      bool known = false;
      for (const TensorInfo& t : model.outputs()) known = known || t.name == name;
      if (!known) return InvalidArgument("unknown output '", name, "'");
      RequestedOutput r{name, binary_all || GetBoolParam(o, "binary_data"), {}};
      MLOS_RETURN_IF_ERROR(ParseShmRef(o, "output '" + name + "'", /*output=*/true, shm, &r.shm));
      out->outputs.push_back(std::move(r));
    }
  } else {
    for (const TensorInfo& t : model.outputs()) out->outputs.push_back({t.name, binary_all, {}});
  }
  return Status::OK();
}

}  // namespace

void ApiServer::KServeInfer(ModelEntry& e, const HttpRequest& req, HttpResponse* resp) {
  runtime::ModelStats& stats = e.stats();
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](const Status& s) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    SetError(resp, s);
  };
  std::shared_ptr<runtime::LoadedModel> model = e.loaded();
  if (!model) {
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    return SetError(resp, 503, "model '" + e.id() + "' is not ready");
  }
  std::string_view json = req.body;
  std::string_view binary;
  std::string_view hdr = req.Header("Inference-Header-Content-Length");
  if (!hdr.empty()) {
    uint64_t n = 0;
    if (!ParseUint(hdr, &n) || n > req.body.size()) {
      return fail(InvalidArgument("Inference-Header-Content-Length '", hdr,
                                  "' is not a length within the body"));
    }
    json = req.body.substr(0, n);
    binary = req.body.substr(n);
  }
  rapidjson::Document doc;
  Status st = ParseJson(json, &doc);
  if (!st.ok()) return fail(st);
  KServeRequest kr;
  st = ParseKServeRequest(doc, binary, *model, shm_.get(), &kr);
  if (!st.ok()) return fail(st);

  int64_t start_us = runtime::MonotonicMicros();
  int64_t queue_us = start_us - req.received_us;
  std::vector<NamedTensor> outputs;
  runtime::InferenceTiming timing;
  std::vector<runtime::OutputBinding> bindings;  // outputs computed straight into their regions
  for (const RequestedOutput& ro : kr.outputs) {
    AddShmOutputBinding(model->outputs(), ro.name, ro.shm, &bindings);
  }
  st = model->InferInto(kr.inputs, bindings, &outputs, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - start_us;
  if (!st.ok()) return fail(st);
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::string binary_out;
  w.StartObject();
  JsonField(&w, "model_name", e.record().ns + "/" + e.record().name);
  JsonField(&w, "model_version", e.record().version);
  if (!kr.id.empty()) {
    JsonField(&w, "id", kr.id);
  }
  w.Key("outputs");
  w.StartArray();
  for (const RequestedOutput& ro : kr.outputs) {
    const std::string& name = ro.name;
    const Tensor* t = nullptr;
    for (const auto& [n, x] : outputs) {
      if (n == name) t = &x;
    }
    if (!t) continue;
    w.StartObject();
    JsonField(&w, "name", name);
    JsonField(&w, "datatype", KServeDatatype(t->dtype()));
    w.Key("shape");
    WriteShape(t->shape(), &w);
    if (ro.shm.region) {
      Result<uint64_t> written = WriteShmOutput(*t, ro.shm, name);
      if (!written.ok()) return fail(written.status());
      w.Key("parameters");
      w.StartObject();
      JsonField(&w, "shared_memory_region", ro.shm.region->name());
      JsonField(&w, "shared_memory_offset", ro.shm.offset);
      JsonField(&w, "shared_memory_byte_size", *written);
      w.EndObject();
    } else if (ro.binary) {
      size_t before = binary_out.size();
      AppendBinary(*t, &binary_out);
      w.Key("parameters");
      w.StartObject();
      JsonField(&w, "binary_data_size", binary_out.size() - before);
      w.EndObject();
    } else {
      w.Key("data");
      WriteTensorValues(*t, &w);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  if (binary_out.empty()) {
    resp->SetJson(200, std::string(sb.GetString(), sb.GetSize()));
  } else {
    resp->status = 200;
    resp->content_type = "application/octet-stream";
    resp->headers.emplace_back("Inference-Header-Content-Length", std::to_string(sb.GetSize()));
    resp->body.reserve(sb.GetSize() + binary_out.size());
    resp->body.assign(sb.GetString(), sb.GetSize());
    resp->body.append(binary_out);
  }
  int64_t server_us = runtime::MonotonicMicros() - req.received_us;
  stats.ObserveServed(server_us, queue_us, plugin_us);
}

}  // namespace mlos::server
