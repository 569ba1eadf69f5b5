// CNN-specific graph rewrites that run after the generic fusions in passes.cc (Conv+BatchNorm,
// activations): patterns whose payoff is in convolutional networks.
//
// Residual fusion: Conv -> Add(conv, other) [-> Relu] becomes one Conv whose input 3 is `other`
// and which carries "_mlos_sum" = 1 (plus "_mlos_act" = Relu when the Relu was folded); the
// conv adds `other` in its epilogue before the activation (graph/ops/conv.cc), which saves a
// full read-modify-write pass over the activation per residual block. The conv's own output
// must have the Add as its only reader. Shapes are not known here, so the conv checks at run
// time that `other` has exactly its output's shape and dtype float32, and otherwise runs the
// conv, ONNX Add and Relu one after another: the result is the unfused graph's either way.
#include <map>
#include <set>

#include "graph/ir.h"
#include "kernels/cpu/activation.h"

namespace mlos::graph {
namespace {

void NamesReadBySubgraphs(const Graph& g, std::set<std::string>* out) {
  for (const Node& n : g.nodes) {
    for (const auto& i : n.inputs) out->insert(i);
    for (const auto& [k, a] : n.attrs) {
      if (a.g) NamesReadBySubgraphs(*a.g, out);
      for (const auto& sg : a.graphs) NamesReadBySubgraphs(*sg, out);
    }
  }
  for (const auto& o : g.outputs) out->insert(o.name);
}

struct Readers {
  std::map<std::string, std::vector<int>> consumers;
  std::set<std::string> pinned;  // graph outputs and names subgraphs read
  std::map<std::string, int> producer;

  // The single reader of `name`, or -1.
  int Sole(const std::string& name) const {
    if (pinned.count(name)) return -1;
    auto it = consumers.find(name);
    return it == consumers.end() || it->second.size() != 1 ? -1 : it->second[0];
  }
};

Readers Collect(const Graph& g) {
  Readers r;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (const auto& in : n.inputs) {
      if (!in.empty()) r.consumers[in].push_back(static_cast<int>(i));
    }
    for (const auto& o : n.outputs) {
      if (!o.empty()) r.producer[o] = static_cast<int>(i);
    }
    for (const auto& [k, a] : n.attrs) {
      if (a.g) NamesReadBySubgraphs(*a.g, &r.pinned);
      for (const auto& sg : a.graphs) NamesReadBySubgraphs(*sg, &r.pinned);
    }
  }
  for (const auto& o : g.outputs) r.pinned.insert(o.name);
  return r;
}

void SetInt(Node& n, const std::string& key, int64_t v) {
  Attribute a;
  a.type = Attribute::Type::kInt;
  a.i = v;
  n.attrs[key] = a;
}

// A Conv that can take an addend: plain ONNX Conv, one output, no epilogue attached yet.
bool FusableConv(const Node& n) {
  return n.op_type == "Conv" && n.domain.empty() && n.outputs.size() == 1 && n.inputs.size() >= 2 &&
         n.inputs.size() <= 3 && !n.attr("_mlos_sum") && n.GetInt("_mlos_act", 0) == 0;
}

// Spatial taps of a conv node (1 when unknown): prefers the k x k conv of a residual pair,
// whose implicit GEMM adds the addend in its compaction pass for free.
int64_t Taps(const Node& n) {
  int64_t t = 1;
  for (int64_t k : n.GetInts("kernel_shape", {})) t *= k;
  return t;
}

void FuseResidualAdd(Graph& g) {
  const Readers r = Collect(g);
  std::vector<bool> dead(g.nodes.size(), false);
  for (size_t ai = 0; ai < g.nodes.size(); ++ai) {
    const Node& add = g.nodes[ai];
    if (dead[ai] || add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2 ||
        add.outputs.size() != 1 || add.inputs[0].empty() || add.inputs[1].empty() ||
        add.inputs[0] == add.inputs[1]) {
      continue;
    }
    int best = -1, best_side = -1;
    for (int side = 0; side < 2; ++side) {
      auto pit = r.producer.find(add.inputs[side]);
      if (pit == r.producer.end()) continue;
      const int ci = pit->second;
      if (dead[ci] || !FusableConv(g.nodes[ci]) || r.Sole(add.inputs[side]) != static_cast<int>(ai))
        continue;
      if (best < 0 || Taps(g.nodes[ci]) > Taps(g.nodes[best])) {
        best = ci;
        best_side = side;
      }
    }
    if (best < 0) continue;
    Node conv = g.nodes[best];
    const std::string other = add.inputs[1 - best_side];
    std::string out = add.outputs[0];
    const int ri = r.Sole(out);
    if (ri >= 0 && !dead[ri]) {
      const Node& relu = g.nodes[ri];
      if (relu.op_type == "Relu" && relu.domain.empty() && relu.inputs.size() == 1 &&
          relu.outputs.size() == 1) {
        SetInt(conv, "_mlos_act", static_cast<int64_t>(kernels::Activation::kRelu));
        out = relu.outputs[0];
        dead[ri] = true;
      }
    }
    conv.inputs.resize(3);  // "" marks an omitted bias
    conv.inputs.push_back(other);
    SetInt(conv, "_mlos_sum", 1);
    conv.outputs[0] = out;
    // The fused node takes the Add's place: both of its inputs' producers precede it there, and
    // every reader of the Add (or of the Relu, which follows the Add) comes after it.
    g.nodes[ai] = std::move(conv);
    dead[best] = true;
  }
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!dead[i]) kept.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(kept);
}

}  // namespace

void FuseCnnPatterns(Graph& g) { FuseResidualAdd(g); }

}  // namespace mlos::graph
