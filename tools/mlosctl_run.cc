// `mlosctl run` and `mlosctl bench`.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "graph/session_values.h"
#include "graph/tensor_proto.h"
#include "tools/mlosctl_common.h"

namespace mlosctl {
namespace {

using mlos::DType;
using mlos::Status;
using mlos::Tensor;
using mlos::graph::Value;

struct Common {
  std::string model;
  std::vector<std::pair<std::string, std::string>> input_files;
  std::vector<std::pair<std::string, mlos::Shape>> shapes;
  std::string output_dir;
  int threads = 0, warmup = 3, iters = 20;
  bool profile = false;  // bench: per-op-type times on stderr (also MLOS_PROFILE=1)
};

bool ParseArgs(const std::vector<std::string>& args, Common* c) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    if (a == "--input" || a == "--shape") {
      const std::string* v = next();
      if (!v) return false;
      size_t eq = v->find('=');
      if (eq == std::string::npos) return false;
      std::string name = v->substr(0, eq), rest = v->substr(eq + 1);
      if (a == "--input") {
        c->input_files.emplace_back(name, rest);
      } else {
        mlos::Shape s;
        std::stringstream ss(rest);
        std::string tok;
        while (std::getline(ss, tok, 'x')) {
          try {
            s.push_back(std::stoll(tok));
          } catch (...) {
            return false;
          }
        }
        c->shapes.emplace_back(name, s);
      }
    } else if (a == "--profile") {
      c->profile = true;
    } else if (a == "--output-dir") {
      const std::string* v = next();
      if (!v) return false;
      c->output_dir = *v;
    } else if (a == "--threads" || a == "--warmup" || a == "--iters") {
      const std::string* v = next();
      if (!v) return false;
      int n = std::atoi(v->c_str());
      if (a == "--threads") c->threads = n;
      if (a == "--warmup") c->warmup = n;
      if (a == "--iters") c->iters = std::max(1, n);
    } else if (c->model.empty()) {
      c->model = a;
    } else {
      return false;
    }
  }
  return !c->model.empty();
}

// Inputs from files, or synthesized (random floats, small non-negative ints) from the declared
// shapes with --shape overrides for dynamic dims.
mlos::Result<std::vector<mlos::NamedTensor>> MakeInputs(const mlos::graph::Session& s,
                                                        const Common& c) {
  std::vector<mlos::NamedTensor> out;
  std::mt19937 rng(42);
  for (const auto& info : s.inputs()) {
    auto f = std::find_if(c.input_files.begin(), c.input_files.end(),
                          [&](const auto& p) { return p.first == info.name; });
    if (f != c.input_files.end()) {
      MLOS_ASSIGN_OR_RETURN(Value v, ReadValueFile(f->second, false));
      out.emplace_back(info.name, v.tensor);
      continue;
    }
    mlos::Shape shape = info.shape;
    auto sh = std::find_if(c.shapes.begin(), c.shapes.end(),
                           [&](const auto& p) { return p.first == info.name; });
    if (sh != c.shapes.end()) shape = sh->second;
    for (auto& d : shape) {
      if (d < 0) d = 1;
    }
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(info.dtype, shape));
    if (info.dtype == DType::kFloat32) {
      std::uniform_real_distribution<float> u(0.f, 1.f);
      float* p = static_cast<float*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(rng);
    } else if (info.dtype == DType::kInt64) {
      auto* p = static_cast<int64_t*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<int64_t>(rng() % 100);
    } else if (info.dtype == DType::kInt32) {
      auto* p = static_cast<int32_t*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<int32_t>(rng() % 100);
    }
    out.emplace_back(info.name, t);
  }
  return out;
}

// CPU time of the whole process (all threads), in ms: less sensitive than wall time to other
// processes on a loaded machine, so A/B comparisons can use it (reported as cpu_ms, the median).
double ProcessCpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// Per-op-type table (time per run, share, calls per run), largest first, then the executor's
// own time: the whole run minus the kernels.
void PrintProfile(const mlos::graph::OpProfile& p) {
  if (p.runs == 0) return;
  const double runs = static_cast<double>(p.runs);
  std::vector<std::pair<std::string, mlos::graph::OpProfile::Entry>> rows(p.ops.begin(),
                                                                          p.ops.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  int64_t kernels = 0;
  for (const auto& r : rows) kernels += r.second.ns;
  const double total_us = static_cast<double>(p.run_ns) / 1e3 / runs;
  std::fprintf(stderr, "%-28s %10s %7s %7s\n", "op", "us/run", "share", "calls");
  for (const auto& [name, e] : rows) {
    const double us = static_cast<double>(e.ns) / 1e3 / runs;
    std::fprintf(stderr, "%-28s %10.1f %6.1f%% %7.0f\n", name.c_str(), us, 100.0 * us / total_us,
                 static_cast<double>(e.calls) / runs);
  }
  const double over = static_cast<double>(p.run_ns - kernels) / 1e3 / runs;
  std::fprintf(stderr, "%-28s %10.1f %6.1f%%\n", "(executor overhead)", over,
               100.0 * over / total_us);
  std::fprintf(stderr, "%-28s %10.1f\n", "(run total)", total_us);
}

}  // namespace

