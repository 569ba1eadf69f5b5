#include "graph/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <unordered_map>

#include "graph/session.h"
#include "mlos/allocator.h"

namespace mlos::graph {
namespace {

constexpr size_t kSlotAlign = 64;

size_t AlignUp(size_t n) { return (n + kSlotAlign - 1) / kSlotAlign * kSlotAlign; }

// Names a graph (and its nested subgraphs) reads but does not define.
void CollectFreeNames(const Graph& g, std::set<std::string>* out) {
  std::set<std::string> defined;
  for (const auto& [name, t] : g.initializers) defined.insert(name);
  for (const auto& vi : g.inputs) defined.insert(vi.name);
  for (const Node& n : g.nodes) {
    for (const auto& o : n.outputs) defined.insert(o);
  }
  auto use = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name)) out->insert(name);
  };
  for (const Node& n : g.nodes) {
    for (const auto& i : n.inputs) use(i);
    for (const auto& [key, a] : n.attrs) {
      std::set<std::string> inner;
      if (a.g) CollectFreeNames(*a.g, &inner);
      for (const auto& sg : a.graphs) CollectFreeNames(*sg, &inner);
      for (const auto& name : inner) use(name);
    }
  }
  for (const auto& vi : g.outputs) use(vi.name);
}

struct Rec {
  int step, out;
  size_t size;
  int first, last;
  bool heap_only = false;
  Tensor keep;  // keeps the storage alive so its address is not reused during recording
};

class FrameRunner final : public ExecHooks {
 public:
  FrameRunner(const GraphPlan& plan, const FrameRunner* parent, ThreadPool& pool)
      : plan_(plan), parent_(parent), pool_(pool), values_(plan.num_values()) {
    for (const auto& [id, t] : plan.constants()) values_[id] = Value::FromTensor(t);
  }

  std::vector<Value>& values() { return values_; }

  void SetMemory(MemoryPlan* memory, uint8_t* arena, std::shared_ptr<void> owner) {
    memory_ = memory;
    arena_ = arena;
    arena_owner_ = std::move(owner);
  }
  void EnableRecording() { recording_ = true; }
  void SetProfile(OpProfile* profile) { profile_ = profile; }

  // Accepts the caller's output bindings (top-level frame only) that overlap no input and no
  // other accepted binding: a kernel writing one output must not clobber what another reads.
  void BindOutputs(const std::vector<OutputBinding>& bindings, const std::vector<Value>& inputs) {
    const std::vector<int>& out_ids = plan_.output_ids();
    const size_t n = std::min(bindings.size(), out_ids.size());
    std::vector<std::pair<uintptr_t, uintptr_t>> taken;  // [begin, end) byte ranges
    auto add_input = [&](const Tensor& t) {
      if (!t.defined() || t.storage() == nullptr) return;
      const auto b = reinterpret_cast<uintptr_t>(t.storage()->data());
      taken.emplace_back(b, b + t.storage()->nbytes());
    };
    for (const Value& v : inputs) {
      if (v.kind == Value::Kind::kTensor) add_input(v.tensor);
      for (const Tensor& t : v.seq) add_input(t);
    }
    for (size_t i = 0; i < n; ++i) {
      const OutputBinding& b = bindings[i];
      if (b.data == nullptr || b.capacity == 0) continue;
      const auto lo = reinterpret_cast<uintptr_t>(b.data);
      if (b.capacity > UINTPTR_MAX - lo) continue;
      const uintptr_t hi = lo + b.capacity;
      bool overlaps = false;
      for (const auto& [x, y] : taken) overlaps = overlaps || (lo < y && x < hi);
      if (overlaps) continue;
      if (bound_.empty()) bound_.assign(static_cast<size_t>(plan_.num_values()), -1);
      if (bound_[out_ids[i]] >= 0) continue;  // a value listed twice: its first binding only
      bound_[out_ids[i]] = static_cast<int>(i);
      taken.emplace_back(lo, hi);
    }
    if (!bound_.empty()) {
      bindings_ = &bindings;
      binding_used_.assign(n, false);
    }
  }

