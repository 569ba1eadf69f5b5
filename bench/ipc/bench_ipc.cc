// bench_ipc: round trips to a running mlos_core over the IPC socket against the same requests
// over HTTP, in the same run (bench/ipc/run_ipc_bench.sh starts the daemon and the models).
//
//   bench_ipc --socket PATH --http-port N --tiny MODEL_ID --echo MODEL_ID [--tiny-dir DIR]
//             [--iters N] [--echo-mib 64] [--json-iters 2] [--http-shm 1] [--relu MODEL_ID]
//
// Prints one JSON object: p50/p99 (microseconds) of health and of a tiny model's inference over
// IPC and HTTP, the IPC inference overhead over the plugin's own time, the embedded
// KernelAPI's time for the same inference, and the 64 MiB float32 echo through shared memory,
// HTTP binary tensors and HTTP JSON (milliseconds). With --http-shm 1 (the daemon started with
// --http-shm) also the echo over HTTP with Triton's system shared memory: input and output in a
// POSIX shm object registered through /v2/systemsharedmemory, only JSON headers on the wire.
// The echo's output is a view of its input, so the daemon must copy it into the client's
// output memory; --relu names a model computing Relu on the same tensor, whose output the engine
// can write straight into the client's memory (SMI 1.2 output bindings): the relu_* fields time
// it through shared-memory IPC and HTTP + shm.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "api/remote_client.h"
#include "kernel_api.h"

