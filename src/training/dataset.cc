// Dataset loaders: CSV, NPY, NPZ (stored members), folders, text corpora. See dataset.h.
#include "training/dataset.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace mlos::training {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxFileBytes = uint64_t{4} << 30;

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return NotFound("dataset file ", path, " cannot be read: ", ec.message());
  if (size > kMaxFileBytes) return InvalidArgument("dataset file ", path, " is over 4 GiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("dataset file ", path, " cannot be opened");
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) return DataLoss("short read of ", path);
  return bytes;
}

bool OneOfFormats(const std::string& f) {
  for (const char* k : {"", "auto", "csv", "npy", "npz", "text", "folder"}) {
    if (f == k) return true;
  }
  return false;
}

std::string Extension(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// Splits a 2-D float table [rows, cols] into features and a one-column target.
Status SplitTable(const std::vector<float>& cells, int64_t rows, int64_t cols, int64_t label,
                  const std::string& what, Dataset* out) {
  if (cols < 2) return InvalidArgument(what, ": needs at least two columns, has ", cols);
  if (label < 0) label += cols;
  if (label < 0 || label >= cols) return InvalidArgument(what, ": label column out of range");
  out->kind = Dataset::Kind::kTable;
  out->feature_size = cols - 1;
  out->sample_shape = {cols - 1};
  out->target_width = 1;
  out->num_samples = rows;
  out->features.reserve(static_cast<size_t>(rows * (cols - 1)));
  out->targets.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const float v = cells[static_cast<size_t>(r * cols + c)];
      if (c == label) {
        out->targets.push_back(v);
      } else {
        out->features.push_back(v);
      }
    }
  }
  return Status::OK();
}

Status LoadCsv(const std::string& path, int64_t label, Dataset* out) {
  MLOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<float> cells;
  int64_t cols = -1, rows = 0, line_no = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<float> row;
    bool numeric = true;
    size_t start = 0;
    while (start <= line.size()) {
      size_t end = line.find(',', start);
      if (end == std::string::npos) end = line.size();
      std::string cell = line.substr(start, end - start);
      char* stop = nullptr;
      const float v = std::strtof(cell.c_str(), &stop);
      if (stop == cell.c_str() ||
          cell.find_first_not_of(" \t", stop - cell.c_str()) != std::string::npos) {
        numeric = false;
      }
      row.push_back(v);
      start = end + 1;
    }
    if (!numeric) {
      if (rows == 0 && cols < 0) continue;  // a header line
      return InvalidArgument(path, ":", line_no, ": a cell is not a number");
    }
    if (cols < 0) cols = static_cast<int64_t>(row.size());
    if (static_cast<int64_t>(row.size()) != cols) {
      return InvalidArgument(path, ":", line_no, ": has ", row.size(), " columns, expected ", cols);
    }
    cells.insert(cells.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) return InvalidArgument(path, ": no data rows");
  return SplitTable(cells, rows, cols, label, path, out);
}

template <typename T>
void Convert(const char* p, size_t n, std::vector<float>* out) {
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    (*out)[i] = static_cast<float>(v);
  }
}

// Sets the features/targets from an (x, y) pair of arrays with equal leading dimension.
Status FromPair(const NpyArray& x, const NpyArray& y, const std::string& what, Dataset* out) {
  if (x.shape.empty() || y.shape.empty() || x.shape[0] != y.shape[0]) {
    return InvalidArgument(what, ": x and y need the same leading dimension");
  }
  out->kind = Dataset::Kind::kTable;
  out->num_samples = x.shape[0];
  out->sample_shape.assign(x.shape.begin() + 1, x.shape.end());
  out->feature_size = 1;
  for (int64_t d : out->sample_shape) out->feature_size *= d;
  out->target_width = 1;
  for (size_t i = 1; i < y.shape.size(); ++i) out->target_width *= y.shape[i];
  out->features = x.data;
  out->targets = y.data;
  return Status::OK();
}

Status LoadNpyFile(const std::string& path, int64_t label, Dataset* out) {
  MLOS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  MLOS_ASSIGN_OR_RETURN(NpyArray a, ParseNpy(bytes, path));
  if (a.shape.size() != 2) return InvalidArgument(path, ": a single .npy must be 2-D");
  return SplitTable(a.data, a.shape[0], a.shape[1], label, path, out);
}

