// KServe v2 / Open Inference Protocol over REST, with the binary tensor data extension.
#include <cstring>
#include <string>
#include <vector>

#include "server/api_server.h"
#include "server/json_util.h"
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

// Decodes one input's raw bytes (binary extension) into a tensor.
Result<Tensor> TensorFromBinary(std::string_view bytes, DType dtype, const Shape& shape,
                                const std::string& name) {
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  // Sizes are checked against the bytes actually sent before anything is allocated.
  if (dtype == DType::kString) {
    if (static_cast<uint64_t>(n) > bytes.size() / 4) {
      return InvalidArgument("input '", name, "': ", bytes.size(), " bytes cannot hold ", n,
                             " BYTES elements");
    }
  } else if (static_cast<uint64_t>(n) != bytes.size() / DTypeSize(dtype) ||
             bytes.size() % DTypeSize(dtype) != 0) {
    return InvalidArgument("input '", name, "': binary_data_size is ", bytes.size(),
                           " bytes but shape ", ShapeToString(shape), " of ", KServeDatatype(dtype),
                           " needs ", static_cast<uint64_t>(n) * DTypeSize(dtype));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, shape));
  if (dtype == DType::kString) {
    std::string* out = static_cast<std::string*>(t.raw_data());
    size_t pos = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (bytes.size() - pos < 4) {
        return InvalidArgument("input '", name, "': BYTES data ends inside element ", i);
      }
      uint32_t len;
      std::memcpy(&len, bytes.data() + pos, 4);  // little-endian hosts only (x86-64, arm64)
      pos += 4;
      if (bytes.size() - pos < len) {
        return InvalidArgument("input '", name, "': BYTES element ", i, " overruns the data");
      }
      out[i].assign(bytes.data() + pos, len);
      pos += len;
    }
    if (pos != bytes.size()) {
      return InvalidArgument("input '", name, "': ", bytes.size() - pos,
                             " bytes left after the last BYTES element");
    }
    return t;
  }
  if (static_cast<uint64_t>(bytes.size()) != t.nbytes()) {
    return InvalidArgument("input '", name, "': binary_data_size is ", bytes.size(),
                           " bytes but shape ", ShapeToString(shape), " of ", KServeDatatype(dtype),
                           " needs ", t.nbytes());
  }
  if (dtype == DType::kBool) {
    bool* out = static_cast<bool*>(t.raw_data());
    for (int64_t i = 0; i < n; ++i) out[i] = bytes[static_cast<size_t>(i)] != 0;
  } else if (!bytes.empty()) {
    std::memcpy(t.raw_data(), bytes.data(), bytes.size());
  }
  return t;
}

void AppendBinary(const Tensor& in, std::string* out) {
  Result<Tensor> c = in.Contiguous();
  if (!c.ok()) return;
  const Tensor& t = *c;
  if (t.dtype() == DType::kString) {
    const std::string* s = static_cast<const std::string*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint32_t len = static_cast<uint32_t>(s[i].size());
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(s[i]);
    }
  } else if (t.dtype() == DType::kBool) {
    const bool* b = static_cast<const bool*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i) out->push_back(b[i] ? 1 : 0);
  } else {
    out->append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
}

}  // namespace

Route ApiServer::KServe(const HttpRequest& req, std::string_view rest, HttpResponse* resp) {
  bool get = req.method == "GET" || req.method == "HEAD";
  if (rest.empty() || rest == "/") {
    if (!get) return SetError(resp, 405, "use GET"), Route::kV2Server;
    resp->SetJson(200, "{\"name\":\"mlos-core\",\"version\":\"" + info_.version +
                           "\",\"extensions\":[\"binary_tensor_data\"]}");
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
  w.Key("name");
  WriteString(e.record().ns + "/" + e.record().name, &w);
  w.Key("versions");
  w.StartArray();
  for (const std::string& v : models_->Versions(e)) WriteString(v, &w);
  w.EndArray();
  w.Key("platform");
  WriteString(e.record().execution_format.empty() ? "unknown" : e.record().execution_format, &w);
  auto tensors = [&](const char* key, const std::vector<TensorInfo>& ts) {
    w.Key(key);
    w.StartArray();
    for (const TensorInfo& t : ts) {
      w.StartObject();
      w.Key("name");
      WriteString(t.name, &w);
      w.Key("datatype");
      WriteString(KServeDatatype(t.dtype), &w);
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

struct KServeRequest {
  std::vector<NamedTensor> inputs;
  std::vector<std::pair<std::string, bool>> outputs;  // name, binary
  std::string id;
};

Status ParseKServeRequest(const rapidjson::Document& doc, std::string_view binary,
                          const runtime::LoadedModel& model, KServeRequest* out) {
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
    Result<Tensor> t = Status(StatusCode::kInternal, "unset");
    if (is_binary) {
      if (binary_size > binary.size() - binary_pos) {
        return InvalidArgument("input '", name, "': binary_data_size ", binary_size,
                               " runs past the binary data");
      }
      t = TensorFromBinary(binary.substr(binary_pos, binary_size), dtype, shape, name);
      binary_pos += binary_size;
    } else {
      auto dm = in.FindMember("data");
      if (dm == in.MemberEnd()) {
        return InvalidArgument("input '", name, "' has neither 'data' nor binary_data_size");
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
      out->outputs.emplace_back(name, binary_all || GetBoolParam(o, "binary_data"));
    }
  } else {
    for (const TensorInfo& t : model.outputs()) out->outputs.emplace_back(t.name, binary_all);
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
  st = ParseKServeRequest(doc, binary, *model, &kr);
  if (!st.ok()) return fail(st);

  int64_t start_us = runtime::MonotonicMicros();
  int64_t queue_us = start_us - req.received_us;
  std::vector<NamedTensor> outputs;
  runtime::InferenceTiming timing;
  st = model->Infer(kr.inputs, &outputs, &timing);
  int64_t infer_us = runtime::MonotonicMicros() - start_us;
  if (!st.ok()) return fail(st);
  int64_t plugin_us = timing.plugin_us > 0 ? timing.plugin_us : infer_us;

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::string binary_out;
  w.StartObject();
  w.Key("model_name");
  WriteString(e.record().ns + "/" + e.record().name, &w);
  w.Key("model_version");
  WriteString(e.record().version, &w);
  if (!kr.id.empty()) {
    w.Key("id");
    WriteString(kr.id, &w);
  }
  w.Key("outputs");
  w.StartArray();
  for (const auto& [name, as_binary] : kr.outputs) {
    const Tensor* t = nullptr;
    for (const auto& [n, x] : outputs) {
      if (n == name) t = &x;
    }
    if (!t) continue;
    w.StartObject();
    w.Key("name");
    WriteString(name, &w);
    w.Key("datatype");
    WriteString(KServeDatatype(t->dtype()), &w);
    w.Key("shape");
    WriteShape(t->shape(), &w);
    if (as_binary) {
      size_t before = binary_out.size();
      AppendBinary(*t, &binary_out);
      w.Key("parameters");
      w.StartObject();
      w.Key("binary_data_size");
      w.Uint64(binary_out.size() - before);
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
  stats.latency.Observe(server_us);
  stats.queue.Observe(queue_us);
  stats.plugin.Observe(plugin_us);
  stats.overhead.Observe(server_us - plugin_us);
}

}  // namespace mlos::server
