// mlosctl train: training sessions on the mlos_core daemon over HTTP.
//
//   mlosctl train MODEL DATASET [--config FILE.json] [--set key=value ...] [--endpoint URL]
//                 [--register-as NAME] [--register-version V] [--detach]
//   mlosctl train status|pause|resume|stop ID [--endpoint URL]
//   mlosctl train list [--endpoint URL]
//
// Starting follows the session's server-sent events with a live progress bar on a terminal (one
// plain line per event otherwise). Ctrl-C detaches: the session keeps training and its id is
// printed. Exit status: 0 completed/stopped/detached, 1 failed or an error, 2 usage.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/mlosctl_http.h"

namespace mlosctl {

int Train(const std::vector<std::string>& args);

namespace {

namespace rj = rapidjson;

std::atomic<bool> g_interrupted{false};

void OnSigint(int) { g_interrupted.store(true); }

constexpr const char* kUsage =
    "usage: mlosctl train MODEL DATASET [--config FILE.json] [--set key=value ...]\n"
    "                     [--endpoint URL] [--register-as NAME] [--register-version V] "
    "[--detach]\n"
    "       mlosctl train status|pause|resume|stop ID [--endpoint URL]\n"
    "       mlosctl train list [--endpoint URL]\n"
    "The endpoint defaults to $MLOS_ENDPOINT (http://...) or http://127.0.0.1:8080.\n";

std::string DefaultEndpoint() {
  const char* env = std::getenv("MLOS_ENDPOINT");
  if (env && std::string_view(env).substr(0, 7) == "http://") return env;
  return "http://127.0.0.1:8080";
}

std::string Compact(const rj::Value& v) {
  rj::StringBuffer sb;
  rj::Writer<rj::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::string Pretty(const std::string& json) {
  rj::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError()) return json;
  rj::StringBuffer sb;
  rj::PrettyWriter<rj::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  d.Accept(w);
  return sb.GetString();
}

// The "error" of an error body, else the body itself.
std::string ErrorText(const HttpResult& r) {
  rj::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("error") && d["error"].IsString()) {
    return d["error"].GetString();
  }
  return r.body.empty() ? "HTTP " + std::to_string(r.status) : r.body;
}

double Num(const rj::Value& o, const char* key, double fallback = 0) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : fallback;
}
std::string Str(const rj::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::string Duration(double s) {
  if (s < 0 || !std::isfinite(s)) return "--:--";
  auto t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  }
  return buf;
}

// "step 120/240 epoch 3 loss 0.4123 val_acc 93.1% 1520 samples/s ETA 0:12"
std::string Metrics(const rj::Value& s) {
  char buf[256];
  auto step = static_cast<long long>(Num(s, "step"));
  auto total = static_cast<long long>(Num(s, "total_steps"));
  int n = std::snprintf(buf, sizeof(buf), "step %lld/%lld epoch %lld loss %.4f", step, total,
                        static_cast<long long>(Num(s, "epoch")), Num(s, "loss"));
  std::string out(buf, static_cast<size_t>(std::max(0, n)));
  auto hv = s.FindMember("has_validation");
  if (hv != s.MemberEnd() && hv->value.IsBool() && hv->value.GetBool()) {
    double acc = Num(s, "val_accuracy", -1);
    if (acc >= 0) {
      std::snprintf(buf, sizeof(buf), " val_acc %.1f%%", acc * 100);
    } else {
      std::snprintf(buf, sizeof(buf), " val_loss %.4f", Num(s, "val_loss"));
    }
    out += buf;
  }
  std::snprintf(buf, sizeof(buf), " %.0f samples/s ETA %s", Num(s, "samples_per_second"),
                Duration(Num(s, "eta_seconds", -1)).c_str());
  out += buf;
  return out;
}

std::string Bar(const rj::Value& s, int width) {
  double total = Num(s, "total_steps"), step = Num(s, "step");
  double frac = total > 0 ? std::clamp(step / total, 0.0, 1.0) : 0.0;
  int fill = static_cast<int>(frac * width + 0.5);
  char pct[16];
  std::snprintf(pct, sizeof(pct), "%3d%%", static_cast<int>(frac * 100));
  return "[" + std::string(fill, '#') + std::string(width - fill, '.') + "] " + pct;
}

