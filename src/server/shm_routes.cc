// /v2/systemsharedmemory: Triton's system-shared-memory extension over HTTP (issue 6).
//
//   GET  /v2/systemsharedmemory[/region/{name}]/status
//   POST /v2/systemsharedmemory/region/{name}/register   {"key": "/obj", "offset": N, "byte_size":
//   N} POST /v2/systemsharedmemory[/region/{name}]/unregister
//
// Off by default, as in Triton: without --http-shm every route answers 400 and says how to
// turn it on. Failures answer 400 with {"error": ...} as Triton's protocol asks (405 for a
// wrong method, 404 for a path that is no route). The regions live in shm_ (ShmRegistry); the
// inference side is in kserve_routes.cc.
#include "core/json_fields.h"
#include "server/api_server.h"
#include "server/json_util.h"
#include "server/shm_registry.h"
#include "server/tensor_json.h"

namespace mlos::server {

using http::HttpRequest;
using http::HttpResponse;
using runtime::Route;

namespace {

void ShmError(HttpResponse* resp, const Status& s) { SetError(resp, 400, s.message()); }

void WriteStatus(const std::vector<ShmRegistry::RegionPtr>& regions, HttpResponse* resp) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartArray();
  for (const ShmRegistry::RegionPtr& r : regions) {
    w.StartObject();
    JsonField(&w, "name", r->name());
    JsonField(&w, "key", r->key());
    JsonField(&w, "offset", r->offset());
    JsonField(&w, "byte_size", r->byte_size());
    w.EndObject();
  }
  w.EndArray();
  resp->SetJson(200, std::string(sb.GetString(), sb.GetSize()));
}

// Reads a required (or, with `optional`, defaulted-to-0) non-negative integer member.
Status GetUint(const rapidjson::Value& obj, const char* key, bool optional, uint64_t* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    if (optional) return Status::OK();
    return InvalidArgument("the register request needs '", key, "'");
  }
  if (!it->value.IsUint64()) {
    return InvalidArgument("'", key, "' must be a non-negative integer");
  }
  *out = it->value.GetUint64();
  return Status::OK();
}

void OkEmpty(HttpResponse* resp) {
  resp->status = 200;
  resp->content_type = {};
  resp->body.clear();
}

}  // namespace

Route ApiServer::SystemSharedMemory(const HttpRequest& req, std::string_view rest,
                                    HttpResponse* resp) {
  constexpr Route kRoute = Route::kV2SharedMemory;
  if (!info_.http_shm || !shm_) {
    SetError(resp, 400,
             "system shared memory is disabled; start mlos_core with --http-shm (config "
             "http_shm: true) to enable it");
    return kRoute;
  }
  bool get = req.method == "GET" || req.method == "HEAD";
  bool post = req.method == "POST";
  auto wrong_method = [&](const char* allow) {
    SetError(resp, 405, std::string("method not allowed; use ") + allow);
    resp->headers.emplace_back("Allow", allow);
    return kRoute;
  };
  if (rest == "/status") {
    if (!get) return wrong_method("GET");
    WriteStatus(shm_->List(), resp);
    return kRoute;
  }
  if (rest == "/unregister") {
    if (!post) return wrong_method("POST");
    shm_->UnregisterAll();
    OkEmpty(resp);
    return kRoute;
  }
  constexpr std::string_view kRegion = "/region/";
  size_t slash = rest.rfind('/');
  if (rest.substr(0, kRegion.size()) != kRegion || slash < kRegion.size() + 1) {
    SetError(
        resp, 404,
        "no route for " + std::string(req.method) + " /v2/systemsharedmemory" + std::string(rest));
    return Route::kNotFound;
  }
  std::string_view action = rest.substr(slash + 1);
  std::string name;
  if (!http::PercentDecode(rest.substr(kRegion.size(), slash - kRegion.size()), &name)) {
    SetError(resp, 400, "malformed percent-encoding in the region name");
    return kRoute;
  }
  if (action == "status") {
    if (!get) return wrong_method("GET");
    ShmRegistry::RegionPtr r = shm_->Find(name);
    if (!r) {
      SetError(resp, 400,
               "unable to find system shared memory region '" + name + "' (not registered)");
      return kRoute;
    }
    WriteStatus({r}, resp);
    return kRoute;
  }
  if (action == "unregister") {
    if (!post) return wrong_method("POST");
    // Triton answers 200 for a name that is not registered; unregistering is idempotent.
    (void)shm_->Unregister(name);
    OkEmpty(resp);
    return kRoute;
  }
  if (action != "register") {
    SetError(
        resp, 404,
        "no route for " + std::string(req.method) + " /v2/systemsharedmemory" + std::string(rest));
    return Route::kNotFound;
  }
  if (!post) return wrong_method("POST");
  rapidjson::Document doc;
  Status st = ParseJson(req.body, &doc);
  if (st.ok() && !doc.IsObject()) st = InvalidArgument("the register request must be an object");
  std::string key;
  uint64_t offset = 0, byte_size = 0;
  if (st.ok()) st = GetOptionalString(doc, "key", &key);
  if (st.ok() && key.empty()) st = InvalidArgument("the register request needs a 'key' string");
  if (st.ok()) st = GetUint(doc, "offset", /*optional=*/true, &offset);
  if (st.ok()) st = GetUint(doc, "byte_size", /*optional=*/false, &byte_size);
  if (st.ok()) st = shm_->Register(name, key, offset, byte_size);
  if (!st.ok()) {
    ShmError(resp, st);
    return kRoute;
  }
  OkEmpty(resp);
  return kRoute;
}

}  // namespace mlos::server
