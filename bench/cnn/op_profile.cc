// bench_op_profile: where an ONNX model's time goes, per operator type and per node.
//
// usage: bench_op_profile MODEL.onnx [--threads N] [--iters N] [--warmup N] [--top N] [--cpu]
//                         [--input NAME=FILE.pb ...]
// --cpu times each op in the calling thread's CPU time (use at --threads 1 on a busy machine).
// Loads and optimises the model exactly as a Session does, then builds the plan with a registry
// whose kernels wrap the real ones with a timer, runs warm-up iterations (the first records the
// memory plan) and timed iterations, and prints the mean time per op type and the slowest nodes
// (with their input shape and, for Conv, kernel, stride and group). Kernels are looked up in
// OpRegistry::Global(), so what runs is what mlosctl bench runs; only the timer is added.
// Single-process tool: its state lives in main's frame, nothing global.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "graph/executor.h"
#include "graph/onnx_loader.h"
#include "graph/passes.h"
#include "graph/tensor_proto.h"

namespace {

using namespace mlos;         // NOLINT
using namespace mlos::graph;  // NOLINT

struct NodeStat {
  const Node* node = nullptr;
  std::string shape;  // first input's shape at the last call
  double total_ms = 0;
  int64_t calls = 0;
};

class TimedKernel final : public OpKernel {
 public:
  // cpu: time the calling thread's CPU time instead of wall time (at 1 thread, immune to time
  // slices lost to other processes; at more threads it misses the workers' share).
  TimedKernel(std::unique_ptr<OpKernel> inner, NodeStat* stat, bool cpu)
      : inner_(std::move(inner)), stat_(stat), cpu_(cpu) {}
  Status Compute(OpContext& ctx) const override {
    const double t0 = Now();
    Status s = inner_->Compute(ctx);
    stat_->total_ms += Now() - t0;
    ++stat_->calls;
    if (stat_->shape.empty() && ctx.has_input(0) &&
        ctx.input_value(0)->kind == Value::Kind::kTensor) {
      stat_->shape = ShapeToString(ctx.input(0).shape());
    }
    return s;
  }

 private:
  double Now() const {
    timespec ts{};
    clock_gettime(cpu_ ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }

  std::unique_ptr<OpKernel> inner_;
  NodeStat* stat_;
  bool cpu_;
};

std::string Describe(const Node& n) {
  std::ostringstream os;
  os << n.op_type;
  if (n.op_type == "Conv") {
    auto ks = n.GetInts("kernel_shape");
    auto st = n.GetInts("strides");
    os << " k" << (ks.empty() ? 0 : ks[0]) << " s" << (st.empty() ? 1 : st[0]) << " g"
       << n.GetInt("group", 1) << " act" << n.GetInt("_mlos_act", 0);
    if (n.inputs.size() > 3) os << " +res";
  }
  return os.str();
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_op_profile MODEL.onnx [--threads N] [--iters N] [--warmup N] "
               "[--top N] [--cpu] [--input NAME=FILE.pb ...]\n");
  return 2;
}

int Run(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string model_path = argv[1];
  int threads = 1, iters = 20, warmup = 3, top = 25;
  bool cpu = false;
  std::vector<std::pair<std::string, std::string>> input_files;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cpu") {
      cpu = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--threads") {
      threads = std::atoi(v.c_str());
    } else if (a == "--iters") {
      iters = std::atoi(v.c_str());
    } else if (a == "--warmup") {
      warmup = std::atoi(v.c_str());
    } else if (a == "--top") {
      top = std::atoi(v.c_str());
    } else if (a == "--input") {
      auto eq = v.find('=');
      if (eq == std::string::npos) return Usage();
      input_files.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else {
      return Usage();
    }
  }
  if (threads < 1 || iters < 1 || warmup < 1) return Usage();
  auto read = [](const std::string& path, std::string* out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    std::ostringstream ss;
    ss << f.rdbuf();
    *out = ss.str();
    return true;
  };
  std::string bytes;
  if (!read(model_path, &bytes)) {
    std::fprintf(stderr, "cannot read %s\n", model_path.c_str());
    return 1;
  }
  std::string dir = model_path.substr(0, model_path.find_last_of('/') + 1);
  auto loaded = LoadOnnxModel(bytes, dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<Graph> g = *loaded;
  ThreadPool pool(threads);
  Status st = OptimizeGraph(*g, OpRegistry::Global(), pool);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }

