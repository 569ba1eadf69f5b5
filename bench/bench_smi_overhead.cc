// bench_smi_overhead: what the SMI ABI costs. The same small ONNX model runs through
// graph::Session::Run directly and through PluginHost -> onnx-runtime-builtin (LoadedModel::Infer:
// input marshalling, the C vtable call, the output sink and adoption), interleaved in the same
// run. Prints one JSON line: per-call medians and the overhead (ABI minus direct), in
// microseconds. The bar: overhead under 5 us.
//
// Usage: bench_smi_overhead [--rounds N] [--iters N] [--threads N]
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "graph/session.h"
#include "runtime/plugin_host.h"

namespace {

// y = Relu(x @ W + b), x [N, 16], W [16, 16]: a model whose own cost is a few microseconds,
// so the fixed cost of the ABI is visible.
std::string SmallModel(int k) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_version(13);
  auto* g = model.mutable_graph();
  g->set_name("bench");
  auto value = [&](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    tt->mutable_shape()->add_dim()->set_dim_value(k);
  };
  value(g->add_input(), "x");
  value(g->add_output(), "y");
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(k);
  w->add_dims(k);
  for (int i = 0; i < k * k; ++i)
    w->add_float_data(static_cast<float>((i * 7) % 11) / 11.0f - 0.5f);
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(k);
  for (int i = 0; i < k; ++i) b->add_float_data(0.01f * static_cast<float>(i));
  auto node = [&](const char* op, std::vector<const char*> in, const char* out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    for (const char* i : in) n->add_input(i);
    n->add_output(out);
  };
  node("MatMul", {"x", "W"}, "xw");
  node("Add", {"xw", "b"}, "xwb");
  node("Relu", {"xwb"}, "y");
  return model.SerializeAsString();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Fail(const mlos::Status& s, const char* what) {
  std::fprintf(stderr, "bench_smi_overhead: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 31, iters = 2000, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--iters")) iters = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--threads")) threads = std::max(1, std::atoi(argv[i + 1]));
  }
  using namespace mlos;
  const int k = 16;
  const std::string path = "/tmp/mlos_bench_smi_overhead.onnx";
  std::ofstream(path, std::ios::binary) << SmallModel(k);

  ThreadPool pool(threads);
  graph::SessionOptions so;
  so.pool = &pool;
  auto session = graph::Session::Load(path, so);
  if (!session.ok()) return Fail(session.status(), "Session::Load");
  runtime::PluginHostOptions po;
  po.pool = &pool;
  auto host = runtime::CreatePluginHost(po);
  if (!host.ok()) return Fail(host.status(), "CreatePluginHost");
  auto model = (*host)->LoadModel("onnx-runtime-builtin", "bench", path);
  if (!model.ok()) return Fail(model.status(), "LoadModel");

  std::vector<float> xs(k);
  for (int i = 0; i < k; ++i) xs[static_cast<size_t>(i)] = 0.1f * static_cast<float>(i) - 0.5f;
  Tensor x = Tensor::FromVector<float>({1, k}, xs).value();
  const std::vector<NamedTensor> inputs = {{"x", x}};
  std::vector<Tensor> direct_out;
  std::vector<NamedTensor> abi_out;

  // Same answer both ways (and a warm-up).
  if (Status s = (*session)->Run(inputs, &direct_out); !s.ok()) return Fail(s, "Run");
  if (Status s = (*model)->Infer(inputs, &abi_out); !s.ok()) return Fail(s, "Infer");
  for (int64_t i = 0; i < k; ++i) {
    if (direct_out[0].GetAsDouble(i) != abi_out[0].second.GetAsDouble(i)) {
      std::fprintf(stderr, "bench_smi_overhead: results differ at %lld\n",
                   static_cast<long long>(i));
      return 1;
    }
  }
  for (int i = 0; i < 2000; ++i) {
    (void)(*session)->Run(inputs, &direct_out);
    (void)(*model)->Infer(inputs, &abi_out);
  }

  using Clock = std::chrono::steady_clock;
  std::vector<double> direct_us, abi_us, diff_us;
  for (int r = 0; r < rounds; ++r) {
    // Alternate the order so drift and cache effects do not favour one side.
    double d = 0, a = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const bool direct_first = ((r + pass) % 2) == 0;
      for (int side = 0; side < 2; ++side) {
        const bool run_direct = (side == 0) == direct_first;
        auto t0 = Clock::now();
        if (run_direct) {
          for (int i = 0; i < iters; ++i) (void)(*session)->Run(inputs, &direct_out);
        } else {
          for (int i = 0; i < iters; ++i) (void)(*model)->Infer(inputs, &abi_out);
        }
        const double us =
            std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iters;
        (run_direct ? d : a) += us / 2;
      }
    }
    direct_us.push_back(d);
    abi_us.push_back(a);
    diff_us.push_back(a - d);
  }
  std::printf(
      "{\"bench\":\"smi_overhead\",\"model\":\"relu(x[1,%d] @ W[%d,%d] + b)\",\"threads\":%d,"
      "\"rounds\":%d,\"iters\":%d,\"direct_median_us\":%.3f,\"abi_median_us\":%.3f,"
      "\"overhead_median_us\":%.3f,\"overhead_min_us\":%.3f,\"bar_us\":5.0}\n",
      k, k, k, threads, rounds, iters, Median(direct_us), Median(abi_us), Median(diff_us),
      *std::min_element(diff_us.begin(), diff_us.end()));
  std::remove(path.c_str());
  return 0;
}
