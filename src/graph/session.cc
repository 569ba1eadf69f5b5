#include "graph/session.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "graph/executor.h"
#include "graph/onnx_loader.h"
#include "graph/passes.h"

namespace mlos::graph {
namespace {

constexpr size_t kMaxCachedPlans = 32;

class SessionImpl final : public Session {
 public:
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<Graph> g,
                                                 const SessionOptions& options) {
    if (options.pool == nullptr) return InvalidArgument("SessionOptions.pool is required");
    if (options.optimize)
      MLOS_RETURN_IF_ERROR(OptimizeGraph(*g, OpRegistry::Global(), *options.pool));
    auto s = std::unique_ptr<SessionImpl>(new SessionImpl());
    s->pool_ = options.pool;
    s->graph_ = g;
    MLOS_ASSIGN_OR_RETURN(s->plan_, GraphPlan::Build(g, OpRegistry::Global()));
    for (const auto& vi : g->inputs) {
      if (g->initializers.count(vi.name)) continue;
      s->inputs_.push_back(ToInfo(vi));
    }
    for (const auto& vi : g->outputs) s->outputs_.push_back(ToInfo(vi));
    return std::unique_ptr<Session>(std::move(s));
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Status Run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>* outputs,
             RunStats* stats) override {
    return RunInto(inputs, {}, outputs, stats);
  }

