// Training JSON codecs (training_json.h, training_service.h). The config is described once, as
// a table of (name, member) pairs, so the parser, the writer and the docs list the same keys.
#include "runtime/training_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <limits>
#include <variant>

#include "core/json_fields.h"
#include "runtime/training_service.h"

namespace mlos::runtime {
namespace {

using training::SessionState;
using training::TrainingConfig;
using training::TrainingStatus;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// One config member: its JSON key and a pointer to it.
struct ConfigField {
  const char* key;
  std::variant<std::string TrainingConfig::*, double TrainingConfig::*, int64_t TrainingConfig::*,
               int TrainingConfig::*, uint64_t TrainingConfig::*>
      member;
};

const ConfigField kConfigFields[] = {
    {"optimizer", &TrainingConfig::optimizer},
    {"learning_rate", &TrainingConfig::learning_rate},
    {"momentum", &TrainingConfig::momentum},
    {"weight_decay", &TrainingConfig::weight_decay},
    {"schedule", &TrainingConfig::schedule},
    {"step_size", &TrainingConfig::step_size},
    {"gamma", &TrainingConfig::gamma},
    {"warmup_steps", &TrainingConfig::warmup_steps},
    {"batch_size", &TrainingConfig::batch_size},
    {"epochs", &TrainingConfig::epochs},
    {"max_steps", &TrainingConfig::max_steps},
    {"loss", &TrainingConfig::loss},
    {"validation_split", &TrainingConfig::validation_split},
    {"threads", &TrainingConfig::threads},
    {"seed", &TrainingConfig::seed},
    {"checkpoint_interval", &TrainingConfig::checkpoint_interval},
    {"checkpoint_seconds", &TrainingConfig::checkpoint_seconds},
    {"checkpoint_dir", &TrainingConfig::checkpoint_dir},
    {"output_path", &TrainingConfig::output_path},
    {"dataset_format", &TrainingConfig::dataset_format},
    {"label_column", &TrainingConfig::label_column},
    {"context_length", &TrainingConfig::context_length},
    {"eval_interval", &TrainingConfig::eval_interval},
};

void WriteStr(Writer* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Non-finite numbers are not JSON: they travel as null (and come back as NaN).
void WriteDouble(Writer* w, double v) {
  if (std::isfinite(v)) {
    w->Double(v);
  } else {
    w->Null();
  }
}

Result<int64_t> GetInt(const rapidjson::Value& v, std::string_view key, int64_t lo, int64_t hi) {
  int64_t x;
  if (v.IsInt64()) {
    x = v.GetInt64();
  } else if (v.IsDouble() && std::isfinite(v.GetDouble()) &&
             v.GetDouble() == std::floor(v.GetDouble()) && std::fabs(v.GetDouble()) < 9.0e15) {
    x = static_cast<int64_t>(v.GetDouble());  // 32.0 from a client that only has doubles
  } else {
    return InvalidArgument("'", key, "' must be an integer");
  }
  if (x < lo || x > hi) return InvalidArgument("'", key, "' must be in [", lo, ", ", hi, "]");
  return x;
}

Status ReadConfigField(const ConfigField& f, const rapidjson::Value& v, TrainingConfig* c) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c->*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!v.IsString()) return InvalidArgument("config '", f.key, "' must be a string");
          (c->*member).assign(v.GetString(), v.GetStringLength());
        } else if constexpr (std::is_same_v<T, double>) {
          if (!v.IsNumber()) return InvalidArgument("config '", f.key, "' must be a number");
          c->*member = v.GetDouble();
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (!v.IsUint64()) {
            return InvalidArgument("config '", f.key, "' must be a non-negative integer");
          }
          c->*member = v.GetUint64();
        } else {
          const int64_t lo = std::is_same_v<T, int> ? std::numeric_limits<int>::min() : -kMax;
          const int64_t hi = std::is_same_v<T, int> ? std::numeric_limits<int>::max() : kMax;
          Result<int64_t> x = GetInt(v, StrCat("config ", f.key), lo, hi);
          if (!x.ok()) return x.status();
          c->*member = static_cast<T>(*x);
        }
        return Status::OK();
      },
      f.member);
}

