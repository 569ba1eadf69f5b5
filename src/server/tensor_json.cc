#include "server/tensor_json.h"

#include <rapidjson/error/en.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mlos::server {
namespace {

constexpr int kMaxDepth = 32;

Status ShapeWalk(const rapidjson::Value& v, int depth, std::string_view name, Shape* shape) {
  if (!v.IsArray()) return Status::OK();
  if (depth >= kMaxDepth) return InvalidArgument("input '", name, "' nests deeper than 32");
  shape->push_back(static_cast<int64_t>(v.Size()));
  if (v.Size() > 0) return ShapeWalk(v[0], depth + 1, name, shape);
  return Status::OK();
}

template <typename T>
Status Convert(const rapidjson::Value& v, std::string_view name, T* out) {
  auto bad = [&](const char* what) {
    return InvalidArgument("input '", name, "': ", what, " for dtype ", DTypeName(kDTypeOf<T>));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (v.IsBool()) {
      *out = v.GetBool();
    } else if (v.IsInt64() && (v.GetInt64() == 0 || v.GetInt64() == 1)) {
      *out = v.GetInt64() == 1;
    } else {
      return bad("expected true/false or 0/1");
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.IsString()) return bad("expected a string");
    out->assign(v.GetString(), v.GetStringLength());
  } else if constexpr (std::is_integral_v<T>) {
    if (v.IsInt64()) {
      int64_t x = v.GetInt64();
      if constexpr (std::is_unsigned_v<T>) {
        if (x < 0 || static_cast<uint64_t>(x) > std::numeric_limits<T>::max()) {
          return bad("value out of range");
        }
      } else {
        if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
          return bad("value out of range");
        }
      }
      *out = static_cast<T>(x);
    } else if (v.IsUint64()) {
      uint64_t x = v.GetUint64();
      if (x > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        return bad("value out of range");
      *out = static_cast<T>(x);
    } else if (v.IsDouble()) {
      double d = v.GetDouble();
      if (d != std::floor(d)) return bad("non-integer number");
      if (d < static_cast<double>(std::numeric_limits<T>::min()) ||
          d > static_cast<double>(std::numeric_limits<T>::max())) {
        return bad("value out of range");
      }
      *out = static_cast<T>(d);
    } else {
      return bad(v.IsString() ? "got a string, expected a number" : "expected a number");
    }
  } else {  // float, double, Float16, BFloat16
    if (!v.IsNumber()) {
      return bad(v.IsString() ? "got a string, expected a number" : "expected a number");
    }
    if constexpr (std::is_same_v<T, double>) {
      *out = v.GetDouble();
    } else {
      *out = T(static_cast<float>(v.GetDouble()));
    }
  }
  return Status::OK();
}

template <typename T>
Status Fill(const rapidjson::Value& v, const Shape& nested, size_t depth, std::string_view name,
            T* data, int64_t* pos, int64_t limit) {
  if (v.IsArray()) {
    if (depth >= nested.size() || static_cast<int64_t>(v.Size()) != nested[depth]) {
      return InvalidArgument("input '", name, "' is a ragged array (dimension ", depth, " is not ",
                             depth < nested.size() ? nested[depth] : 0, " everywhere)");
    }
    for (const auto& e : v.GetArray()) {
      MLOS_RETURN_IF_ERROR(Fill(e, nested, depth + 1, name, data, pos, limit));
    }
    return Status::OK();
  }
  if (depth != nested.size()) {
    return InvalidArgument("input '", name, "' is a ragged array (a scalar at depth ", depth, ")");
  }
  if (*pos >= limit) return InvalidArgument("input '", name, "' has too many values");
  MLOS_RETURN_IF_ERROR(Convert<T>(v, name, data + *pos));
  ++*pos;
  return Status::OK();
}

void WriteFloat(float f, JsonWriter* w) {
  if (!std::isfinite(f)) {
    w->Null();
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  w->RawValue(buf, static_cast<size_t>(r.ptr - buf), rapidjson::kNumberType);
}

void WriteDouble(double d, JsonWriter* w) {
  if (!std::isfinite(d)) {
    w->Null();
    return;
  }
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  w->RawValue(buf, static_cast<size_t>(r.ptr - buf), rapidjson::kNumberType);
}

}  // namespace

Status JsonShape(const rapidjson::Value& v, std::string_view name, Shape* shape, int64_t* count) {
  shape->clear();
  MLOS_RETURN_IF_ERROR(ShapeWalk(v, 0, name, shape));
  Result<int64_t> n = NumElements(*shape);
  if (!n.ok()) return InvalidArgument("input '", name, "': ", n.status().message());
  *count = *n;
  return Status::OK();
}

Result<Shape> SolveShape(const TensorInfo& declared, const Shape& nested, int64_t count) {
  const Shape& d = declared.shape;
  if (d.empty()) {
    // Rank 0 declared (or unknown): a scalar takes [], anything else keeps its own shape.
    return nested;
  }
  auto fits = [&](const Shape& s) {
    if (s.size() != d.size()) return false;
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] >= 0 && d[i] != s[i]) return false;
    }
    return true;
  };
  if (fits(nested)) return nested;
  if (nested.size() == d.size() && !nested.empty()) {
    return InvalidArgument("input '", declared.name, "' has shape ", ShapeToString(nested),
                           " but the model declares ", ShapeToString(d));
  }
  int64_t fixed = 1;
  int dynamic = 0;
  for (int64_t x : d) {
    if (x < 0) {
      ++dynamic;
    } else if (x > 0 && fixed > (int64_t{1} << 62) / x) {
      return InvalidArgument("input '", declared.name, "' declares an impossibly large shape ",
                             ShapeToString(d));
    } else {
      fixed *= x;
    }
  }
  if (fixed == 0) {
    if (count == 0) {
      Shape s = d;
      for (int64_t& x : s) x = x < 0 ? 1 : x;
      return s;
    }
    return InvalidArgument("input '", declared.name, "' declares an empty shape ", ShapeToString(d),
                           " but ", count, " values were given");
  }
  if (count % fixed != 0 || (dynamic == 0 && count != fixed)) {
    return InvalidArgument("input '", declared.name, "': ", count,
                           " values do not fit the declared shape ", ShapeToString(d));
  }
  int64_t rest = count / fixed;
  Shape s = d;
  int seen = 0;
  for (int64_t& x : s) {
    if (x < 0) x = (++seen == dynamic) ? rest : 1;
  }
  return s;
}