  // The value of `name` visible from this frame (walks enclosing frames).
  const Value* Lookup(const std::string& name) const {
    int id = plan_.FindId(name);
    if (id >= 0 && values_[id].kind != Value::Kind::kNone) return &values_[id];
    return parent_ ? parent_->Lookup(name) : nullptr;
  }

  Status BindOuter() {
    if (!parent_) return Status::OK();
    for (int id : plan_.outer_ids()) {
      const Value* v = parent_->Lookup(plan_.name(id));
      if (v) values_[id] = *v;
    }
    return Status::OK();
  }

  Status Execute() {
    const auto& steps = plan_.steps();
    std::vector<const Value*> in_ptrs;
    std::vector<Value> outs;
    // A planned run binds the signature's static values and skips the steps that made them.
    const bool skip_statics = memory_ != nullptr && !recording_;
    if (skip_statics) {
      for (const auto& [id, v] : memory_->statics()) values_[id] = v;
    }
    for (size_t si = 0; si < steps.size(); ++si) {
      const Step& st = steps[si];
      if (skip_statics && plan_.step_static(static_cast<int>(si))) continue;
      current_step_ = static_cast<int>(si);
      in_ptrs.assign(st.in_ids.size(), nullptr);
      for (size_t k = 0; k < st.in_ids.size(); ++k) {
        int id = st.in_ids[k];
        if (id >= 0) in_ptrs[k] = &values_[id];
      }
      if (recording_) {
        for (int id : st.in_ids) Touch(id, current_step_);
        for (int id : st.implicit_ids) Touch(id, current_step_);
      }
      outs.assign(st.out_ids.size(), Value());
      OpContext ctx(*st.node, current_step_, st.opset, std::span<const Value*>(in_ptrs),
                    std::span<Value>(outs), pool_, *this);
      std::chrono::steady_clock::time_point t0;
      if (profile_ != nullptr) t0 = std::chrono::steady_clock::now();
      Status s = st.kernel->Compute(ctx);
      if (profile_ != nullptr) {
        const auto dt = std::chrono::steady_clock::now() - t0;
        const Node& n = *st.node;
        auto& e = profile_->ops[n.domain.empty() ? n.op_type : n.domain + "::" + n.op_type];
        e.ns += std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
        ++e.calls;
      }
      if (!s.ok()) {
        if (s.message().rfind("node '", 0) == 0) return s;
        return s.WithContext(st.node->Describe() + " opset " + std::to_string(st.opset));
      }
      for (size_t k = 0; k < st.out_ids.size(); ++k) {
        const int id = st.out_ids[k];
        if (id < 0) continue;
        if (recording_ && plan_.is_frontier(id)) statics_.emplace_back(id, outs[k]);
        values_[id] = std::move(outs[k]);
      }
      if (!recording_) {
        for (int id : st.release_ids) values_[id] = Value();
      }
    }
    return Status::OK();
  }