  Status RunInto(const std::vector<NamedTensor>& inputs, const std::vector<OutputBinding>& bindings,
                 std::vector<Tensor>* outputs, RunStats* stats) override {
    std::vector<Value> values;
    MLOS_RETURN_IF_ERROR(RunValues(inputs, {}, &values, stats, &bindings));
    outputs->clear();
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i].kind != Value::Kind::kTensor) {
        return Unimplemented("output '", outputs_[i].name, "' is not a tensor");
      }
      outputs->push_back(std::move(values[i].tensor));
    }
    return Status::OK();
  }

  // Value-level run (sequences included), used by mlosctl conformance.
  Status RunValues(const std::vector<NamedTensor>& tensors,
                   const std::vector<std::pair<std::string, Value>>& extra,
                   std::vector<Value>* outputs, RunStats* stats,
                   const std::vector<OutputBinding>* bindings = nullptr) {
    auto t0 = std::chrono::steady_clock::now();
    const Graph& g = *graph_;
    std::vector<Value> bound(g.inputs.size());
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < g.inputs.size(); ++i) index[g.inputs[i].name] = i;
    auto bind = [&](const std::string& name, Value v) -> Status {
      auto it = index.find(name);
      if (it == index.end()) return InvalidArgument("the model has no input named '", name, "'");
      bound[it->second] = std::move(v);
      return Status::OK();
    };
    for (const auto& [name, t] : tensors) MLOS_RETURN_IF_ERROR(bind(name, Value::FromTensor(t)));
    for (const auto& [name, v] : extra) MLOS_RETURN_IF_ERROR(bind(name, v));
    std::map<std::string, int64_t> symbols;
    std::ostringstream sig;
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      const ValueInfo& vi = g.inputs[i];
      const Value& v = bound[i];
      if (v.kind == Value::Kind::kNone) {
        if (g.initializers.count(vi.name) || vi.kind == ValueKind::kOptional) continue;
        return InvalidArgument("input '", vi.name, "' is required");
      }
      if (v.kind == Value::Kind::kTensor) {
        MLOS_RETURN_IF_ERROR(CheckInput(vi, v.tensor, &symbols));
        sig << i << ':' << static_cast<int>(v.tensor.dtype()) << ShapeToString(v.tensor.shape());
      } else {
        sig << i << ":seq" << v.seq.size();
        for (const Tensor& t : v.seq) sig << ShapeToString(t.shape());
      }
    }
    const std::string key = sig.str();
    std::shared_ptr<MemoryPlan> mp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = plans_.find(key);
      if (it != plans_.end()) mp = it->second;
    }
    std::unique_ptr<MemoryPlan> recorded;
    MLOS_RETURN_IF_ERROR(Executor::Run(*plan_, bound, *pool_, mp.get(), mp ? nullptr : &recorded,
                                       outputs, stats != nullptr ? stats->profile : nullptr,
                                       bindings));
    if (recorded) {
      mp = std::move(recorded);
      std::lock_guard<std::mutex> lock(mu_);
      if (plans_.size() >= kMaxCachedPlans) plans_.clear();
      plans_.emplace(key, mp);
    }
    if (stats) {
      const auto dt = std::chrono::steady_clock::now() - t0;
      stats->arena_peak_bytes = mp ? mp->arena_bytes() : 0;
      stats->run_us = std::chrono::duration_cast<std::chrono::microseconds>(dt).count();
      if (stats->profile != nullptr) {
        stats->profile->run_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
        ++stats->profile->runs;
      }
    }
    return Status::OK();
  }

  const Graph& graph() const { return *graph_; }

 private:
  static TensorInfo ToInfo(const ValueInfo& vi) {
    TensorInfo info;
    info.name = vi.name;
    info.dtype = vi.dtype;
    for (const Dim& d : vi.dims) {
      info.shape.push_back(d.value >= 0 ? d.value : -1);
      info.dim_names.push_back(d.symbol);
    }
    return info;
  }

  // Checks dtype, rank and fixed dims, and binds symbolic dims consistently across inputs.
  static Status CheckInput(const ValueInfo& vi, const Tensor& t,
                           std::map<std::string, int64_t>* symbols) {
    if (vi.kind != ValueKind::kTensor) return Status::OK();
    if (t.dtype() != vi.dtype) {
      return InvalidArgument("input '", vi.name, "' must be ", DTypeName(vi.dtype), ", got ",
                             DTypeName(t.dtype()));
    }
    if (!vi.has_shape) return Status::OK();
    if (static_cast<size_t>(t.rank()) != vi.dims.size()) {
      return InvalidArgument("input '", vi.name, "' must have rank ", vi.dims.size(),
                             ", got shape ", ShapeToString(t.shape()));
    }
    for (size_t d = 0; d < vi.dims.size(); ++d) {
      const Dim& dim = vi.dims[d];
      int64_t got = t.shape()[d];
      if (dim.value >= 0 && dim.value != got) {
        return InvalidArgument("input '", vi.name, "' dimension ", d, " must be ", dim.value,
                               ", got shape ", ShapeToString(t.shape()));
      }
      if (!dim.symbol.empty()) {
        auto [it, inserted] = symbols->emplace(dim.symbol, got);
        if (!inserted && it->second != got) {
          return InvalidArgument("input '", vi.name, "' dimension ", d, " ('", dim.symbol, "') is ",
                                 got, " but another input binds it to ", it->second);
        }
      }
    }
    return Status::OK();
  }

  ThreadPool* pool_ = nullptr;
  std::shared_ptr<Graph> graph_;
  std::unique_ptr<GraphPlan> plan_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<MemoryPlan>> plans_;
};

}  // namespace

Result<std::unique_ptr<Session>> Session::LoadFromBytes(std::string_view bytes,
                                                        const std::string& base_dir,
                                                        const SessionOptions& options) {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<Graph> g, LoadOnnxModel(bytes, base_dir));
  return SessionImpl::Create(std::move(g), options);
}

Result<std::unique_ptr<Session>> Session::Load(const std::string& path,
                                               const SessionOptions& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open model file '", path, "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  const std::string base = std::filesystem::path(path).parent_path().string();
  return LoadFromBytes(bytes, base.empty() ? std::string(".") : base, options);
}

Status RunSessionValues(Session& session, const std::vector<std::pair<std::string, Value>>& inputs,
                        std::vector<Value>* outputs, RunStats* stats) {
  auto* impl = dynamic_cast<SessionImpl*>(&session);
  if (impl == nullptr) return Internal("not an engine session");
  return impl->RunValues({}, inputs, outputs, stats);
}

const Graph* SessionGraph(const Session& session) {
  auto* impl = dynamic_cast<const SessionImpl*>(&session);
  return impl ? &impl->graph() : nullptr;
}

}  // namespace mlos::graph
