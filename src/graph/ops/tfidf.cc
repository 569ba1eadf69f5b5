// TfIdfVectorizer (opset 9): counts the n-grams of a pool (pool_int64s or pool_strings, grouped
// by length through ngram_counts) in each row of a 1-D [C] or 2-D [N, C] int32/int64/string
// input, with skip-grams up to max_skip_count, and writes TF, IDF or TFIDF values at
// ngram_indexes. The pool is parsed once per call into a map; every attribute that indexes
// something is checked first.
#include <algorithm>
#include <map>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

enum class TfMode { kTf, kIdf, kTfIdf };

template <typename K>
struct NgramPool {
  std::map<std::vector<K>, int64_t> ids;  // n-gram -> its position in the pool (n-gram number)
};

// Splits the flat pool into n-grams of length 1..max_gram by ngram_counts.
template <typename K>
Status ParsePool(const OpContext& ctx, const std::vector<K>& flat,
                 const std::vector<int64_t>& counts, int64_t num_indexes, NgramPool<K>* pool) {
  const int64_t total = static_cast<int64_t>(flat.size());
  int64_t id = 0;
  for (size_t g = 0; g < counts.size(); ++g) {
    const int64_t start = counts[g];
    const int64_t end = g + 1 < counts.size() ? counts[g + 1] : total;
    const int64_t n = static_cast<int64_t>(g) + 1;
    if (start < 0 || end < start || end > total || (end - start) % n != 0) {
      return ctx.Error("ngram_counts " + std::to_string(start) + ".." + std::to_string(end) +
                       " do not split the pool into " + std::to_string(n) + "-grams");
    }
    for (int64_t p = start; p < end; p += n) {
      std::vector<K> key(flat.begin() + p, flat.begin() + p + n);
      if (id >= num_indexes) return ctx.Error("ngram_indexes has fewer entries than the pool");
      pool->ids.emplace(std::move(key), id);
      ++id;
    }
  }
  return Status::OK();
}

template <typename K, typename Get>
Status Count(OpContext& ctx, const NgramPool<K>& pool, Get&& get, int64_t rows, int64_t cols,
             const std::vector<int64_t>& indexes, int64_t out_dim, TfMode mode,
             const std::vector<float>& weights, bool two_d) {
  const int64_t min_n = ctx.node().GetInt("min_gram_length", 1);
  const int64_t max_n = ctx.node().GetInt("max_gram_length", 1);
  const int64_t max_skip = ctx.node().GetInt("max_skip_count", 0);
  if (min_n < 1 || max_n < min_n || max_skip < 0) {
    return ctx.Error("need 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0");
  }
  Shape shape = two_d ? Shape{rows, out_dim} : Shape{out_dim};
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kFloat32, shape));
  float* py = static_cast<float*>(y.raw_data());
  std::fill(py, py + rows * out_dim, 0.f);
  const int64_t num_ngrams = static_cast<int64_t>(indexes.size());
  std::vector<int64_t> freq(static_cast<size_t>(num_ngrams));
  std::vector<K> key;
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(freq.begin(), freq.end(), 0);
    for (int64_t start = 0; start < cols; ++start) {
      for (int64_t skip = 0; skip <= max_skip; ++skip) {
        const int64_t dist = skip + 1;
        key.clear();
        for (int64_t n = 1; n <= max_n; ++n) {
          const int64_t pos = start + (n - 1) * dist;
          if (pos >= cols) break;
          key.push_back(get(r * cols + pos));
          // Unigrams do not depend on the skip: count them once per position.
          if (n < min_n || (n == 1 && skip > 0)) continue;
          auto it = pool.ids.find(key);
          if (it != pool.ids.end()) ++freq[it->second];
        }
        if (max_n == 1) break;
      }
    }
    for (int64_t i = 0; i < num_ngrams; ++i) {
      if (freq[i] == 0) continue;
      const float w = weights.empty() ? 1.f : weights[i];
      float v = static_cast<float>(freq[i]);
      if (mode == TfMode::kIdf) v = w;
      if (mode == TfMode::kTfIdf) v *= w;
      py[r * out_dim + indexes[i]] += v;
    }
  }
  return Status::OK();
}

Status TfIdfCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  if (xin->rank() != 1 && xin->rank() != 2) {
    return ctx.Error("input must be [C] or [N, C], got " + ShapeToString(xin->shape()));
  }
  const std::string mode_s = ctx.node().GetString("mode", "TF");
  TfMode mode;
  if (mode_s == "TF")
    mode = TfMode::kTf;
  else if (mode_s == "IDF")
    mode = TfMode::kIdf;
  else if (mode_s == "TFIDF")
    mode = TfMode::kTfIdf;
  else
    return ctx.Error("unknown mode '" + mode_s + "'");
  const std::vector<int64_t> counts = ctx.node().GetInts("ngram_counts");
  const std::vector<int64_t> indexes = ctx.node().GetInts("ngram_indexes");
  const std::vector<float> weights = ctx.node().GetFloats("weights");
  int64_t out_dim = 0;
  for (int64_t v : indexes) {
    if (v < 0 || v >= (int64_t{1} << 31)) return ctx.Error("ngram_indexes value out of range");
    out_dim = std::max(out_dim, v + 1);
  }
  if (!weights.empty() && weights.size() != indexes.size()) {
    return ctx.Error("weights must have one value per n-gram");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const bool two_d = x.rank() == 2;
  const int64_t rows = two_d ? x.dim(0) : 1;
  const int64_t cols = two_d ? x.dim(1) : x.dim(0);
  const int64_t num_indexes = static_cast<int64_t>(indexes.size());
  if (x.dtype() == DType::kString) {
    NgramPool<std::string> pool;
    MLOS_RETURN_IF_ERROR(
        ParsePool(ctx, ctx.node().GetAttrStrings("pool_strings"), counts, num_indexes, &pool));
    const auto* p = static_cast<const std::string*>(x.raw_data());
    return Count<std::string>(
        ctx, pool, [&](int64_t i) { return p[i]; }, rows, cols, indexes, out_dim, mode, weights,
        two_d);
  }
  if (x.dtype() != DType::kInt32 && x.dtype() != DType::kInt64) {
    return ctx.Error("input must be int32, int64 or string, got " +
                     std::string(DTypeName(x.dtype())));
  }
  NgramPool<int64_t> pool;
  MLOS_RETURN_IF_ERROR(
      ParsePool(ctx, ctx.node().GetInts("pool_int64s"), counts, num_indexes, &pool));
  if (x.dtype() == DType::kInt32) {
    const auto* p = static_cast<const int32_t*>(x.raw_data());
    return Count<int64_t>(
        ctx, pool, [&](int64_t i) { return static_cast<int64_t>(p[i]); }, rows, cols, indexes,
        out_dim, mode, weights, two_d);
  }
  const auto* p = static_cast<const int64_t*>(x.raw_data());
  return Count<int64_t>(
      ctx, pool, [&](int64_t i) { return p[i]; }, rows, cols, indexes, out_dim, mode, weights,
      two_d);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(tfidf) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("TfIdfVectorizer", TfIdfCompute, 9);
}