  Result<Tensor> AllocateOutput(int step, int out, DType dtype, Shape shape) override {
    if (bindings_ != nullptr) {
      const OutputBinding* b = FindBinding(step, out, dtype);
      if (b != nullptr) {
        MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
        const size_t elem = DTypeSize(dtype);
        if (n > 0 && static_cast<uint64_t>(n) <= b->capacity / elem &&
            reinterpret_cast<uintptr_t>(b->data) % elem == 0) {
          binding_used_[bound_[plan_.steps()[step].out_ids[out]]] = true;
          auto storage = Storage::Wrap(b->data, static_cast<size_t>(n) * elem, b->owner);
          return Tensor::FromStorage(std::move(storage), dtype, std::move(shape));
        }
      }
    }
    if (memory_ != nullptr && dtype != DType::kString) {
      const MemoryPlan::Slot* slot = memory_->Find(step, out);
      if (slot != nullptr) {
        MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
        size_t nbytes = static_cast<size_t>(n) * DTypeSize(dtype);
        if (nbytes <= slot->size && nbytes > 0) {
          auto storage = Storage::Wrap(arena_ + slot->offset, nbytes, arena_owner_);
          return Tensor::FromStorage(std::move(storage), dtype, std::move(shape));
        }
      }
    }
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, std::move(shape), DefaultAllocator()));
    if (recording_ && dtype != DType::kString && t.nbytes() > 0) {
      storage_rec_[t.storage().get()] = static_cast<int>(recs_.size());
      recs_.push_back(Rec{step, out, AlignUp(t.nbytes()), step, step, false, t});
    }
    return t;
  }

  Status RunSubgraph(const Graph& body, const std::vector<Value>& inputs,
                     std::vector<Value>* outputs) override {
    const GraphPlan* sub = plan_.SubPlan(&body);
    if (sub == nullptr) return Internal("subgraph '", body.name, "' has no compiled plan");
    FrameRunner child(*sub, this, pool_);
    MLOS_RETURN_IF_ERROR(child.BindOuter());
    const auto& in_ids = sub->input_ids();
    if (inputs.size() > in_ids.size()) {
      return InvalidArgument("subgraph '", body.name, "' takes ", in_ids.size(), " inputs, got ",
                             inputs.size());
    }
    for (size_t i = 0; i < inputs.size(); ++i) child.values_[in_ids[i]] = inputs[i];
    MLOS_RETURN_IF_ERROR(child.Execute());
    outputs->clear();
    for (int id : sub->output_ids()) outputs->push_back(child.values_[id]);
    return Status::OK();
  }

  // Marks the allocations behind the graph outputs as heap-only and builds the memory plan.
  std::unique_ptr<MemoryPlan> FinishRecording();

 private:
  void TouchTensor(const Tensor& t, int step) {
    if (!t.defined()) return;
    auto it = storage_rec_.find(t.storage().get());
    if (it != storage_rec_.end()) recs_[it->second].last = std::max(recs_[it->second].last, step);
  }
  void Touch(int id, int step) {
    if (id < 0) return;
    const Value& v = values_[id];
    if (v.kind == Value::Kind::kTensor) TouchTensor(v.tensor, step);
    for (const Tensor& t : v.seq) TouchTensor(t, step);
  }

  // The unused binding of step output (step, out), or nullptr.
  const OutputBinding* FindBinding(int step, int out, DType dtype) const {
    const std::vector<int>& ids = plan_.steps()[step].out_ids;
    if (out < 0 || static_cast<size_t>(out) >= ids.size() || ids[out] < 0) return nullptr;
    const int k = bound_[ids[out]];
    if (k < 0 || binding_used_[k]) return nullptr;  // a second allocation goes to the heap
    const OutputBinding& b = (*bindings_)[k];
    if (dtype == DType::kString || (!b.private_memory && !IsFloating(dtype))) return nullptr;
    return &b;
  }

  const GraphPlan& plan_;
  const FrameRunner* parent_;
  ThreadPool& pool_;
  std::vector<Value> values_;
  int current_step_ = 0;
  MemoryPlan* memory_ = nullptr;
  uint8_t* arena_ = nullptr;
  std::shared_ptr<void> arena_owner_;
  bool recording_ = false;
  OpProfile* profile_ = nullptr;
  std::vector<Rec> recs_;
  std::unordered_map<const Storage*, int> storage_rec_;
  std::vector<std::pair<int, Value>> statics_;            // recorded signature-static values
  const std::vector<OutputBinding>* bindings_ = nullptr;  // set when one was accepted
  std::vector<int> bound_;          // by value id: index into *bindings_, or -1
  std::vector<bool> binding_used_;  // by binding: already handed to a kernel this run

  friend class ::mlos::graph::Executor;
};

}  // namespace

