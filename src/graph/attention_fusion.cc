// Attention fusion: MatMul(Q*scale, K^T) [+ mask] -> Softmax(last axis) -> MatMul(., V) becomes
// one mlos::Attention node. Scalar Div/Mul on Q and Transposes feeding Q, K^T, V or following the
// output are absorbed as attributes (the kernel reads the strided views directly), so the head
// split/merge copies and the T x T score tensor disappear.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "graph/ir.h"

namespace mlos::graph {
namespace {

bool IsInput(const Graph& g, const std::string& name) {
  for (const auto& vi : g.inputs) {
    if (vi.name == name) return true;
  }
  return false;
}

bool ScalarConstant(const Graph& g, const std::string& name, double* v) {
  if (IsInput(g, name)) return false;
  auto it = g.initializers.find(name);
  if (it == g.initializers.end() || it->second.numel() != 1 || !IsFloating(it->second.dtype()))
    return false;
  *v = it->second.GetAsDouble(0);
  return true;
}

}  // namespace

void FuseAttention(Graph& g) {
  std::map<std::string, int> producer;
  std::map<std::string, int> uses;
  std::set<std::string> pinned;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& o : g.nodes[i].outputs) producer[o] = static_cast<int>(i);
    for (const auto& in : g.nodes[i].inputs) ++uses[in];
    for (const auto& [k, a] : g.nodes[i].attrs) {
      if (a.g || !a.graphs.empty()) {
        // Conservative: graphs with subgraphs are left alone.
        return;
      }
    }
  }
  for (const auto& o : g.outputs) pinned.insert(o.name);
  auto sole = [&](const std::string& name) { return !pinned.count(name) && uses[name] == 1; };
  auto prod = [&](const std::string& name) -> Node* {
    auto it = producer.find(name);
    return it == producer.end() ? nullptr : &g.nodes[it->second];
  };
  std::vector<bool> dead(g.nodes.size(), false);
  auto kill = [&](Node* n) { dead[n - g.nodes.data()] = true; };

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& mm2 = g.nodes[i];
    if (mm2.op_type != "MatMul" || !mm2.domain.empty() || dead[i]) continue;
    Node* sm = prod(mm2.inputs[0]);
    if (!sm || sm->op_type != "Softmax" || !sole(sm->outputs[0])) continue;
    auto os = g.opsets.find("");
    int64_t opset = os == g.opsets.end() ? 1 : os->second;
    const int64_t axis = sm->GetInt("axis", opset >= 13 ? -1 : 1);
    if (axis < -1) continue;
    Node* add = nullptr;
    Node* mm1 = prod(sm->inputs[0]);
    std::string mask;
    if (mm1 && mm1->op_type == "Add" && sole(mm1->outputs[0])) {
      add = mm1;
      Node* a0 = prod(add->inputs[0]);
      Node* a1 = prod(add->inputs[1]);
      if (a0 && a0->op_type == "MatMul" && sole(add->inputs[0])) {
        mm1 = a0;
        mask = add->inputs[1];
      } else if (a1 && a1->op_type == "MatMul" && sole(add->inputs[1])) {
        mm1 = a1;
        mask = add->inputs[0];
      } else {
        continue;
      }
    }
    if (!mm1 || mm1->op_type != "MatMul" || !mm1->domain.empty() || !sole(mm1->outputs[0]))
      continue;
    Node attn;
    attn.name = mm2.name + "/_mlos_attention";
    attn.op_type = "Attention";
    attn.domain = "mlos";
    double scale = 1.0;
    std::string q = mm1->inputs[0], kt = mm1->inputs[1], v = mm2.inputs[1];
    std::vector<Node*> absorbed;
    if (Node* s = prod(q); s && sole(q) && (s->op_type == "Div" || s->op_type == "Mul")) {
      double c;
      if (ScalarConstant(g, s->inputs[1], &c) && c != 0.0) {
        scale = s->op_type == "Div" ? 1.0 / c : c;
        q = s->inputs[0];
        absorbed.push_back(s);
      }
    }
    auto absorb_transpose = [&](std::string* name, const char* attr) {
      Node* t = prod(*name);
      if (t && t->op_type == "Transpose" && sole(*name) && t->attr("perm")) {
        Attribute a;
        a.type = Attribute::Type::kInts;
        a.ints = t->GetInts("perm");
        attn.attrs[attr] = a;
        *name = t->inputs[0];
        absorbed.push_back(t);
      }
    };
    absorb_transpose(&q, "q_perm");
    absorb_transpose(&kt, "k_perm");
    absorb_transpose(&v, "v_perm");
    // Reshape (splitting heads) of a Slice (one block of a fused QKV projection) read only by
    // this node: both may hand on strided views, since the kernel reads any strides.
    auto allow_strided = [&](const std::string& name) {
      Node* r = prod(name);
      if (!r || r->op_type != "Reshape" || !r->domain.empty() || !sole(name)) return;
      Attribute a;
      a.type = Attribute::Type::kInt;
      a.i = 1;
      r->attrs["mlos_strided_output"] = a;
      // Besides the Reshape, only Shape/Size (which read no elements) may read the Slice; torch
      // exports a Shape of K and V for the head split.
      const std::string& sliced = r->inputs[0];
      Node* s = prod(sliced);
      if (!s || s->op_type != "Slice" || !s->domain.empty() || pinned.count(sliced)) return;
      for (const Node& c : g.nodes) {
        if (&c == r || std::find(c.inputs.begin(), c.inputs.end(), sliced) == c.inputs.end())
          continue;
        if (!c.domain.empty() || (c.op_type != "Shape" && c.op_type != "Size")) return;
      }
      s->attrs["mlos_strided_output"] = a;
    };
    allow_strided(q);
    allow_strided(kt);
    allow_strided(v);
    std::string out = mm2.outputs[0];
    Node* out_t = nullptr;
    if (sole(out)) {
      for (size_t j = 0; j < g.nodes.size(); ++j) {
        Node& c = g.nodes[j];
        if (!dead[j] && c.op_type == "Transpose" && c.inputs.size() == 1 && c.inputs[0] == out &&
            c.attr("perm")) {
          out_t = &c;
          break;
        }
      }
    }
    Attribute sa;
    sa.type = Attribute::Type::kFloat;
    sa.f = static_cast<float>(scale);
    attn.attrs["scale"] = sa;
    Attribute ax;  // the kernel checks that this is the scores' last axis
    ax.type = Attribute::Type::kInt;
    ax.i = axis;
    attn.attrs["softmax_axis"] = ax;
    attn.inputs = {q, kt, v};
    if (!mask.empty()) attn.inputs.push_back(mask);
    for (Node* n : absorbed) kill(n);
    kill(mm1);
    if (add) kill(add);
    kill(sm);
    if (out_t) {
      Attribute a;
      a.type = Attribute::Type::kInts;
      a.ints = out_t->GetInts("perm");
      attn.attrs["out_perm"] = a;
      attn.outputs = out_t->outputs;
      kill(&mm2);
      *out_t = std::move(attn);  // at the transpose's place: after every input
    } else {
      attn.outputs = mm2.outputs;
      mm2 = std::move(attn);
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!dead[i]) kept.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(kept);
}

}  // namespace mlos::graph