void WriteConfigField(const ConfigField& f, const TrainingConfig& c, Writer* w) {
  w->Key(f.key);
  std::visit(
      [&](auto member) {
        using T = std::remove_cv_t<std::remove_reference_t<decltype(c.*member)>>;
        if constexpr (std::is_same_v<T, std::string>) {
          WriteStr(w, c.*member);
        } else if constexpr (std::is_same_v<T, double>) {
          WriteDouble(w, c.*member);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          w->Uint64(c.*member);
        } else {
          w->Int64(static_cast<int64_t>(c.*member));
        }
      },
      f.member);
}

Result<TrainingConfig> ConfigFromValue(const rapidjson::Value& obj) {
  if (!obj.IsObject()) return InvalidArgument("'config' must be a JSON object");
  TrainingConfig c;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    const ConfigField* field = nullptr;
    for (const ConfigField& f : kConfigFields) {
      if (key == f.key) field = &f;
    }
    if (field == nullptr) return InvalidArgument("unknown config key '", key, "'");
    if (it->value.IsNull()) continue;  // null: keep the default
    MLOS_RETURN_IF_ERROR(ReadConfigField(*field, it->value, &c));
  }
  MLOS_RETURN_IF_ERROR(ValidateTrainingConfig(c));
  return c;
}

void WriteConfig(const TrainingConfig& c, Writer* w) {
  w->StartObject();
  for (const ConfigField& f : kConfigFields) WriteConfigField(f, c, w);
  w->EndObject();
}

bool OneOf(const std::string& v, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (v == n) return true;
  }
  return false;
}

Result<rapidjson::Document> ParseObject(std::string_view json, const char* what) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) {
    return InvalidArgument(what, " is not valid JSON (offset ", d.GetErrorOffset(), ")");
  }
  if (!d.IsObject()) return InvalidArgument(what, " must be a JSON object");
  return d;
}

Status GetString(const rapidjson::Value& obj, const char* key, std::string* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsString()) return InvalidArgument("'", key, "' must be a string");
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::OK();
}

// Status readers are lenient about keys they do not know (a newer peer may add some) but not
// about types.
Status GetNumber(const rapidjson::Value& obj, const char* key, double* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return Status::OK();
  if (it->value.IsNull()) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return Status::OK();
  }
  if (!it->value.IsNumber()) return InvalidArgument("'", key, "' must be a number");
  *out = it->value.GetDouble();
  return Status::OK();
}

Status GetInt64(const rapidjson::Value& obj, const char* key, int64_t* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(*out, GetInt(it->value, key, std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max()));
  return Status::OK();
}

Status GetBool(const rapidjson::Value& obj, const char* key, bool* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsBool()) return InvalidArgument("'", key, "' must be true or false");
  *out = it->value.GetBool();
  return Status::OK();
}

void WriteStatusFields(const TrainingStatus& s, Writer* w) {
  JsonField(w, "id", s.id);
  JsonField(w, "state", training::SessionStateName(s.state));
  JsonField(w, "error", s.error);
  JsonField(w, "epoch", s.epoch);
  JsonField(w, "step", s.step);
  JsonField(w, "total_steps", s.total_steps);
  w->Key("loss");
  WriteDouble(w, s.loss);
  w->Key("learning_rate");
  WriteDouble(w, s.learning_rate);
  JsonField(w, "has_validation", s.has_validation);
  w->Key("val_loss");
  WriteDouble(w, s.val_loss);
  w->Key("val_accuracy");
  WriteDouble(w, s.val_accuracy);
  w->Key("samples_per_second");
  WriteDouble(w, s.samples_per_second);
  w->Key("eta_seconds");
  WriteDouble(w, s.eta_seconds);
  JsonField(w, "train_samples", s.train_samples);
  JsonField(w, "val_samples", s.val_samples);
  w->Key("checkpoints");
  w->StartArray();
  for (const auto& c : s.checkpoints) {
    w->StartObject();
    JsonField(w, "path", c.path);
    JsonField(w, "step", c.step);
    w->EndObject();
  }
  w->EndArray();
  JsonField(w, "output_path", s.output_path);
}