Result<Tensor> JsonToTensor(const rapidjson::Value& v, DType dtype, const Shape& shape,
                            std::string_view name) {
  Shape nested;
  int64_t count = 0;
  MLOS_RETURN_IF_ERROR(JsonShape(v, name, &nested, &count));
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n != count) {
    return InvalidArgument("input '", name, "' has ", count, " values but shape ",
                           ShapeToString(shape), " needs ", n);
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, shape));
  Status st = VisitDType(dtype, [&](auto tag) -> Status {
    using T = decltype(tag);
    int64_t pos = 0;
    MLOS_RETURN_IF_ERROR(Fill<T>(v, nested, 0, name, static_cast<T*>(t.raw_data()), &pos, n));
    if (pos != n) return InvalidArgument("input '", name, "' has too few values");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return t;
}

void WriteTensorValues(const Tensor& in, JsonWriter* w) {
  Result<Tensor> c = in.Contiguous();
  w->StartArray();
  if (!c.ok()) {
    w->EndArray();
    return;
  }
  const Tensor& t = *c;
  int64_t n = t.numel();
  VisitDType(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(t.raw_data());
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        w->Bool(p[i]);
      } else if constexpr (std::is_same_v<T, std::string>) {
        w->String(p[i].data(), static_cast<rapidjson::SizeType>(p[i].size()));
      } else if constexpr (std::is_same_v<T, float>) {
        WriteFloat(p[i], w);
      } else if constexpr (std::is_same_v<T, double>) {
        WriteDouble(p[i], w);
      } else if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
        WriteFloat(static_cast<float>(p[i]), w);
      } else if constexpr (std::is_signed_v<T>) {
        w->Int64(static_cast<int64_t>(p[i]));
      } else {
        w->Uint64(static_cast<uint64_t>(p[i]));
      }
    }
  });
  w->EndArray();
}

void WriteShape(const Shape& s, JsonWriter* w) {
  w->StartArray();
  for (int64_t d : s) w->Int64(d);
  w->EndArray();
}

