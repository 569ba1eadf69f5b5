// String operators: StringNormalizer (ASCII case folding; the locale attribute is accepted but
// only ASCII letters change case).
#include <algorithm>
#include <cctype>
#include <set>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

std::string Fold(std::string s, bool upper) {
  for (char& c : s) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

Status StringNormalizerCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  if (xin->dtype() != DType::kString) return ctx.Error("needs a string tensor");
  if (!(xin->rank() == 1 || (xin->rank() == 2 && xin->shape()[0] == 1))) {
    return ctx.Error("input must be [C] or [1, C]");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const std::string action = ctx.node().GetString("case_change_action", "NONE");
  const bool sensitive = ctx.node().GetInt("is_case_sensitive", 0) != 0;
  const Attribute* sw = ctx.node().attr("stopwords");
  std::set<std::string> stop;
  if (sw) {
    for (const auto& w : sw->strings) stop.insert(sensitive ? w : Fold(w, false));
  }
  const auto* in = static_cast<const std::string*>(x.raw_data());
  std::vector<std::string> kept;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string key = sensitive ? in[i] : Fold(in[i], false);
    if (stop.count(key)) continue;
    if (action == "LOWER")
      kept.push_back(Fold(in[i], false));
    else if (action == "UPPER")
      kept.push_back(Fold(in[i], true));
    else
      kept.push_back(in[i]);
  }
  if (kept.empty()) kept.push_back("");
  Shape shape = xin->rank() == 1 ? Shape{static_cast<int64_t>(kept.size())}
                                 : Shape{1, static_cast<int64_t>(kept.size())};
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kString, shape));
  std::copy(kept.begin(), kept.end(), static_cast<std::string*>(y.raw_data()));
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(strings) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("StringNormalizer", StringNormalizerCompute);
}
