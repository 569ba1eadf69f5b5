// sessions.json of the training service (training_session_store.h).
#include "runtime/training_session_store.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/json_fields.h"
#include "runtime/training_json.h"

namespace mlos::runtime {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Stringify(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void Raw(Writer* w, const std::string& json) {
  w->RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open folder ", dir, ": ", std::strerror(errno));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Internal("fsync of folder ", dir, " failed: ", std::strerror(errno));
  return Status::OK();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  static std::atomic<uint64_t> counter{0};
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string tmp = StrCat(path, ".tmp-", getpid(), "-", counter.fetch_add(1));
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot create ", tmp, ": ", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return Internal("writing ", tmp, " failed: ", why);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    unlink(tmp.c_str());
    return Internal("fsync of ", tmp, " failed: ", why);
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return Internal("cannot rename ", tmp, " to ", path, ": ", why);
  }
  return SyncDir(dir);
}

Status SaveSessionTable(const std::string& path, const SessionTable& table) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  JsonField(&w, "version", 1);
  JsonField(&w, "next_id", table.next_id);
  w.Key("sessions");
  w.StartArray();
  for (const StoredSession& s : table.sessions) {
    w.StartObject();
    JsonField(&w, "id", s.id);
    w.Key("request");
    Raw(&w, TrainingRequestToJson(s.request));
    JsonField(&w, "model_path", s.model_path);
    JsonField(&w, "registered_model", s.registered_model);
    JsonField(&w, "created_unix_ms", s.created_unix_ms);
    w.Key("status");
    Raw(&w, TrainingStatusToJson(s.status));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return WriteFileAtomically(path, std::string(sb.GetString(), sb.GetSize()));
}

Result<SessionTable> LoadSessionTable(const std::string& path) {
  SessionTable table;
  std::ifstream in(path, std::ios::binary);
  if (!in) return table;  // no table yet
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  auto bad = [&](std::string_view why) {
    return DataLoss("training session table ", path, ": ", why);
  };
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  if (d.HasMember("next_id") && d["next_id"].IsInt64()) table.next_id = d["next_id"].GetInt64();
  if (!d.HasMember("sessions") || !d["sessions"].IsArray()) return bad("no 'sessions' array");
  for (const auto& e : d["sessions"].GetArray()) {
    if (!e.IsObject() || !e.HasMember("id") || !e["id"].IsString() || !e.HasMember("request") ||
        !e["request"].IsObject() || !e.HasMember("status") || !e["status"].IsObject()) {
      return bad("a session entry lacks id, request or status");
    }
    StoredSession s;
    s.id = e["id"].GetString();
    Result<TrainingRequest> req = ParseTrainingRequest(Stringify(e["request"]));
    if (!req.ok()) return bad(StrCat("session ", s.id, ": ", req.status().message()));
    s.request = std::move(req).value();
    Result<training::TrainingStatus> st = ParseTrainingStatus(Stringify(e["status"]));
    if (!st.ok()) return bad(StrCat("session ", s.id, ": ", st.status().message()));
    s.status = std::move(st).value();
    if (e.HasMember("model_path") && e["model_path"].IsString()) {
      s.model_path = e["model_path"].GetString();
    }
    if (e.HasMember("registered_model") && e["registered_model"].IsString()) {
      s.registered_model = e["registered_model"].GetString();
    }
    if (e.HasMember("created_unix_ms") && e["created_unix_ms"].IsInt64()) {
      s.created_unix_ms = e["created_unix_ms"].GetInt64();
    }
    table.sessions.push_back(std::move(s));
  }
  return table;
}

}  // namespace mlos::runtime