// Reads the session's events until it ends or Ctrl-C. Returns the exit status.
int Follow(const HttpEndpoint& ep, const std::string& id) {
  bool tty = isatty(STDOUT_FILENO) != 0;
  HttpStream stream;
  int status = 0;
  std::string error_body;
  mlos::Status st = stream.Open(ep, "/training/sessions/" + id + "/events", &status, &error_body);
  if (!st.ok()) {
    std::cerr << "mlosctl train: " << st.message() << "\n";
    return 1;
  }
  if (status != 200) {
    std::cerr << "mlosctl train: events of " << id << ": HTTP " << status << " " << error_body;
    return 1;
  }
  std::string line, event = "message", data, err;
  std::string last_state;
  while (stream.ReadLine(&line, &g_interrupted, &err)) {
    if (line.rfind("event:", 0) == 0) {
      event = std::string(line.substr(line.find_first_not_of(' ', 6) == std::string::npos
                                          ? line.size()
                                          : line.find_first_not_of(' ', 6)));
      continue;
    }
    if (line.rfind("data:", 0) == 0) {
      data += line.substr(std::min(line.size(), static_cast<size_t>(line[5] == ' ' ? 6 : 5)));
      continue;
    }
    if (!line.empty()) continue;  // id:, comments
    if (data.empty()) {
      event = "message";
      continue;
    }
    rj::Document d;
    d.Parse(data.c_str(), data.size());
    data.clear();
    if (d.HasParseError() || !d.IsObject()) continue;
    if (event == "error") {
      if (tty) std::cout << "\n";
      std::cerr << "mlosctl train: " << Str(d, "error") << "\n";
      return 1;
    }
    std::string state = Str(d, "state");
    if (tty) {
      std::cout << "\r\033[K" << Bar(d, 30) << " " << Metrics(d) << " (" << state << ")"
                << std::flush;
    } else {
      std::cout << id << " " << state << " " << Metrics(d) << "\n" << std::flush;
    }
    last_state = state;
    if (event == "end") {
      if (tty) std::cout << "\n";
      std::cout << "session " << id << " " << state;
      if (state == "failed") std::cout << ": " << Str(d, "error");
      std::string out = Str(d, "output_path"), reg = Str(d, "registered_model");
      if (!out.empty()) std::cout << "; model saved to " << out;
      if (!reg.empty()) std::cout << "; registered as " << reg;
      std::cout << "\n";
      return state == "failed" ? 1 : 0;
    }
    event = "message";
  }
  if (tty) std::cout << "\n";
  if (g_interrupted.load()) {
    std::cout << "detached; session " << id << " keeps training (mlosctl train status " << id
              << ")\n";
    return 0;
  }
  std::cerr << "mlosctl train: the event stream of " << id << " ended early"
            << (err.empty() ? "" : ": " + err) << " (last state " << last_state << ")\n";
  return 1;
}

// A --set value: JSON when it parses (numbers, true/false, null, "quoted"), else a string.
void SetKey(rj::Document* config, const std::string& key, const std::string& value) {
  auto& a = config->GetAllocator();
  rj::Document v(&a);
  v.Parse(value.c_str(), value.size());
  rj::Value val;
  if (!v.HasParseError() && !value.empty()) {
    val.CopyFrom(v, a);
  } else {
    val.SetString(value.c_str(), static_cast<rj::SizeType>(value.size()), a);
  }
  config->RemoveMember(key.c_str());
  config->AddMember(rj::Value(key.c_str(), a), val, a);
}

std::string AbsoluteIfExists(const std::string& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return p;
  return std::filesystem::absolute(p, ec).lexically_normal().string();
}

int Start(const HttpEndpoint& ep, const std::vector<std::string>& pos,
          const std::string& config_file, const std::vector<std::string>& sets,
          const std::string& register_as, const std::string& register_version, bool detach) {
  rj::Document config(rj::kObjectType);
  if (!config_file.empty()) {
    std::ifstream f(config_file);
    if (!f) {
      std::cerr << "mlosctl train: cannot read --config " << config_file << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    config.Parse(text.c_str(), text.size());
    if (config.HasParseError() || !config.IsObject()) {
      std::cerr << "mlosctl train: --config " << config_file << " is not a JSON object\n";
      return 2;
    }
  }
  for (const std::string& s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "mlosctl train: --set wants key=value, got '" << s << "'\n";
      return 2;
    }
    SetKey(&config, s.substr(0, eq), s.substr(eq + 1));
  }
  for (const char* key : {"output_path", "checkpoint_dir"}) {
    auto it = config.FindMember(key);
    if (it != config.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0) {
      std::error_code ec;
      std::string abs = std::filesystem::absolute(it->value.GetString(), ec).string();
      if (!ec) it->value.SetString(abs.c_str(), config.GetAllocator());
    }
  }
  rj::Document req(rj::kObjectType);
  auto& a = req.GetAllocator();
  req.AddMember("model", rj::Value(AbsoluteIfExists(pos[0]).c_str(), a), a);
  req.AddMember("dataset", rj::Value(AbsoluteIfExists(pos[1]).c_str(), a), a);
  req.AddMember("config", rj::Value(config, a), a);
  if (!register_as.empty()) req.AddMember("register_as", rj::Value(register_as.c_str(), a), a);
  if (!register_version.empty()) {
    req.AddMember("register_version", rj::Value(register_version.c_str(), a), a);
  }
  auto r = HttpRequest(ep, "POST", "/training/sessions", Compact(req));
  if (!r.ok()) {
    std::cerr << "mlosctl train: " << r.status().message() << "\n";
    return 1;
  }
  if (r->status != 201) {
    std::cerr << "mlosctl train: HTTP " << r->status << ": " << ErrorText(*r) << "\n";
    return 1;
  }
  rj::Document d;
  d.Parse(r->body.c_str(), r->body.size());
  std::string id = !d.HasParseError() && d.IsObject() ? Str(d, "id") : "";
  if (id.empty()) {
    std::cerr << "mlosctl train: the daemon's answer has no session id: " << r->body << "\n";
    return 1;
  }
  if (detach) {
    std::cout << id << "\n";
    return 0;
  }
  std::cout << "session " << id << " started (Ctrl-C detaches; it keeps training)\n";
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  return Follow(ep, id);
}