Status LoadNpz(const std::string& path, Dataset* out) {
  MLOS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  MLOS_ASSIGN_OR_RETURN(auto members, ParseNpz(bytes, path));
  const NpyArray* x = nullptr;
  const NpyArray* y = nullptr;
  for (const auto& [name, arr] : members) {
    if (name == "x" || name == "X" || name == "features" || name == "data") x = &arr;
    if (name == "y" || name == "labels" || name == "target" || name == "targets") y = &arr;
  }
  if ((x == nullptr || y == nullptr) && members.size() == 2) {
    x = &members[0].second;
    y = &members[1].second;
  }
  if (x == nullptr || y == nullptr) return InvalidArgument(path, ": needs arrays x and y");
  return FromPair(*x, *y, path, out);
}

Status LoadText(const std::vector<std::string>& files, int64_t context, Dataset* out) {
  if (context < 1 || context > (1 << 20)) return InvalidArgument("context_length out of range");
  std::string text;
  for (const auto& f : files) {
    MLOS_ASSIGN_OR_RETURN(std::string t, ReadFile(f));
    text += t;
  }
  bool seen[256] = {};
  for (unsigned char c : text) seen[c] = true;
  int64_t index[256];
  out->vocab.clear();
  for (int c = 0; c < 256; ++c) {
    index[c] = static_cast<int64_t>(out->vocab.size());
    if (seen[c]) out->vocab.push_back(static_cast<char>(c));
  }
  out->kind = Dataset::Kind::kText;
  out->tokens.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    out->tokens[i] = index[static_cast<unsigned char>(text[i])];
  out->context = context;
  out->num_samples = text.size() > 1 ? static_cast<int64_t>((text.size() - 1) / context) : 0;
  if (out->num_samples < 1) return InvalidArgument("text corpus is shorter than context_length");
  out->sample_shape = {context};
  out->feature_size = context;
  out->target_width = context;
  return Status::OK();
}

Status Append(Dataset* into, const Dataset& part, const std::string& what) {
  if (into->num_samples == 0) {
    *into = part;
    return Status::OK();
  }
  if (into->sample_shape != part.sample_shape || into->target_width != part.target_width) {
    return InvalidArgument(what, ": its shape differs from the folder's first file");
  }
  into->features.insert(into->features.end(), part.features.begin(), part.features.end());
  into->targets.insert(into->targets.end(), part.targets.begin(), part.targets.end());
  into->num_samples += part.num_samples;
  return Status::OK();
}

Status LoadFolder(const std::string& dir, int64_t label, int64_t context, Dataset* out) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  if (ec) return NotFound("dataset folder ", dir, " cannot be read: ", ec.message());
  std::sort(files.begin(), files.end());
  // x.npy + y.npy: one pair of arrays.
  auto has = [&](const std::string& n) {
    return std::find(files.begin(), files.end(), dir + "/" + n) != files.end();
  };
  if (has("x.npy") && has("y.npy")) {
    MLOS_ASSIGN_OR_RETURN(std::string xb, ReadFile(dir + "/x.npy"));
    MLOS_ASSIGN_OR_RETURN(std::string yb, ReadFile(dir + "/y.npy"));
    MLOS_ASSIGN_OR_RETURN(NpyArray x, ParseNpy(xb, dir + "/x.npy"));
    MLOS_ASSIGN_OR_RETURN(NpyArray y, ParseNpy(yb, dir + "/y.npy"));
    return FromPair(x, y, dir, out);
  }
  std::vector<std::string> texts;
  *out = Dataset();
  for (const auto& f : files) {
    const std::string ext = Extension(f);
    Dataset part;
    if (ext == ".csv") {
      MLOS_RETURN_IF_ERROR(LoadCsv(f, label, &part));
    } else if (ext == ".npz") {
      MLOS_RETURN_IF_ERROR(LoadNpz(f, &part));
    } else if (ext == ".npy") {
      MLOS_RETURN_IF_ERROR(LoadNpyFile(f, label, &part));
    } else if (ext == ".txt") {
      texts.push_back(f);
      continue;
    } else {
      continue;
    }
    MLOS_RETURN_IF_ERROR(Append(out, part, f));
  }
  if (out->num_samples == 0 && !texts.empty()) return LoadText(texts, context, out);
  if (out->num_samples == 0) return InvalidArgument("dataset folder ", dir, " holds no data");
  return Status::OK();
}

}  // namespace