std::string_view KServeDatatype(DType t) {
  switch (t) {
    case DType::kBool:
      return "BOOL";
    case DType::kUInt8:
      return "UINT8";
    case DType::kUInt16:
      return "UINT16";
    case DType::kUInt32:
      return "UINT32";
    case DType::kUInt64:
      return "UINT64";
    case DType::kInt8:
      return "INT8";
    case DType::kInt16:
      return "INT16";
    case DType::kInt32:
      return "INT32";
    case DType::kInt64:
      return "INT64";
    case DType::kFloat16:
      return "FP16";
    case DType::kBFloat16:
      return "BF16";
    case DType::kFloat32:
      return "FP32";
    case DType::kFloat64:
      return "FP64";
    case DType::kString:
      return "BYTES";
  }
  return "BYTES";
}

Result<DType> ParseKServeDatatype(std::string_view name) {
  for (int i = 0; i < kNumDTypes; ++i) {
    DType t = static_cast<DType>(i);
    if (KServeDatatype(t) == name) return t;
  }
  return InvalidArgument("unknown datatype '", name,
                         "' (expected BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64 "
                         "or BYTES)");
}

Status ParseJson(std::string_view text, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc->HasParseError()) {
    return InvalidArgument("malformed JSON at offset ", doc->GetErrorOffset(), ": ",
                           rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::OK();
}

Result<Tensor> TensorFromBinary(std::string_view bytes, DType dtype, const Shape& shape,
                                std::string_view name) {
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  // Sizes are checked against the bytes actually sent before anything is allocated.
  if (dtype == DType::kString) {
    if (static_cast<uint64_t>(n) > bytes.size() / 4) {
      return InvalidArgument("input '", name, "': ", bytes.size(), " bytes cannot hold ", n,
                             " BYTES elements");
    }
  } else if (static_cast<uint64_t>(n) != bytes.size() / DTypeSize(dtype) ||
             bytes.size() % DTypeSize(dtype) != 0) {
    return InvalidArgument("input '", name, "': binary_data_size is ", bytes.size(),
                           " bytes but shape ", ShapeToString(shape), " of ", KServeDatatype(dtype),
                           " needs ", static_cast<uint64_t>(n) * DTypeSize(dtype));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dtype, shape));
  if (dtype == DType::kString) {
    std::string* out = static_cast<std::string*>(t.raw_data());
    size_t pos = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (bytes.size() - pos < 4) {
        return InvalidArgument("input '", name, "': BYTES data ends inside element ", i);
      }
      uint32_t len;
      std::memcpy(&len, bytes.data() + pos, 4);  // little-endian hosts only (x86-64, arm64)
      pos += 4;
      if (bytes.size() - pos < len) {
        return InvalidArgument("input '", name, "': BYTES element ", i, " overruns the data");
      }
      out[i].assign(bytes.data() + pos, len);
      pos += len;
    }
    if (pos != bytes.size()) {
      return InvalidArgument("input '", name, "': ", bytes.size() - pos,
                             " bytes left after the last BYTES element");
    }
    return t;
  }
  if (static_cast<uint64_t>(bytes.size()) != t.nbytes()) {
    return InvalidArgument("input '", name, "': binary_data_size is ", bytes.size(),
                           " bytes but shape ", ShapeToString(shape), " of ", KServeDatatype(dtype),
                           " needs ", t.nbytes());
  }
  if (dtype == DType::kBool) {
    bool* out = static_cast<bool*>(t.raw_data());
    for (int64_t i = 0; i < n; ++i) out[i] = bytes[static_cast<size_t>(i)] != 0;
  } else if (!bytes.empty()) {
    std::memcpy(t.raw_data(), bytes.data(), bytes.size());
  }
  return t;
}

void AppendBinary(const Tensor& in, std::string* out) {
  Result<Tensor> c = in.Contiguous();
  if (!c.ok()) return;
  const Tensor& t = *c;
  if (t.dtype() == DType::kString) {
    const std::string* s = static_cast<const std::string*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint32_t len = static_cast<uint32_t>(s[i].size());
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(s[i]);
    }
  } else if (t.dtype() == DType::kBool) {
    const bool* b = static_cast<const bool*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i) out->push_back(b[i] ? 1 : 0);
  } else {
    out->append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
}

}  // namespace mlos::server