namespace {

using Clock = std::chrono::steady_clock;
double Us(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}
double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// A minimal keep-alive HTTP/1.1 client (Content-Length bodies only).
class Http {
 public:
  explicit Http(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      perror("connect http");
      exit(1);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Http() { close(fd_); }
  // Returns the status; the body in *body.
  int Request(const std::string& method, const std::string& path, const std::string& headers,
              const std::string& body, std::string* out) {
    std::string req = method + " " + path +
                      " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n" + headers + "\r\n";
    SendAll(req.data(), req.size());
    SendAll(body.data(), body.size());
    buf_.clear();
    size_t hdr_end;
    while ((hdr_end = buf_.find("\r\n\r\n")) == std::string::npos) Fill();
    int status = std::atoi(buf_.c_str() + 9);
    size_t cl = 0;
    std::string lower = buf_.substr(0, hdr_end);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    size_t p = lower.find("content-length:");
    if (p != std::string::npos) cl = std::strtoull(lower.c_str() + p + 15, nullptr, 10);
    size_t need = hdr_end + 4 + cl;
    if (out) out->reserve(cl);
    while (buf_.size() < need) Fill();
    if (out) out->assign(buf_, hdr_end + 4, cl);
    return status;
  }

 private:
  void SendAll(const char* p, size_t n) {
    while (n) {
      ssize_t k = send(fd_, p, n, MSG_NOSIGNAL);
      if (k <= 0) {
        perror("send http");
        exit(1);
      }
      p += k;
      n -= static_cast<size_t>(k);
    }
  }
  void Fill() {
    char tmp[1 << 16];
    ssize_t k = recv(fd_, tmp, sizeof(tmp), 0);
    if (k <= 0) {
      perror("recv http");
      exit(1);
    }
    buf_.append(tmp, static_cast<size_t>(k));
  }
  int fd_;
  std::string buf_;
};

std::string Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

std::string UrlEncode(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
      o += c;
    } else {
      char b[4];
      snprintf(b, sizeof(b), "%%%02X", static_cast<unsigned char>(c));
      o += b;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sock = Arg(argc, argv, "--socket", "");
  int port = std::atoi(Arg(argc, argv, "--http-port", "0").c_str());
  std::string tiny = Arg(argc, argv, "--tiny", "mlos/digits@1.0.0");
  std::string tiny_dir = Arg(argc, argv, "--tiny-dir", "");
  std::string echo = Arg(argc, argv, "--echo", "");
  int iters = std::atoi(Arg(argc, argv, "--iters", "20000").c_str());
  int echo_mib = std::atoi(Arg(argc, argv, "--echo-mib", "64").c_str());
  int json_iters = std::atoi(Arg(argc, argv, "--json-iters", "2").c_str());
  bool http_shm = std::atoi(Arg(argc, argv, "--http-shm", "0").c_str()) != 0;
  std::string relu = Arg(argc, argv, "--relu", "");

  auto client = mlos::api::IpcClient::Connect("unix://" + sock);
  if (!client.ok()) {
    fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  auto& c = *client;
  Http http(port);
  std::string body;

  // ---- health ----
  std::vector<double> ipc_health, http_health;
  for (int i = 0; i < iters / 10; ++i) (void)c->Call(mlos::ipc::Op::kHealth, {});
  for (int i = 0; i < iters; ++i) {
    auto t0 = Clock::now();
    if (!c->Call(mlos::ipc::Op::kHealth, {}).ok()) return 1;
    ipc_health.push_back(Us(t0, Clock::now()));
  }
  for (int i = 0; i < iters / 4; ++i) {
    auto t0 = Clock::now();
    if (http.Request("GET", "/health", "", "", &body) != 200) return 1;
    http_health.push_back(Us(t0, Clock::now()));
  }

  // ---- tiny model inference ----
  std::vector<float> px(64);
  for (int i = 0; i < 64; ++i) px[static_cast<size_t>(i)] = static_cast<float>(i % 16);
  mlos::Tensor x = mlos::Tensor::FromVector<float>({1, 64}, px).value();
  std::vector<double> ipc_inf, ipc_over, plugin;
  int tiny_iters = iters / 4;
  for (int i = 0; i < tiny_iters / 10; ++i) (void)c->Infer(tiny, {{"pixels", x}});
  for (int i = 0; i < tiny_iters; ++i) {
    mlos::api::RemoteTiming tm;
    auto t0 = Clock::now();
    auto r = c->Infer(tiny, {{"pixels", x}}, &tm);
    double us = Us(t0, Clock::now());
    if (!r.ok()) {
      fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    ipc_inf.push_back(us);
    plugin.push_back(static_cast<double>(tm.plugin_us));
    ipc_over.push_back(us - static_cast<double>(tm.plugin_us));
  }
  std::string json_in =
      "{\"inputs\":[{\"name\":\"pixels\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[";
  for (int i = 0; i < 64; ++i) json_in += (i ? "," : "") + std::to_string(i % 16);
  json_in += "]}]}";
  std::string kpath = "/v2/models/" + UrlEncode(tiny.substr(0, tiny.find('@'))) + "/infer";
  std::vector<double> http_inf;
  for (int i = 0; i < tiny_iters / 2; ++i) {
    auto t0 = Clock::now();
    int st = http.Request("POST", kpath, "Content-Type: application/json\r\n", json_in, &body);
    if (st != 200) {
      fprintf(stderr, "HTTP infer %d %s\n", st, body.c_str());
      return 1;
    }
    http_inf.push_back(Us(t0, Clock::now()));
  }
  // The embedded KernelAPI on the same model, for the engine's own time in-process.
  std::vector<double> embedded;
  if (!tiny_dir.empty()) {
    mlos::KernelAPI api(mlos::KernelOptions{});
    mlos::Model m = api.load_model(tiny_dir);
    for (int i = 0; i < tiny_iters; ++i) {
      auto t0 = Clock::now();
      auto out = api.run_inference(m, x);
      embedded.push_back(Us(t0, Clock::now()));
    }
  }

  // ---- 64 MiB echo ----
  double shm_ms = 0, bin_ms = 0, json_ms = 0, http_shm_ms = 0, relu_shm_ms = 0,
         relu_http_shm_ms = 0;
  bool echo_ok = true;
  if (!echo.empty()) {
    int64_t n = static_cast<int64_t>(echo_mib) << 18;  // float32 elements
    size_t bytes = static_cast<size_t>(n) * 4;
    auto region = mlos::ShmRegion::Create("bench-echo", bytes).value();
    auto st = mlos::Storage::FromShm(region, 0, bytes).value();
    mlos::Tensor big = mlos::Tensor::FromStorage(st, mlos::DType::kFloat32, {n}).value();
    float* f = big.data<float>();
    for (int64_t i = 0; i < n; ++i) f[i] = static_cast<float>(i % 1000) * 0.5f;
    // Through shared-memory IPC: the input in a registered region, the output in the client's
    // output window. The median of 5 after one call that sizes the window.
    auto ipc_shm = [&](const std::string& model, double* ms) {
      std::vector<double> t;
      for (int i = 0; i < 6; ++i) {
        auto t0 = Clock::now();
        auto r = c->Infer(model, {{"x", big}});
        t.push_back(Us(t0, Clock::now()) / 1000);
        if (!r.ok()) {
          fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return false;
        }
        const float* y = (*r)[0].second.data<float>();
        echo_ok =
            echo_ok && (*r)[0].second.numel() == n && y[n - 1] == f[n - 1] && y[12345] == f[12345];
      }
      t.erase(t.begin());  // first call sizes the output window
      *ms = Pct(t, 0.5);
      return true;
    };
    if (!ipc_shm(echo, &shm_ms)) return 1;
    if (!relu.empty() && !ipc_shm(relu, &relu_shm_ms)) return 1;
    std::vector<double> t;
    std::string ename = echo.substr(0, echo.find('@'));
    std::string epath = "/v2/models/" + UrlEncode(ename) + "/infer";
    std::string hdr =
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + std::to_string(n) +
        "],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + std::to_string(bytes) +
        "}}],\"parameters\":{\"binary_data_output\":true}}";
    std::string bin_body = hdr;
    bin_body.append(reinterpret_cast<const char*>(f), bytes);
    t.clear();
    for (int i = 0; i < 3; ++i) {
      auto t0 = Clock::now();
      int s = http.Request(
          "POST", epath,
          "Content-Type: application/octet-stream\r\nInference-Header-Content-Length: " +
              std::to_string(hdr.size()) + "\r\n",
          bin_body, &body);
      t.push_back(Us(t0, Clock::now()) / 1000);
      if (s != 200) {
        fprintf(stderr, "HTTP binary echo %d %.200s\n", s, body.c_str());
        return 1;
      }
      echo_ok = echo_ok && body.size() > bytes &&
                std::memcmp(body.data() + body.size() - bytes, f, bytes) == 0;
    }
    bin_ms = Pct(t, 0.5);
    std::string jb = "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + std::to_string(n) +
                     "],\"datatype\":\"FP32\",\"data\":[";
    jb.reserve(bytes * 2);
    char num[32];
    for (int64_t i = 0; i < n; ++i) {
      int k = snprintf(num, sizeof(num), i ? ",%g" : "%g", static_cast<double>(f[i]));
      jb.append(num, static_cast<size_t>(k));
    }
    jb += "]}]}";
    t.clear();
    for (int i = 0; i < json_iters; ++i) {
      auto t0 = Clock::now();
      int s = http.Request("POST", epath, "Content-Type: application/json\r\n", jb, &body);
      t.push_back(Us(t0, Clock::now()) / 1000);
      if (s != 200) {
        fprintf(stderr, "HTTP JSON echo %d %.200s\n", s, body.c_str());
        return 1;
      }
    }
    json_ms = Pct(t, 0.5);

    // HTTP + system shared memory: one POSIX shm object, input at 0 and output at `bytes`.
    if (http_shm) {
      char key[64];
      snprintf(key, sizeof(key), "/mlos-bench-echo-%d", static_cast<int>(getpid()));
      int fd = shm_open(key, O_CREAT | O_EXCL | O_RDWR, 0600);
      if (fd < 0 || ftruncate(fd, static_cast<off_t>(2 * bytes)) != 0) {
        perror("shm_open");
        return 1;
      }
      auto* obj = static_cast<uint8_t*>(
          mmap(nullptr, 2 * bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
      close(fd);
      if (obj == MAP_FAILED) {
        perror("mmap");
        shm_unlink(key);
        return 1;
      }
      std::memcpy(obj, f, bytes);
      std::string reg = std::string("{\"key\":\"") + key +
                        "\",\"offset\":0,\"byte_size\":" + std::to_string(2 * bytes) + "}";
      int s = http.Request("POST", "/v2/systemsharedmemory/region/bench-echo/register",
                           "Content-Type: application/json\r\n", reg, &body);
      if (s != 200) {
        fprintf(stderr, "HTTP shm register %d %.200s\n", s, body.c_str());
        shm_unlink(key);
        return 1;
      }
      auto http_shm_run = [&](const std::string& model, double* ms) {
        std::string mpath = "/v2/models/" + UrlEncode(model.substr(0, model.find('@'))) + "/infer";
        std::string sb = "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + std::to_string(n) +
                         "],\"datatype\":\"FP32\",\"parameters\":{\"shared_memory_region\":"
                         "\"bench-echo\",\"shared_memory_byte_size\":" +
                         std::to_string(bytes) +
                         "}}],\"outputs\":[{\"name\":\"y\",\"parameters\":{"
                         "\"shared_memory_region\":\"bench-echo\",\"shared_memory_offset\":" +
                         std::to_string(bytes) +
                         ",\"shared_memory_byte_size\":" + std::to_string(bytes) + "}}]}";
        t.clear();
        for (int i = 0; i < 6; ++i) {
          std::memset(obj + bytes, 0, bytes);  // outside the timing: the output must be rewritten
          auto t0 = Clock::now();
          int st = http.Request("POST", mpath, "Content-Type: application/json\r\n", sb, &body);
          t.push_back(Us(t0, Clock::now()) / 1000);
          if (st != 200) {
            fprintf(stderr, "HTTP shm %s %d %.200s\n", model.c_str(), st, body.c_str());
            return false;
          }
          echo_ok = echo_ok && std::memcmp(obj + bytes, f, bytes) == 0;
        }
        t.erase(t.begin());  // first call faults the output pages in on the server side
        *ms = Pct(t, 0.5);
        return true;
      };
      if (!http_shm_run(echo, &http_shm_ms) ||
          (!relu.empty() && !http_shm_run(relu, &relu_http_shm_ms))) {
        shm_unlink(key);
        return 1;
      }
      (void)http.Request("POST", "/v2/systemsharedmemory/region/bench-echo/unregister", "", "",
                         &body);
      munmap(obj, 2 * bytes);
      shm_unlink(key);
    }
  }

  printf(
      "{\"ipc_health_p50_us\":%.1f,\"ipc_health_p99_us\":%.1f,"
      "\"http_health_p50_us\":%.1f,\"http_health_p99_us\":%.1f,"
      "\"ipc_infer_p50_us\":%.1f,\"ipc_infer_p99_us\":%.1f,"
      "\"ipc_infer_overhead_p50_us\":%.1f,\"ipc_infer_overhead_p99_us\":%.1f,"
      "\"plugin_p50_us\":%.1f,\"embedded_infer_p50_us\":%.1f,"
      "\"http_infer_p50_us\":%.1f,\"http_infer_p99_us\":%.1f,"
      "\"echo_mib\":%d,\"echo_shm_ms\":%.2f,\"echo_http_binary_ms\":%.2f,"
      "\"echo_http_json_ms\":%.2f,\"echo_http_shm_ms\":%.2f,\"json_over_shm\":%.1f,"
      "\"binary_over_shm\":%.1f,\"json_over_http_shm\":%.1f,\"relu_shm_ms\":%.2f,"
      "\"relu_http_shm_ms\":%.2f,\"echo_verified\":%s}\n",
      Pct(ipc_health, .5), Pct(ipc_health, .99), Pct(http_health, .5), Pct(http_health, .99),
      Pct(ipc_inf, .5), Pct(ipc_inf, .99), Pct(ipc_over, .5), Pct(ipc_over, .99), Pct(plugin, .5),
      Pct(embedded, .5), Pct(http_inf, .5), Pct(http_inf, .99), echo_mib, shm_ms, bin_ms, json_ms,
      http_shm_ms, shm_ms > 0 ? json_ms / shm_ms : 0.0, shm_ms > 0 ? bin_ms / shm_ms : 0.0,
      http_shm_ms > 0 ? json_ms / http_shm_ms : 0.0, relu_shm_ms, relu_http_shm_ms,
      echo_ok ? "true" : "false");
  return 0;
}