int Control(const HttpEndpoint& ep, const std::string& verb, const std::string& id) {
  std::string path = "/training/sessions";
  if (!id.empty()) path += "/" + id;
  bool get = verb == "status" || verb == "list";
  if (!get) path += "/" + verb;
  auto r = HttpRequest(ep, get ? "GET" : "POST", path);
  if (!r.ok()) {
    std::cerr << "mlosctl train " << verb << ": " << r.status().message() << "\n";
    return 1;
  }
  if (r->status != 200) {
    std::cerr << "mlosctl train " << verb << ": HTTP " << r->status << ": " << ErrorText(*r)
              << "\n";
    return 1;
  }
  if (verb == "list") {
    rj::Document d;
    d.Parse(r->body.c_str(), r->body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("sessions") ||
        !d["sessions"].IsArray()) {
      std::cout << r->body << "\n";
      return 0;
    }
    for (const auto& s : d["sessions"].GetArray()) {
      if (!s.IsObject()) continue;
      std::cout << Str(s, "id") << "  " << Str(s, "state") << "  " << Metrics(s) << "  "
                << Str(s, "model") << "\n";
    }
    return 0;
  }
  if (verb == "status") {
    std::cout << Pretty(r->body) << "\n";
  } else {
    rj::Document d;
    d.Parse(r->body.c_str(), r->body.size());
    std::string state = !d.HasParseError() && d.IsObject() ? Str(d, "state") : "";
    std::cout << verb << ": session " << id << " is " << state << "\n";
  }
  return 0;
}

}  // namespace

int Train(const std::vector<std::string>& args) {
  std::vector<std::string> pos, sets;
  std::string endpoint = DefaultEndpoint(), config_file, register_as, register_version;
  bool detach = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--detach" || a == "-d") {
      detach = true;
    } else if (a == "--endpoint" || a == "--config" || a == "--set" || a == "--register-as" ||
               a == "--register-version") {
      if (!value(&v)) {
        std::cerr << "mlosctl train: " << a << " needs a value\n" << kUsage;
        return 2;
      }
      if (a == "--endpoint") endpoint = v;
      if (a == "--config") config_file = v;
      if (a == "--set") sets.push_back(v);
      if (a == "--register-as") register_as = v;
      if (a == "--register-version") register_version = v;
    } else if (a.size() > 1 && a[0] == '-') {
      std::cerr << "mlosctl train: unknown option " << a << "\n" << kUsage;
      return 2;
    } else {
      pos.push_back(a);
    }
  }
  auto ep = ParseHttpEndpoint(endpoint);
  if (!ep.ok()) {
    std::cerr << "mlosctl train: " << ep.status().message() << "\n";
    return 2;
  }
  if (!pos.empty() && pos[0] == "list" && pos.size() == 1) return Control(*ep, "list", "");
  if (!pos.empty() &&
      (pos[0] == "status" || pos[0] == "pause" || pos[0] == "resume" || pos[0] == "stop")) {
    if (pos.size() != 2) {
      std::cerr << "mlosctl train " << pos[0] << ": expected one session id\n" << kUsage;
      return 2;
    }
    return Control(*ep, pos[0], pos[1]);
  }
  if (pos.size() != 2) {
    std::cerr << kUsage;
    return 2;
  }
  return Start(*ep, pos, config_file, sets, register_as, register_version, detach);
}

}  // namespace mlosctl
