// `mlosctl conformance DIR...`: runs ONNX backend-test folders and compares against the expected
// outputs. A DIR is either one case (holding model.onnx) or a folder of cases.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "graph/session_values.h"
#include "tools/mlosctl_common.h"

namespace mlosctl {
namespace {

namespace fs = std::filesystem;
using mlos::DType;
using mlos::Status;
using mlos::Tensor;
using mlos::graph::Value;

Status CompareTensor(const Tensor& got, const Tensor& want, double rtol, double atol) {
  if (got.dtype() != want.dtype()) {
    return mlos::InvalidArgument("dtype ", mlos::DTypeName(got.dtype()), " != expected ",
                                 mlos::DTypeName(want.dtype()));
  }
  if (got.shape() != want.shape()) {
    return mlos::InvalidArgument("shape ", mlos::ShapeToString(got.shape()), " != expected ",
                                 mlos::ShapeToString(want.shape()));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor g, got.Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor w, want.Contiguous());
  if (got.dtype() == DType::kString) {
    const auto* a = static_cast<const std::string*>(g.raw_data());
    const auto* b = static_cast<const std::string*>(w.raw_data());
    for (int64_t i = 0; i < g.numel(); ++i) {
      if (a[i] != b[i])
        return mlos::InvalidArgument("element ", i, " '", a[i], "' != '", b[i], "'");
    }
    return Status::OK();
  }
  for (int64_t i = 0; i < g.numel(); ++i) {
    double a = g.GetAsDouble(i), b = w.GetAsDouble(i);
    if (std::isnan(a) && std::isnan(b)) continue;
    if (a == b) continue;
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b))) {
      return mlos::InvalidArgument("element ", i, " = ", a, ", expected ", b);
    }
  }
  return Status::OK();
}

Status CompareValue(const Value& got, const Value& want, double rtol, double atol) {
  if (want.kind == Value::Kind::kNone) {
    return got.kind == Value::Kind::kNone ? Status::OK()
                                          : mlos::InvalidArgument("expected an empty optional");
  }
  if (want.kind == Value::Kind::kSequence) {
    if (got.kind != Value::Kind::kSequence) return mlos::InvalidArgument("expected a sequence");
    if (got.seq.size() != want.seq.size()) {
      return mlos::InvalidArgument("sequence length ", got.seq.size(), " != ", want.seq.size());
    }
    for (size_t i = 0; i < got.seq.size(); ++i) {
      Status s = CompareTensor(got.seq[i], want.seq[i], rtol, atol);
      if (!s.ok()) return s.WithContext("sequence item " + std::to_string(i));
    }
    return Status::OK();
  }
  if (got.kind != Value::Kind::kTensor) return mlos::InvalidArgument("expected a tensor");
  return CompareTensor(got.tensor, want.tensor, rtol, atol);
}

// The suite stores bfloat16 tensors as uint16 bit patterns (numpy has no bfloat16); read such a
// tensor as the bfloat16 the graph declares. Both are 2 bytes, so the view shares the bytes.
Status AdoptDeclaredBfloat16(DType declared, Value* v) {
  if (declared != DType::kBFloat16 || v->kind != Value::Kind::kTensor ||
      v->tensor.dtype() != DType::kUInt16) {
    return Status::OK();
  }
  MLOS_ASSIGN_OR_RETURN(Tensor c, v->tensor.Contiguous());
  MLOS_ASSIGN_OR_RETURN(
      v->tensor, Tensor::FromStorage(c.storage(), DType::kBFloat16, c.shape(), {}, c.offset()));
  return Status::OK();
}

