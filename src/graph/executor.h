// Execution plans: a Graph compiled into ordered steps with bound kernels (GraphPlan), the static
// memory plan of one input-shape signature (MemoryPlan), and the interpreter that runs them.
//
// Signature statics: values fixed by the input shapes (shape arithmetic, masks, position ids)
// are computed by the first run of a signature and kept in its MemoryPlan; later runs bind them
// and skip their steps.
// Memory: the first run of a signature allocates every intermediate from the heap and records
// each allocation's size and lifetime (first definition to last use, views included); the
// recorded allocations are then packed into one arena by lifetime (best fit, largest first) and
// later runs of that signature place intermediates at their planned offsets. An allocation that
// does not fit its slot (data-dependent shapes) falls back to the heap, so a plan is never wrong,
// only less effective. Graph outputs are never in the arena.
// Thread-safety: GraphPlan and MemoryPlan are immutable after construction except MemoryPlan's
// arena free list, which is mutex-guarded; each run owns its Frame and arena buffer.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/op_registry.h"
#include "graph/signature_statics.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {

struct OpProfile;      // session.h
struct OutputBinding;  // session.h

struct Step {
  const Node* node = nullptr;
  int64_t opset = 1;
  std::unique_ptr<OpKernel> kernel;
  std::vector<int> in_ids;        // -1 for omitted inputs
  std::vector<int> out_ids;       // -1 for omitted outputs
  std::vector<int> implicit_ids;  // outer-scope values its subgraphs read
  std::vector<int> release_ids;   // values whose last use is this step
};

class GraphPlan {
 public:
  // Compiles `graph` (kept alive by the plan). `outer` lists names visible from enclosing graphs
  // (for subgraphs); any other undefined name is an error naming the node.
  static Result<std::unique_ptr<GraphPlan>> Build(std::shared_ptr<const Graph> graph,
                                                  const OpRegistry& registry,
                                                  const std::vector<std::string>& outer = {});

  const Graph& graph() const { return *graph_; }
  int num_values() const { return static_cast<int>(names_.size()); }
  const std::string& name(int id) const { return names_[id]; }
  int FindId(const std::string& name) const;
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<int>& input_ids() const { return input_ids_; }  // graph inputs, in order
  const std::vector<int>& output_ids() const { return output_ids_; }
  const std::vector<std::pair<int, Tensor>>& constants() const { return constants_; }
  const std::vector<int>& outer_ids() const { return outer_ids_; }  // resolved from parents
  const GraphPlan* SubPlan(const Graph* g) const;
  // Steps whose outputs the input-shape signature fixes (signature_statics.h), and the static
  // values that other steps read (kept per signature by the MemoryPlan).
  bool step_static(int step) const { return statics_.step_static[step]; }
  bool is_frontier(int id) const { return frontier_mask_[id]; }

 private:
  std::shared_ptr<const Graph> graph_;
  std::vector<std::string> names_;
  std::map<std::string, int> ids_;
  std::vector<Step> steps_;
  std::vector<int> input_ids_, output_ids_, outer_ids_;
  std::vector<std::pair<int, Tensor>> constants_;
  std::map<const Graph*, std::unique_ptr<GraphPlan>> subplans_;
  SignatureStatics statics_;
  std::vector<bool> frontier_mask_;
};

// The packed arena layout of one input-shape signature.
class MemoryPlan {
 public:
  struct Slot {
    size_t offset = 0;
    size_t size = 0;
  };
  size_t arena_bytes() const { return arena_bytes_; }
  // Slot of output `out` of step `step`, or nullptr.
  const Slot* Find(int step, int out) const;
  void AddSlot(int step, int out, Slot slot) { slots_[{step, out}] = slot; }
  void SetArenaBytes(size_t n) { arena_bytes_ = n; }
  // The signature-static values recorded by the first run (value id, value); read-only after.
  const std::vector<std::pair<int, Value>>& statics() const { return statics_; }
  void SetStatics(std::vector<std::pair<int, Value>> v) { statics_ = std::move(v); }

  // An arena buffer for one run (reused across runs); Release gives it back.
  std::shared_ptr<uint8_t[]> Acquire();
  void Release(std::shared_ptr<uint8_t[]> buf);

 private:
  friend class Executor;
  size_t arena_bytes_ = 0;
  std::map<std::pair<int, int>, Slot> slots_;
  std::vector<std::pair<int, Value>> statics_;
  std::mutex mu_;
  std::vector<std::shared_ptr<uint8_t[]>> free_;
};

struct RunResult {
  std::vector<Value> outputs;
  size_t arena_peak_bytes = 0;
};

class Executor {
 public:
  // Runs the top-level plan. `memory` may be null (heap only); when `record` is non-null the run
  // records allocations and fills *record with a new MemoryPlan. When `profile` is non-null,
  // each top-level step's kernel time is added to it by op type. `bindings` (may be null):
  // caller memory for the graph outputs, by output position (Session::RunInto has the rules).
  static Status Run(const GraphPlan& plan, const std::vector<Value>& inputs, ThreadPool& pool,
                    MemoryPlan* memory, std::unique_ptr<MemoryPlan>* record,
                    std::vector<Value>* outputs, OpProfile* profile = nullptr,
                    const std::vector<OutputBinding>* bindings = nullptr);
};

}  // namespace mlos::graph