Status ReadStatusFields(const rapidjson::Value& o, TrainingStatus* s) {
  MLOS_RETURN_IF_ERROR(GetString(o, "id", &s->id));
  std::string state;
  MLOS_RETURN_IF_ERROR(GetString(o, "state", &state));
  if (!state.empty()) {
    MLOS_ASSIGN_OR_RETURN(s->state, ParseTrainingState(state));
  }
  MLOS_RETURN_IF_ERROR(GetString(o, "error", &s->error));
  MLOS_RETURN_IF_ERROR(GetInt64(o, "epoch", &s->epoch));
  MLOS_RETURN_IF_ERROR(GetInt64(o, "step", &s->step));
  MLOS_RETURN_IF_ERROR(GetInt64(o, "total_steps", &s->total_steps));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "loss", &s->loss));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "learning_rate", &s->learning_rate));
  MLOS_RETURN_IF_ERROR(GetBool(o, "has_validation", &s->has_validation));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "val_loss", &s->val_loss));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "val_accuracy", &s->val_accuracy));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "samples_per_second", &s->samples_per_second));
  MLOS_RETURN_IF_ERROR(GetNumber(o, "eta_seconds", &s->eta_seconds));
  MLOS_RETURN_IF_ERROR(GetInt64(o, "train_samples", &s->train_samples));
  MLOS_RETURN_IF_ERROR(GetInt64(o, "val_samples", &s->val_samples));
  auto it = o.FindMember("checkpoints");
  if (it != o.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) return InvalidArgument("'checkpoints' must be an array");
    for (const auto& e : it->value.GetArray()) {
      if (!e.IsObject()) return InvalidArgument("'checkpoints' entries must be objects");
      training::CheckpointInfo c;
      MLOS_RETURN_IF_ERROR(GetString(e, "path", &c.path));
      MLOS_RETURN_IF_ERROR(GetInt64(e, "step", &c.step));
      s->checkpoints.push_back(std::move(c));
    }
  }
  return GetString(o, "output_path", &s->output_path);
}