int GraphPlan::FindId(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

const GraphPlan* GraphPlan::SubPlan(const Graph* g) const {
  auto it = subplans_.find(g);
  return it == subplans_.end() ? nullptr : it->second.get();
}

Result<std::unique_ptr<GraphPlan>> GraphPlan::Build(std::shared_ptr<const Graph> graph,
                                                    const OpRegistry& registry,
                                                    const std::vector<std::string>& outer) {
  auto plan = std::unique_ptr<GraphPlan>(new GraphPlan());
  plan->graph_ = graph;
  const Graph& g = *graph;
  auto add = [&](const std::string& name) {
    auto [it, inserted] = plan->ids_.emplace(name, static_cast<int>(plan->names_.size()));
    if (inserted) plan->names_.push_back(name);
    return it->second;
  };
  std::set<std::string> outer_set(outer.begin(), outer.end());
  std::vector<bool> defined;
  for (const auto& [name, t] : g.initializers) plan->constants_.emplace_back(add(name), t);
  for (const auto& vi : g.inputs) plan->input_ids_.push_back(add(vi.name));

  // Producers of every node output; a name produced twice is malformed.
  std::map<std::string, int> producer;
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    for (const auto& o : g.nodes[ni].outputs) {
      if (o.empty()) continue;
      if (!producer.emplace(o, static_cast<int>(ni)).second) {
        return InvalidArgument(g.nodes[ni].Describe(), ": output '", o,
                               "' is produced by more than one node");
      }
      add(o);
    }
  }
  // Dependencies (explicit inputs and the free names of subgraphs) and a topological order.
  const size_t nn = g.nodes.size();
  std::vector<std::vector<int>> users(nn);
  std::vector<int> pending(nn, 0);
  std::vector<std::vector<std::string>> implicit(nn);
  for (size_t ni = 0; ni < nn; ++ni) {
    const Node& n = g.nodes[ni];
    std::set<std::string> names(n.inputs.begin(), n.inputs.end());
    std::set<std::string> inner;
    for (const auto& [key, a] : n.attrs) {
      if (a.g) CollectFreeNames(*a.g, &inner);
      for (const auto& sg : a.graphs) CollectFreeNames(*sg, &inner);
    }
    for (const auto& name : inner) {
      implicit[ni].push_back(name);
      names.insert(name);
    }
    for (const auto& name : names) {
      if (name.empty()) continue;
      auto it = producer.find(name);
      if (it != producer.end()) {
        if (it->second == static_cast<int>(ni)) {
          return InvalidArgument(n.Describe(), ": reads its own output '", name, "'");
        }
        users[it->second].push_back(static_cast<int>(ni));
        ++pending[ni];
      } else if (!plan->ids_.count(name)) {
        if (outer_set.count(name)) {
          plan->outer_ids_.push_back(add(name));
        } else if (std::find(n.inputs.begin(), n.inputs.end(), name) != n.inputs.end()) {
          return InvalidArgument(n.Describe(), ": input '", name, "' is not defined");
        }
        // An unresolved name inside a subgraph is reported when that subgraph is compiled.
      }
    }
  }
  std::vector<int> order;
  std::vector<int> ready;
  for (size_t ni = nn; ni-- > 0;) {
    if (pending[ni] == 0) ready.push_back(static_cast<int>(ni));
  }
  while (!ready.empty()) {
    int ni = ready.back();
    ready.pop_back();
    order.push_back(ni);
    for (int u : users[ni]) {
      if (--pending[u] == 0) ready.push_back(u);
    }
    // Keep the file order among ready nodes: ONNX files are usually sorted already.
    std::sort(ready.begin(), ready.end(), std::greater<int>());
  }
  if (order.size() != nn) {
    for (size_t ni = 0; ni < nn; ++ni) {
      if (pending[ni] > 0) {
        return InvalidArgument(g.nodes[ni].Describe(), ": the graph has a cycle through it");
      }
    }
  }
  for (const auto& vi : g.outputs) {
    if (!plan->ids_.count(vi.name)) {
      if (outer_set.count(vi.name)) {
        plan->outer_ids_.push_back(add(vi.name));
      } else {
        return InvalidArgument("graph output '", vi.name, "' is not produced by any node");
      }
    }
    plan->output_ids_.push_back(plan->ids_[vi.name]);
  }

  // Subgraphs see everything visible here.
  std::vector<std::string> visible = outer;
  visible.insert(visible.end(), plan->names_.begin(), plan->names_.end());

  for (int ni : order) {
    const Node& n = g.nodes[ni];
    Step st;
    st.node = &n;
    auto os = g.opsets.find(n.domain);
    st.opset = os == g.opsets.end() ? 1 : os->second;
    const OpDef* def = registry.Find(n.domain, n.op_type, st.opset);
    if (def == nullptr) {
      return Unimplemented(n.Describe(), ": operator not supported at opset ", st.opset);
    }
    for (const auto& i : n.inputs) st.in_ids.push_back(i.empty() ? -1 : plan->FindId(i));
    for (const auto& o : n.outputs) st.out_ids.push_back(o.empty() ? -1 : plan->FindId(o));
    for (const auto& name : implicit[ni]) {
      int id = plan->FindId(name);
      if (id >= 0) st.implicit_ids.push_back(id);
    }
    for (const auto& [key, a] : n.attrs) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sg : subs) {
        auto sub = GraphPlan::Build(sg, registry, visible);
        if (!sub.ok()) {
          return sub.status().WithContext(n.Describe() + " attribute '" + key + "'");
        }
        plan->subplans_[sg.get()] = std::move(sub).value();
      }
    }
    KernelInit init{n, st.opset, [&](int i) -> const Tensor* {
                      if (i < 0 || i >= static_cast<int>(n.inputs.size())) return nullptr;
                      auto it = g.initializers.find(n.inputs[i]);
                      // A graph input with an initializer may be overridden, so not constant.
                      for (const auto& vi : g.inputs) {
                        if (vi.name == n.inputs[i]) return nullptr;
                      }
                      return it == g.initializers.end() ? nullptr : &it->second;
                    }};
    auto kernel = def->factory(init);
    if (!kernel.ok()) {
      if (kernel.status().message().rfind("node '", 0) == 0) return kernel.status();
      return kernel.status().WithContext(n.Describe() + " opset " + std::to_string(st.opset));
    }
    st.kernel = std::move(kernel).value();
    plan->steps_.push_back(std::move(st));
  }

  // Release each value after its last use, except outputs, constants and outer values.
  std::vector<int> last(plan->names_.size(), -1);
  for (size_t si = 0; si < plan->steps_.size(); ++si) {
    for (int id : plan->steps_[si].in_ids) {
      if (id >= 0) last[id] = static_cast<int>(si);
    }
    for (int id : plan->steps_[si].implicit_ids) last[id] = static_cast<int>(si);
  }
  std::vector<bool> keep(plan->names_.size(), false);
  for (int id : plan->output_ids_) keep[id] = true;
  for (const auto& [id, t] : plan->constants_) keep[id] = true;
  for (int id : plan->outer_ids_) keep[id] = true;
  for (size_t id = 0; id < last.size(); ++id) {
    if (last[id] >= 0 && !keep[id])
      plan->steps_[last[id]].release_ids.push_back(static_cast<int>(id));
  }
  plan->statics_ = AnalyzeSignatureStatics(*plan);
  plan->frontier_mask_.assign(plan->names_.size(), false);
  for (int id : plan->statics_.frontier) plan->frontier_mask_[id] = true;
  return plan;
}