Result<NpyArray> ParseNpy(const std::string& b, const std::string& what) {
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) {
    return InvalidArgument(what, ": not an .npy file");
  }
  const uint8_t major = static_cast<uint8_t>(b[6]);
  size_t header_len = 0, pos = 0;
  if (major == 1) {
    header_len =
        static_cast<uint8_t>(b[8]) | (static_cast<size_t>(static_cast<uint8_t>(b[9])) << 8);
    pos = 10;
  } else if ((major == 2 || major == 3) && b.size() >= 12) {
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<size_t>(static_cast<uint8_t>(b[8 + i])) << (8 * i);
    }
    pos = 12;
  } else {
    return InvalidArgument(what, ": unsupported .npy version ", int{major});
  }
  if (header_len > b.size() - pos) return InvalidArgument(what, ": truncated .npy header");
  const std::string h = b.substr(pos, header_len);
  pos += header_len;
  auto value_of = [&](const std::string& key) -> std::string {
    size_t k = h.find("'" + key + "'");
    if (k == std::string::npos) return "";
    k = h.find(':', k);
    if (k == std::string::npos) return "";
    return h.substr(k + 1);
  };
  std::string descr = value_of("descr");
  size_t q1 = descr.find('\''), q2 = q1 == std::string::npos ? q1 : descr.find('\'', q1 + 1);
  if (q2 == std::string::npos) return InvalidArgument(what, ": .npy header has no descr");
  descr = descr.substr(q1 + 1, q2 - q1 - 1);
  const std::string fortran = value_of("fortran_order");
  if (fortran.compare(
          fortran.find_first_not_of(' ') == std::string::npos ? 0 : fortran.find_first_not_of(' '),
          4, "True") == 0) {
    return InvalidArgument(what, ": Fortran-ordered arrays are not supported");
  }
  std::string shape_s = value_of("shape");
  size_t p1 = shape_s.find('('), p2 = shape_s.find(')');
  if (p1 == std::string::npos || p2 == std::string::npos || p2 < p1) {
    return InvalidArgument(what, ": .npy header has no shape");
  }
  NpyArray a;
  uint64_t count = 1;
  std::istringstream dims(shape_s.substr(p1 + 1, p2 - p1 - 1));
  std::string d;
  while (std::getline(dims, d, ',')) {
    if (d.find_first_not_of(" ") == std::string::npos) continue;
    char* end = nullptr;
    const long long v = std::strtoll(d.c_str(), &end, 10);
    if (end == d.c_str() || v < 0 || v > (int64_t{1} << 40)) {
      return InvalidArgument(what, ": bad dimension in .npy shape");
    }
    a.shape.push_back(v);
    if (v > 0 && count > (uint64_t{1} << 40) / static_cast<uint64_t>(v)) {
      return InvalidArgument(what, ": .npy array too large");
    }
    count *= static_cast<uint64_t>(v);
  }
  if (descr.size() < 3 || descr[0] == '>') {
    return InvalidArgument(what, ": unsupported dtype '", descr, "' (little-endian only)");
  }
  const std::string t = descr.substr(1);
  size_t elem = 0;
  if (t == "f4" || t == "i4" || t == "u4")
    elem = 4;
  else if (t == "f8" || t == "i8" || t == "u8")
    elem = 8;
  else if (t == "i2" || t == "u2")
    elem = 2;
  else if (t == "i1" || t == "u1" || t == "b1")
    elem = 1;
  else
    return InvalidArgument(what, ": unsupported dtype '", descr, "'");
  if (count * elem > b.size() - pos) return InvalidArgument(what, ": truncated .npy data");
  const char* p = b.data() + pos;
  const size_t n = static_cast<size_t>(count);
  a.integral = t[0] != 'f';
  if (t == "f4")
    Convert<float>(p, n, &a.data);
  else if (t == "f8")
    Convert<double>(p, n, &a.data);
  else if (t == "i8")
    Convert<int64_t>(p, n, &a.data);
  else if (t == "u8")
    Convert<uint64_t>(p, n, &a.data);
  else if (t == "i4")
    Convert<int32_t>(p, n, &a.data);
  else if (t == "u4")
    Convert<uint32_t>(p, n, &a.data);
  else if (t == "i2")
    Convert<int16_t>(p, n, &a.data);
  else if (t == "u2")
    Convert<uint16_t>(p, n, &a.data);
  else if (t == "i1")
    Convert<int8_t>(p, n, &a.data);
  else
    Convert<uint8_t>(p, n, &a.data);
  return a;
}