// Runs one case folder; returns OK, or the first failure.
Status RunCase(const fs::path& dir, mlos::ThreadPool& pool, double rtol, double atol) {
  mlos::graph::SessionOptions opts;
  opts.pool = &pool;
  MLOS_ASSIGN_OR_RETURN(auto session,
                        mlos::graph::Session::Load((dir / "model.onnx").string(), opts));
  const mlos::graph::Graph* g = mlos::graph::SessionGraph(*session);
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(e.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  // The graph inputs that need a value (no initializer), in order.
  std::vector<const mlos::graph::ValueInfo*> ins;
  for (const auto& vi : g->inputs) {
    if (!g->initializers.count(vi.name)) ins.push_back(&vi);
  }
  for (const fs::path& set : sets) {
    std::vector<std::pair<std::string, Value>> inputs;
    for (size_t i = 0;; ++i) {
      fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      if (i >= ins.size()) return mlos::InvalidArgument("more input files than model inputs");
      MLOS_ASSIGN_OR_RETURN(Value v, ReadValueFile(p.string(), ins[i]->kind));
      MLOS_RETURN_IF_ERROR(AdoptDeclaredBfloat16(ins[i]->dtype, &v));
      inputs.emplace_back(ins[i]->name, std::move(v));
    }
    std::vector<Value> outputs;
    MLOS_RETURN_IF_ERROR(mlos::graph::RunSessionValues(*session, inputs, &outputs));
    for (size_t i = 0;; ++i) {
      fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      if (i >= outputs.size())
        return mlos::InvalidArgument("model has fewer outputs than expected");
      MLOS_ASSIGN_OR_RETURN(Value want, ReadValueFile(p.string(), g->outputs[i].kind));
      MLOS_RETURN_IF_ERROR(AdoptDeclaredBfloat16(g->outputs[i].dtype, &want));
      Status s = CompareValue(outputs[i], want, rtol, atol);
      if (!s.ok()) {
        return s.WithContext(set.filename().string() + " output " + std::to_string(i) + " '" +
                             g->outputs[i].name + "'");
      }
    }
  }
  return Status::OK();
}

}  // namespace

int Conformance(const std::vector<std::string>& args) {
  double rtol = 1e-3, atol = 1e-5;
  int threads = 0;
  std::vector<fs::path> cases;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--rtol" || a == "--atol" || a == "--threads") && i + 1 < args.size()) {
      double v = std::atof(args[++i].c_str());
      if (a == "--rtol")
        rtol = v;
      else if (a == "--atol")
        atol = v;
      else
        threads = static_cast<int>(v);
      continue;
    }
    fs::path p(a);
    std::error_code ec;
    if (fs::exists(p / "model.onnx", ec)) {
      cases.push_back(p);
    } else if (fs::is_directory(p, ec)) {
      std::vector<fs::path> sub;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        if (fs::exists(e.path() / "model.onnx")) sub.push_back(e.path());
      }
      std::sort(sub.begin(), sub.end());
      cases.insert(cases.end(), sub.begin(), sub.end());
    } else {
      std::cerr << "conformance: no such folder '" << a << "'\n";
      return 2;
    }
  }
  mlos::ThreadPool pool(threads);
  int passed = 0, failed = 0, skipped = 0;
  for (const fs::path& c : cases) {
    Status s = RunCase(c, pool, rtol, atol);
    std::string name = c.filename().string();
    if (!s.ok() && s.code() == mlos::StatusCode::kUnimplemented &&
        s.message().find("::") != std::string::npos &&
        s.message().find("operator not supported") != std::string::npos) {
      // Operators of a non-default domain (ai.onnx.ml, training, ...) are out of scope.
      ++skipped;
      std::cout << "SKIP " << name << ": " << s.message() << "\n";
      continue;
    }
    if (s.ok()) {
      ++passed;
      std::cout << "PASS " << name << "\n";
    } else {
      ++failed;
      std::string msg = s.ToString();
      std::replace(msg.begin(), msg.end(), '\n', ' ');
      std::cout << "FAIL " << name << ": " << msg << "\n";
    }
    std::cout.flush();
  }
  if (skipped > 0) std::cout << skipped << " skipped (non-default operator domains)\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace mlosctl