const MemoryPlan::Slot* MemoryPlan::Find(int step, int out) const {
  auto it = slots_.find({step, out});
  return it == slots_.end() ? nullptr : &it->second;
}

std::shared_ptr<uint8_t[]> MemoryPlan::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      auto b = std::move(free_.back());
      free_.pop_back();
      return b;
    }
  }
  static_assert(kSlotAlign <= kTensorAlignment);
  auto* p = static_cast<uint8_t*>(AlignedHostAlloc(std::max<size_t>(arena_bytes_, 1)));
  if (p == nullptr) throw std::bad_alloc();
  return std::shared_ptr<uint8_t[]>(p, [](uint8_t* q) { std::free(q); });
}

void MemoryPlan::Release(std::shared_ptr<uint8_t[]> buf) {
  if (buf.use_count() != 1) return;  // a view escaped; let it own the buffer
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.size() < 8) free_.push_back(std::move(buf));
}

namespace {

std::unique_ptr<MemoryPlan> PackRecords(std::vector<Rec>& recs) {
  auto mp = std::make_unique<MemoryPlan>();
  std::vector<int> idx;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i].heap_only) idx.push_back(static_cast<int>(i));
  }
  std::sort(idx.begin(), idx.end(), [&](int a, int b) {
    return recs[a].size != recs[b].size ? recs[a].size > recs[b].size : a < b;
  });
  struct Placed {
    size_t offset, size;
    int first, last;
  };
  std::vector<Placed> placed;
  size_t peak = 0;
  std::vector<std::pair<size_t, size_t>> busy;
  for (int i : idx) {
    const Rec& r = recs[i];
    busy.clear();
    for (const Placed& p : placed) {
      if (p.first <= r.last && r.first <= p.last) busy.emplace_back(p.offset, p.offset + p.size);
    }
    std::sort(busy.begin(), busy.end());
    // Best fit: the smallest gap that holds the block, else the end.
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const auto& [b, e] : busy) {
      if (b > cursor && b - cursor >= r.size && b - cursor < best_gap) {
        best = cursor;
        best_gap = b - cursor;
      }
      cursor = std::max(cursor, e);
    }
    if (best == SIZE_MAX) best = cursor;
    placed.push_back({best, r.size, r.first, r.last});
    mp->AddSlot(r.step, r.out, MemoryPlan::Slot{best, r.size});
    peak = std::max(peak, best + r.size);
  }
  mp->SetArenaBytes(peak);
  return mp;
}

}  // namespace