int RunModel(const std::vector<std::string>& args) {
  Common c;
  if (!ParseArgs(args, &c)) {
    std::cerr
        << "usage: mlosctl run MODEL [--input NAME=FILE.pb|FILE.npy ...] [--output-dir DIR]\n";
    return 2;
  }
  mlos::ThreadPool pool(c.threads);
  mlos::graph::SessionOptions opts;
  opts.pool = &pool;
  auto session = mlos::graph::Session::Load(c.model, opts);
  if (!session.ok()) {
    std::cerr << "error: " << session.status().ToString() << "\n";
    return 1;
  }
  auto inputs = MakeInputs(**session, c);
  if (!inputs.ok()) {
    std::cerr << "error: " << inputs.status().ToString() << "\n";
    return 1;
  }
  std::vector<Tensor> outputs;
  mlos::graph::RunStats stats;
  Status st = (*session)->Run(*inputs, &outputs, &stats);
  if (!st.ok()) {
    std::cerr << "error: " << st.ToString() << "\n";
    return 1;
  }
  const auto& infos = (*session)->outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::cout << infos[i].name << ": " << outputs[i].ToString(16) << "\n";
    if (!c.output_dir.empty()) {
      std::filesystem::create_directories(c.output_dir);
      std::string base = c.output_dir + "/" + infos[i].name;
      auto pb = mlos::graph::ValueToPbBytes(Value::FromTensor(outputs[i]), infos[i].name);
      if (pb.ok()) (void)WriteFile(base + ".pb", *pb);
      auto npy = WriteNpy(outputs[i]);
      if (npy.ok()) (void)WriteFile(base + ".npy", *npy);
    }
  }
  std::cerr << "run_us " << stats.run_us << " arena_peak_bytes " << stats.arena_peak_bytes << "\n";
  return 0;
}

int Bench(const std::vector<std::string>& args) {
  Common c;
  if (!ParseArgs(args, &c)) {
    std::cerr << "usage: mlosctl bench MODEL [--threads N] [--warmup N] [--iters N] "
                 "[--input NAME=FILE ...] [--shape NAME=1x128 ...] [--profile]\n";
    return 2;
  }
  if (const char* e = std::getenv("MLOS_PROFILE"); e != nullptr && std::string(e) == "1")
    c.profile = true;
  mlos::ThreadPool pool(c.threads);
  mlos::graph::SessionOptions opts;
  opts.pool = &pool;
  auto t0 = std::chrono::steady_clock::now();
  auto session = mlos::graph::Session::Load(c.model, opts);
  if (!session.ok()) {
    std::cerr << "error: " << session.status().ToString() << "\n";
    return 1;
  }
  double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto inputs = MakeInputs(**session, c);
  if (!inputs.ok()) {
    std::cerr << "error: " << inputs.status().ToString() << "\n";
    return 1;
  }
  std::vector<Tensor> outputs;
  mlos::graph::RunStats stats;
  for (int i = 0; i < c.warmup; ++i) {
    Status st = (*session)->Run(*inputs, &outputs, &stats);
    if (!st.ok()) {
      std::cerr << "error: " << st.ToString() << "\n";
      return 1;
    }
  }
  std::vector<double> ms, cpu;
  mlos::graph::OpProfile profile;
  if (c.profile) stats.profile = &profile;
  for (int i = 0; i < c.iters; ++i) {
    const double c0 = ProcessCpuMs();
    auto a = std::chrono::steady_clock::now();
    Status st = (*session)->Run(*inputs, &outputs, &stats);
    auto b = std::chrono::steady_clock::now();
    cpu.push_back(ProcessCpuMs() - c0);
    if (!st.ok()) {
      std::cerr << "error: " << st.ToString() << "\n";
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  auto pct = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * (ms.size() - 1) + 0.5))];
  };
  double mean = 0;
  for (double v : ms) mean += v;
  mean /= static_cast<double>(ms.size());
  std::printf(
      "{\"model\": \"%s\", \"threads\": %d, \"iters\": %d, \"median_ms\": %.4f, "
      "\"p90_ms\": %.4f, \"min_ms\": %.4f, \"mean_ms\": %.4f, \"load_ms\": %.2f, "
      "\"arena_peak_bytes\": %zu, \"cpu_ms\": %.4f}\n",
      c.model.c_str(), pool.num_threads(), c.iters, pct(0.5), pct(0.9), ms.front(), mean, load_ms,
      stats.arena_peak_bytes, cpu[cpu.size() / 2]);
  if (c.profile) PrintProfile(profile);
  return 0;
}

}  // namespace mlosctl