std::string Finish(const rapidjson::StringBuffer& sb) {
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Result<SessionState> ParseTrainingState(std::string_view name) {
  for (SessionState s : {SessionState::kStarting, SessionState::kRunning, SessionState::kPaused,
                         SessionState::kStopped, SessionState::kCompleted, SessionState::kFailed}) {
    if (name == training::SessionStateName(s)) return s;
  }
  return InvalidArgument("'state' '", name,
                         "' is not starting, running, paused, stopped, completed or failed");
}

Status ValidateTrainingConfig(const TrainingConfig& c) {
  if (!OneOf(c.optimizer, {"sgd", "adam", "adamw"})) {
    return InvalidArgument("config 'optimizer' is '", c.optimizer,
                           "'; expected sgd, adam or adamw");
  }
  if (!OneOf(c.loss, {"cross_entropy", "mse"})) {
    return InvalidArgument("config 'loss' is '", c.loss, "'; expected cross_entropy or mse");
  }
  if (!OneOf(c.schedule, {"constant", "cosine", "step", "linear"})) {
    return InvalidArgument("config 'schedule' is '", c.schedule,
                           "'; expected constant, cosine, step or linear");
  }
  if (!OneOf(c.dataset_format, {"auto", "csv", "npy", "npz", "text", "folder"})) {
    return InvalidArgument("config 'dataset_format' is '", c.dataset_format,
                           "'; expected auto, csv, npy, npz, text or folder");
  }
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
    return InvalidArgument("config 'learning_rate' must be a positive number");
  }
  if (!(c.momentum >= 0) || !std::isfinite(c.momentum)) {
    return InvalidArgument("config 'momentum' must be >= 0");
  }
  if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) {
    return InvalidArgument("config 'weight_decay' must be >= 0");
  }
  if (!(c.gamma > 0) || !std::isfinite(c.gamma)) {
    return InvalidArgument("config 'gamma' must be a positive number");
  }
  if (!(c.validation_split >= 0 && c.validation_split < 1)) {
    return InvalidArgument("config 'validation_split' must be in [0, 1)");
  }
  if (c.batch_size < 1 || c.batch_size > (int64_t{1} << 20)) {
    return InvalidArgument("config 'batch_size' must be in [1, 1048576]");
  }
  if (c.epochs < 0) return InvalidArgument("config 'epochs' must be >= 0");
  if (c.max_steps < 0) return InvalidArgument("config 'max_steps' must be >= 0");
  if (c.epochs < 1 && c.max_steps < 1) {
    return InvalidArgument("config 'epochs' or 'max_steps' must be >= 1");
  }
  if (c.threads < 1 || c.threads > 256)
    return InvalidArgument("config 'threads' must be in [1, 256]");
  if (c.step_size < 0) return InvalidArgument("config 'step_size' must be >= 0");
  if (c.warmup_steps < 0) return InvalidArgument("config 'warmup_steps' must be >= 0");
  if (c.checkpoint_interval < 0) {
    return InvalidArgument("config 'checkpoint_interval' must be >= 0");
  }
  if (!(c.checkpoint_seconds >= 0 && c.checkpoint_seconds <= 1e7)) {
    return InvalidArgument("config 'checkpoint_seconds' must be in [0, 1e7]");
  }
  if (c.eval_interval < 0) return InvalidArgument("config 'eval_interval' must be >= 0");
  if (c.label_column < -1) return InvalidArgument("config 'label_column' must be >= -1");
  if (c.context_length < 1 || c.context_length > (int64_t{1} << 20)) {
    return InvalidArgument("config 'context_length' must be in [1, 1048576]");
  }
  for (const std::string* p : {&c.checkpoint_dir, &c.output_path}) {
    if (p->find('\0') != std::string::npos) return InvalidArgument("config paths may not hold NUL");
  }
  return Status::OK();
}

Result<TrainingConfig> ParseTrainingConfig(std::string_view json) {
  MLOS_ASSIGN_OR_RETURN(rapidjson::Document d, ParseObject(json, "training config"));
  return ConfigFromValue(d);
}

std::string TrainingConfigToJson(const TrainingConfig& config) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  WriteConfig(config, &w);
  return Finish(sb);
}

std::string TrainingStatusToJson(const TrainingStatus& status) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  WriteStatusFields(status, &w);
  w.EndObject();
  return Finish(sb);
}

Result<TrainingStatus> ParseTrainingStatus(std::string_view json) {
  MLOS_ASSIGN_OR_RETURN(rapidjson::Document d, ParseObject(json, "training status"));
  TrainingStatus s;
  MLOS_RETURN_IF_ERROR(ReadStatusFields(d, &s));
  return s;
}

Result<TrainingRequest> ParseTrainingRequest(std::string_view json) {
  MLOS_ASSIGN_OR_RETURN(rapidjson::Document d, ParseObject(json, "training request"));
  TrainingRequest r;
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key != "model" && key != "dataset" && key != "config" && key != "register_as" &&
        key != "register_version") {
      return InvalidArgument("unknown key '", key,
                             "' in the training request (expected model, dataset, config, "
                             "register_as, register_version)");
    }
  }
  MLOS_RETURN_IF_ERROR(GetString(d, "model", &r.model));
  MLOS_RETURN_IF_ERROR(GetString(d, "dataset", &r.dataset));
  MLOS_RETURN_IF_ERROR(GetString(d, "register_as", &r.register_as));
  MLOS_RETURN_IF_ERROR(GetString(d, "register_version", &r.register_version));
  if (r.model.empty()) return InvalidArgument("'model' is required");
  if (r.dataset.empty()) return InvalidArgument("'dataset' is required");
  for (const std::string* s : {&r.model, &r.dataset, &r.register_as, &r.register_version}) {
    if (s->find('\0') != std::string::npos) return InvalidArgument("strings may not hold NUL");
  }
  if (!r.register_version.empty() && r.register_as.empty()) {
    return InvalidArgument("'register_version' needs 'register_as'");
  }
  auto it = d.FindMember("config");
  if (it != d.MemberEnd() && !it->value.IsNull()) {
    MLOS_ASSIGN_OR_RETURN(r.config, ConfigFromValue(it->value));
  }
  return r;
}