Result<std::vector<std::pair<std::string, NpyArray>>> ParseNpz(const std::string& b,
                                                               const std::string& what) {
  auto u16 = [&](size_t o) {
    return static_cast<uint32_t>(static_cast<uint8_t>(b[o]) |
                                 (static_cast<uint8_t>(b[o + 1]) << 8));
  };
  auto u32 = [&](size_t o) { return u16(o) | (u16(o + 2) << 16); };
  auto u64 = [&](size_t o) { return uint64_t{u32(o)} | (uint64_t{u32(o + 4)} << 32); };
  std::vector<std::pair<std::string, NpyArray>> out;
  size_t pos = 0;
  while (pos + 30 <= b.size() && u32(pos) == 0x04034b50) {
    const uint32_t flags = u16(pos + 6), method = u16(pos + 8);
    uint64_t csize = u32(pos + 18);
    const size_t name_len = u16(pos + 26), extra_len = u16(pos + 28);
    if (pos + 30 + name_len + extra_len > b.size()) return InvalidArgument(what, ": truncated zip");
    std::string name = b.substr(pos + 30, name_len);
    const size_t extra = pos + 30 + name_len;
    if (csize == 0xffffffffu) {  // zip64: the sizes are in extra field 0x0001
      for (size_t e = extra; e + 4 <= extra + extra_len;) {
        const uint32_t id = u16(e), len = u16(e + 2);
        if (id == 1 && len >= 16 && e + 4 + 16 <= b.size()) csize = u64(e + 12);
        e += 4 + len;
      }
    }
    if (method != 0)
      return InvalidArgument(what, ": member ", name, " is compressed (use np.savez)");
    if (flags & 8) return InvalidArgument(what, ": zip data descriptors are not supported");
    const size_t data = extra + extra_len;
    if (csize > b.size() - data) return InvalidArgument(what, ": truncated member ", name);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
      MLOS_ASSIGN_OR_RETURN(NpyArray a, ParseNpy(b.substr(data, csize), what + ":" + name));
      out.emplace_back(name.substr(0, name.size() - 4), std::move(a));
    }
    pos = data + static_cast<size_t>(csize);
  }
  if (out.empty()) return InvalidArgument(what, ": no .npy members found");
  return out;
}

Status CheckDataset(const std::string& path, const std::string& format) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound("dataset ", path, " does not exist");
  if (!OneOfFormats(format)) {
    return InvalidArgument("dataset_format '", format, "' is not csv, npy, npz, text or folder");
  }
  if (fs::is_directory(path, ec)) {
    fs::directory_iterator it(path, ec);
    if (ec) return NotFound("dataset folder ", path, " cannot be read: ", ec.message());
    return Status::OK();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("dataset file ", path, " cannot be opened");
  char head[6] = {};
  in.read(head, sizeof(head));
  const auto got = static_cast<size_t>(in.gcount());
  const std::string ext = Extension(path);
  const std::string f =
      format.empty() || format == "auto" ? ext.substr(ext.empty() ? 0 : 1) : format;
  if (f == "npy" && (got < 6 || std::memcmp(head, "\x93NUMPY", 6) != 0)) {
    return InvalidArgument("dataset ", path, " is not an .npy file (no \\x93NUMPY magic)");
  }
  if (f == "npz" && (got < 4 || std::memcmp(head, "PK\x03\x04", 4) != 0)) {
    return InvalidArgument("dataset ", path, " is not an .npz (zip) file");
  }
  return Status::OK();
}

Result<Dataset> LoadDataset(const std::string& path, const std::string& format,
                            int64_t label_column, int64_t context_length) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound("dataset ", path, " does not exist");
  std::string f = format.empty() ? "auto" : format;
  if (f == "auto") {
    const std::string ext = Extension(path);
    if (fs::is_directory(path, ec))
      f = "folder";
    else if (ext == ".csv")
      f = "csv";
    else if (ext == ".npy")
      f = "npy";
    else if (ext == ".npz")
      f = "npz";
    else
      f = "text";
  }
  Dataset d;
  if (f == "csv") {
    MLOS_RETURN_IF_ERROR(LoadCsv(path, label_column, &d));
  } else if (f == "npy") {
    MLOS_RETURN_IF_ERROR(LoadNpyFile(path, label_column, &d));
  } else if (f == "npz") {
    MLOS_RETURN_IF_ERROR(LoadNpz(path, &d));
  } else if (f == "text") {
    if (fs::is_directory(path, ec)) {
      MLOS_RETURN_IF_ERROR(LoadFolder(path, label_column, context_length, &d));
    } else {
      MLOS_RETURN_IF_ERROR(LoadText({path}, context_length, &d));
    }
  } else if (f == "folder") {
    MLOS_RETURN_IF_ERROR(LoadFolder(path, label_column, context_length, &d));
  } else {
    return InvalidArgument("dataset_format '", format, "' is not csv, npy, npz, text or folder");
  }
  if (static_cast<int64_t>(d.features.size()) != d.num_samples * d.feature_size &&
      d.kind == Dataset::Kind::kTable) {
    return InvalidArgument(path, ": feature count does not match the sample count");
  }
  if (d.kind == Dataset::Kind::kTable &&
      static_cast<int64_t>(d.targets.size()) != d.num_samples * d.target_width) {
    return InvalidArgument(path, ": target count does not match the sample count");
  }
  return d;
}

}  // namespace mlos::training