  // One stat per node, addressed through the node pointer the factory sees.
  std::map<const Node*, NodeStat> stats;
  for (const Node& n : g->nodes) stats[&n].node = &n;
  OpRegistry reg;
  std::map<std::string, bool> added;
  for (const Node& n : g->nodes) {
    std::string dom = CanonicalDomain(n.domain);
    std::string key = dom + "::" + n.op_type;
    if (added[key]) continue;
    added[key] = true;
    auto it = g->opsets.find(dom);
    int64_t opset = it == g->opsets.end() ? DefaultOpset(*g) : it->second;
    const OpDef* def = OpRegistry::Global().Find(dom, n.op_type, opset);
    if (def == nullptr) continue;  // Build reports it
    KernelFactory inner = def->factory;
    reg.AddKernel(
        n.op_type,
        [inner, &stats, cpu](const KernelInit& init) -> Result<std::unique_ptr<OpKernel>> {
          MLOS_ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> k, inner(init));
          return std::unique_ptr<OpKernel>(new TimedKernel(std::move(k), &stats[&init.node], cpu));
        },
        1, dom);
  }
  auto plan = GraphPlan::Build(g, reg);
  if (!plan.ok()) {
    std::fprintf(stderr, "%s\n", plan.status().ToString().c_str());
    return 1;
  }

  std::vector<Value> inputs;
  for (int id : (*plan)->input_ids()) {
    const std::string& name = (*plan)->name(id);
    std::string file;
    for (auto& [k, v] : input_files) {
      if (k == name) file = v;
    }
    if (file.empty()) {
      std::fprintf(stderr, "no --input for '%s'\n", name.c_str());
      return 1;
    }
    std::string pb;
    if (!read(file, &pb)) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 1;
    }
    auto v = ValueFromPbBytes(pb, false);
    if (!v.ok()) {
      std::fprintf(stderr, "%s\n", v.status().ToString().c_str());
      return 1;
    }
    inputs.push_back(*v);
  }

  std::unique_ptr<MemoryPlan> memory;
  std::vector<Value> outputs;
  st = Executor::Run(**plan, inputs, pool, nullptr, &memory, &outputs);
  for (int i = 1; st.ok() && i < warmup; ++i) {
    st = Executor::Run(**plan, inputs, pool, memory.get(), nullptr, &outputs);
  }
  for (auto& [p, s] : stats) s.total_ms = 0, s.calls = 0;
  std::vector<double> run_ms, cpu_ms;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  for (int i = 0; st.ok() && i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    st = Executor::Run(**plan, inputs, pool, memory.get(), nullptr, &outputs);
    cpu_ms.push_back(cpu_now() - c0);
    run_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::sort(run_ms.begin(), run_ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  double ops_total = 0;
  std::map<std::string, std::pair<double, int>> by_type;
  std::vector<NodeStat*> nodes;
  for (auto& [p, s] : stats) {
    if (s.calls == 0) continue;
    ops_total += s.total_ms / iters;
    auto& bt = by_type[Describe(*s.node)];
    bt.first += s.total_ms / iters;
    bt.second += 1;
    nodes.push_back(&s);
  }
  // Process CPU time (all threads) per run: at 1 thread, a figure that time slices lost to
  // other processes do not inflate.
  std::printf(
      "model %s threads %d: run median %.3f ms, min %.3f ms; cpu median %.3f ms; sum of ops "
      "%.3f ms\n",
      model_path.c_str(), threads, run_ms[run_ms.size() / 2], run_ms[0], cpu_ms[cpu_ms.size() / 2],
      ops_total);
  std::vector<std::pair<std::string, std::pair<double, int>>> types(by_type.begin(), by_type.end());
  std::sort(types.begin(), types.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::printf("%-36s %6s %10s %6s\n", "op", "nodes", "ms", "%");
  for (auto& [name, v] : types) {
    std::printf("%-36s %6d %10.3f %6.1f\n", name.c_str(), v.second, v.first,
                100 * v.first / ops_total);
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeStat* a, const NodeStat* b) { return a->total_ms > b->total_ms; });
  std::printf("\nslowest nodes\n");
  for (int i = 0; i < top && i < static_cast<int>(nodes.size()); ++i) {
    const NodeStat* s = nodes[i];
    const Tensor* w = nullptr;
    if (s->node->inputs.size() > 1) {
      auto it = g->initializers.find(s->node->inputs[1]);
      if (it != g->initializers.end()) w = &it->second;
    }
    std::printf("%8.3f ms  %-30s in %-18s w %-16s %s\n", s->total_ms / iters,
                Describe(*s->node).c_str(), s->shape.c_str(),
                w ? ShapeToString(w->shape()).c_str() : "-", s->node->name.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
