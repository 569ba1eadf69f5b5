#include <cstring>
#include <fstream>
#include <sstream>

#include "graph/tensor_proto.h"
#include "tools/mlosctl_common.h"

namespace mlosctl {

using mlos::DType;
using mlos::Result;
using mlos::Status;
using mlos::Tensor;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return mlos::NotFound("cannot open '", path, "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Status WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return mlos::NotFound("cannot write '", path, "'");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return f ? Status::OK() : mlos::DataLoss("short write to '", path, "'");
}

namespace {

Result<DType> NpyDType(const std::string& descr) {
  std::string d = descr;
  if (!d.empty() && (d[0] == '<' || d[0] == '|' || d[0] == '=')) d = d.substr(1);
  if (d == "f4") return DType::kFloat32;
  if (d == "f8") return DType::kFloat64;
  if (d == "f2") return DType::kFloat16;
  if (d == "i1") return DType::kInt8;
  if (d == "i2") return DType::kInt16;
  if (d == "i4") return DType::kInt32;
  if (d == "i8") return DType::kInt64;
  if (d == "u1") return DType::kUInt8;
  if (d == "u2") return DType::kUInt16;
  if (d == "u4") return DType::kUInt32;
  if (d == "u8") return DType::kUInt64;
  if (d == "b1") return DType::kBool;
  return mlos::Unimplemented("npy dtype '", descr, "'");
}

std::string NpyDescr(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "<f4";
    case DType::kFloat64:
      return "<f8";
    case DType::kFloat16:
      return "<f2";
    case DType::kInt8:
      return "|i1";
    case DType::kInt16:
      return "<i2";
    case DType::kInt32:
      return "<i4";
    case DType::kInt64:
      return "<i8";
    case DType::kUInt8:
      return "|u1";
    case DType::kUInt16:
      return "<u2";
    case DType::kUInt32:
      return "<u4";
    case DType::kUInt64:
      return "<u8";
    case DType::kBool:
      return "|b1";
    default:
      return "";
  }
}

}  // namespace

Result<Tensor> ReadNpy(const std::string& b) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) return mlos::DataLoss("not a .npy file");
  const int major = static_cast<unsigned char>(b[6]);
  size_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) |
           (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    hstart = 10;
  } else {
    if (b.size() < 12) return mlos::DataLoss("truncated .npy header");
    hlen = 0;
    for (int i = 0; i < 4; ++i)
      hlen |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    hstart = 12;
  }
  if (hstart + hlen > b.size()) return mlos::DataLoss("truncated .npy header");
  std::string h = b.substr(hstart, hlen);
  auto field = [&](const std::string& key) -> std::string {
    size_t p = h.find("'" + key + "'");
    if (p == std::string::npos) return "";
    p = h.find(':', p);
    if (p == std::string::npos) return "";
    return h.substr(p + 1);
  };
  std::string descr = field("descr");
  size_t q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) return mlos::DataLoss("bad .npy descr");
  MLOS_ASSIGN_OR_RETURN(DType dt, NpyDType(descr.substr(q1 + 1, q2 - q1 - 1)));
  std::string fo = field("fortran_order");
  if (fo.find("True") < fo.find(',')) return mlos::Unimplemented("fortran-order .npy");
  std::string sh = field("shape");
  size_t p1 = sh.find('('), p2 = sh.find(')');
  if (p1 == std::string::npos || p2 == std::string::npos) return mlos::DataLoss("bad .npy shape");
  mlos::Shape shape;
  std::stringstream ss(sh.substr(p1 + 1, p2 - p1 - 1));
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    if (tok.find_first_not_of(" ") == std::string::npos) continue;
    try {
      shape.push_back(std::stoll(tok));
    } catch (...) {
      return mlos::DataLoss("bad .npy shape");
    }
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(dt, shape));
  size_t data = hstart + hlen;
  if (b.size() - data != t.nbytes())
    return mlos::DataLoss(".npy data size does not match its shape");
  if (t.nbytes()) std::memcpy(t.raw_data(), b.data() + data, t.nbytes());
  return t;
}

Result<std::string> WriteNpy(const Tensor& t) {
  std::string descr = NpyDescr(t.dtype());
  if (descr.empty()) return mlos::Unimplemented("dtype ", mlos::DTypeName(t.dtype()), " in .npy");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(t.shape()[i]);
  }
  if (t.rank() == 1) shape += ",";
  shape += ")";
  std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  out += h;
  MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
  out.append(static_cast<const char*>(c.raw_data()), c.nbytes());
  return out;
}

Result<mlos::graph::Value> ReadValueFile(const std::string& path, bool want_sequence) {
  MLOS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    MLOS_ASSIGN_OR_RETURN(Tensor t, ReadNpy(bytes));
    return mlos::graph::Value::FromTensor(std::move(t));
  }
  auto v = mlos::graph::ValueFromPbBytes(bytes, want_sequence);
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

Result<mlos::graph::Value> ReadValueFile(const std::string& path, mlos::graph::ValueKind kind) {
  if (kind != mlos::graph::ValueKind::kOptional) {
    return ReadValueFile(path, kind == mlos::graph::ValueKind::kSequence);
  }
  MLOS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  auto v = mlos::graph::OptionalValueFromPbBytes(bytes);
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

}  // namespace mlosctl
