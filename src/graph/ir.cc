#include "graph/ir.h"

namespace mlos::graph {

int64_t Node::GetInt(const std::string& key, int64_t dflt) const {
  const Attribute* a = attr(key);
  return a && a->type == Attribute::Type::kInt ? a->i : dflt;
}
float Node::GetFloat(const std::string& key, float dflt) const {
  const Attribute* a = attr(key);
  if (!a) return dflt;
  if (a->type == Attribute::Type::kFloat) return a->f;
  if (a->type == Attribute::Type::kInt) return static_cast<float>(a->i);
  return dflt;
}
std::string Node::GetString(const std::string& key, const std::string& dflt) const {
  const Attribute* a = attr(key);
  return a && a->type == Attribute::Type::kString ? a->s : dflt;
}
std::vector<int64_t> Node::GetInts(const std::string& key, std::vector<int64_t> dflt) const {
  const Attribute* a = attr(key);
  return a && a->type == Attribute::Type::kInts ? a->ints : dflt;
}
std::vector<float> Node::GetFloats(const std::string& key, std::vector<float> dflt) const {
  const Attribute* a = attr(key);
  return a && a->type == Attribute::Type::kFloats ? a->floats : dflt;
}
std::vector<std::string> Node::GetAttrStrings(const std::string& key) const {
  const Attribute* a = attr(key);
  return a && a->type == Attribute::Type::kStrings ? a->strings : std::vector<std::string>{};
}
std::string Node::Describe() const {
  std::string d = "node '" + name + "' (" + (domain.empty() ? "" : domain + "::") + op_type + ")";
  return d;
}

int64_t DefaultOpset(const Graph& g) {
  auto it = g.opsets.find("");
  return it == g.opsets.end() ? 1 : it->second;
}

}  // namespace mlos::graph