std::string TrainingRequestToJson(const TrainingRequest& request) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  JsonField(&w, "model", request.model);
  JsonField(&w, "dataset", request.dataset);
  w.Key("config");
  WriteConfig(request.config, &w);
  JsonField(&w, "register_as", request.register_as);
  JsonField(&w, "register_version", request.register_version);
  w.EndObject();
  return Finish(sb);
}

// A session is the trainer's status, flattened, plus what the service knows.
std::string TrainingSessionToJson(const TrainingSessionInfo& info) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  WriteStatusFields(info.status, &w);
  JsonField(&w, "model", info.model);
  JsonField(&w, "dataset", info.dataset);
  JsonField(&w, "registered_model", info.registered_model);
  JsonField(&w, "created_unix_ms", info.created_unix_ms);
  w.EndObject();
  return Finish(sb);
}

std::string TrainingSessionListToJson(const std::vector<TrainingSessionInfo>& sessions) {
  std::string out = "{\"sessions\":[";
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (i) out.push_back(',');
    out += TrainingSessionToJson(sessions[i]);
  }
  out += "],\"total\":" + std::to_string(sessions.size()) + "}";
  return out;
}

Result<TrainingSessionInfo> ParseTrainingSession(std::string_view json) {
  MLOS_ASSIGN_OR_RETURN(rapidjson::Document d, ParseObject(json, "training session"));
  TrainingSessionInfo info;
  MLOS_RETURN_IF_ERROR(ReadStatusFields(d, &info.status));
  MLOS_RETURN_IF_ERROR(GetString(d, "model", &info.model));
  MLOS_RETURN_IF_ERROR(GetString(d, "dataset", &info.dataset));
  MLOS_RETURN_IF_ERROR(GetString(d, "registered_model", &info.registered_model));
  MLOS_RETURN_IF_ERROR(GetInt64(d, "created_unix_ms", &info.created_unix_ms));
  return info;
}

std::string PluginTrainStartToJson(const PluginTrainStart& request) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  JsonField(&w, "model_path", request.model_path);
  JsonField(&w, "dataset", request.dataset);
  w.Key("config");
  WriteConfig(request.config, &w);
  JsonField(&w, "resume", request.resume);
  w.EndObject();
  return Finish(sb);
}

Result<PluginTrainStart> ParsePluginTrainStart(std::string_view json) {
  MLOS_ASSIGN_OR_RETURN(rapidjson::Document d, ParseObject(json, "train_start request"));
  PluginTrainStart r;
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key != "model_path" && key != "dataset" && key != "config" && key != "resume") {
      return InvalidArgument("unknown key '", key, "' in the train_start request");
    }
  }
  MLOS_RETURN_IF_ERROR(GetString(d, "model_path", &r.model_path));
  MLOS_RETURN_IF_ERROR(GetString(d, "dataset", &r.dataset));
  MLOS_RETURN_IF_ERROR(GetBool(d, "resume", &r.resume));
  if (r.model_path.empty()) return InvalidArgument("'model_path' is required");
  if (r.dataset.empty()) return InvalidArgument("'dataset' is required");
  auto it = d.FindMember("config");
  if (it != d.MemberEnd() && !it->value.IsNull()) {
    MLOS_ASSIGN_OR_RETURN(r.config, ConfigFromValue(it->value));
  }
  return r;
}

}  // namespace mlos::runtime