std::unique_ptr<MemoryPlan> FrameRunner::FinishRecording() {
  auto mark = [&](const Tensor& t) {
    if (!t.defined()) return;
    auto it = storage_rec_.find(t.storage().get());
    if (it != storage_rec_.end()) recs_[it->second].heap_only = true;
  };
  for (int id : plan_.output_ids()) {
    const Value& v = values_[id];
    if (v.kind == Value::Kind::kTensor) mark(v.tensor);
    for (const Tensor& t : v.seq) mark(t);
  }
  // A step that writes two outputs into the same slot key cannot happen; duplicates mean a
  // kernel allocated one output twice: keep those on the heap.
  std::map<std::pair<int, int>, int> seen;
  for (size_t i = 0; i < recs_.size(); ++i) {
    // Static steps do not run again under this plan, and their values are kept on the heap.
    if (plan_.step_static(recs_[i].step)) recs_[i].heap_only = true;
    auto [it, inserted] = seen.emplace(std::make_pair(recs_[i].step, recs_[i].out), i);
    if (!inserted) {
      recs_[i].heap_only = true;
      recs_[it->second].heap_only = true;
    }
  }
  std::unique_ptr<MemoryPlan> mp = PackRecords(recs_);
  mp->SetStatics(std::move(statics_));
  return mp;
}

Status Executor::Run(const GraphPlan& plan, const std::vector<Value>& inputs, ThreadPool& pool,
                     MemoryPlan* memory, std::unique_ptr<MemoryPlan>* record,
                     std::vector<Value>* outputs, OpProfile* profile,
                     const std::vector<OutputBinding>* bindings) {
  FrameRunner runner(plan, nullptr, pool);
  runner.SetProfile(profile);
  if (bindings != nullptr && !bindings->empty()) runner.BindOutputs(*bindings, inputs);
  const auto& in_ids = plan.input_ids();
  if (inputs.size() != in_ids.size()) {
    return Internal("executor got ", inputs.size(), " inputs for ", in_ids.size());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].kind != Value::Kind::kNone) runner.values()[in_ids[i]] = inputs[i];
  }
  std::shared_ptr<uint8_t[]> arena;
  if (memory != nullptr) {
    if (memory->arena_bytes() > 0) arena = memory->Acquire();
    runner.SetMemory(memory, arena.get(), arena);
  }
  if (record != nullptr) runner.EnableRecording();
  Status s = runner.Execute();
  if (s.ok()) {
    outputs->clear();
    for (int id : plan.output_ids()) {
      Value v = runner.values()[id];
      // Nothing that lives in the arena may leave the run.
      auto escape = [&](Tensor& t) -> Status {
        if (arena && t.defined()) {
          auto* p = static_cast<uint8_t*>(t.raw_data());
          if (p >= arena.get() && p < arena.get() + memory->arena_bytes()) {
            MLOS_ASSIGN_OR_RETURN(t, t.Clone());
          }
        }
        return Status::OK();
      };
      if (v.kind == Value::Kind::kTensor) MLOS_RETURN_IF_ERROR(escape(v.tensor));
      for (Tensor& t : v.seq) MLOS_RETURN_IF_ERROR(escape(t));
      outputs->push_back(std::move(v));
    }
    if (record != nullptr) *record = runner.FinishRecording();
  }
  runner.values().clear();
  runner.SetMemory(nullptr, nullptr, nullptr);
  if (arena) memory->Release(std::move(arena));
  return s;
}

}  // namespace mlos::graph
