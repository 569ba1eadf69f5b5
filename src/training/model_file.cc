// CheckTorchScriptFile: reads a zip archive's end-of-central-directory record and its central
// directory (APPNOTE.TXT 4.3.12 and 4.3.16), every offset and length checked against the file.
#include "training/model_file.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

namespace mlos::training {
namespace {

constexpr uint32_t kEocdSignature = 0x06054b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kMaxComment = 0xffff;
constexpr uint64_t kMaxDirectory = uint64_t{64} << 20;

uint32_t U16(const std::string& b, size_t o) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[o])) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[o + 1])) << 8;
}
uint32_t U32(const std::string& b, size_t o) { return U16(b, o) | U16(b, o + 2) << 16; }

bool ReadAt(std::ifstream& in, uint64_t offset, size_t n, std::string* out) {
  out->assign(n, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(out->data(), static_cast<std::streamsize>(n));
  return static_cast<size_t>(in.gcount()) == n;
}

}  // namespace

Status CheckTorchScriptFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("model ", path, " does not exist or is not a file");
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return NotFound("model ", path, " cannot be opened");
  auto not_script = [&](std::string_view why) {
    return InvalidArgument("model ", path, " is not a TorchScript file (", why, ")");
  };
  std::string head;
  if (size < 4 || !ReadAt(in, 0, 4, &head) || head != std::string_view("PK\x03\x04", 4)) {
    return not_script("not a zip archive as torch.jit.save writes");
  }
  // The end record: the last 22 bytes, or earlier when the archive has a comment.
  const size_t tail_len = static_cast<size_t>(std::min<uint64_t>(size, kEocdSize + kMaxComment));
  std::string tail;
  if (!ReadAt(in, size - tail_len, tail_len, &tail))
    return NotFound("model ", path, ": short read");
  size_t eocd = std::string::npos;
  for (size_t i = tail_len - kEocdSize + 1; i-- > 0;) {
    if (U32(tail, i) == kEocdSignature) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) return not_script("no zip directory");
  const uint32_t entries = U16(tail, eocd + 10);
  const uint64_t dir_size = U32(tail, eocd + 12);
  const uint64_t dir_offset = U32(tail, eocd + 16);
  if (entries == 0xffff || dir_size == 0xffffffffu || dir_offset == 0xffffffffu) {
    return Status::OK();  // zip64: leave it to the loader
  }
  if (dir_size > kMaxDirectory || dir_offset > size || dir_size > size - dir_offset) {
    return not_script("zip directory out of bounds");
  }
  std::string dir;
  if (!ReadAt(in, dir_offset, static_cast<size_t>(dir_size), &dir)) {
    return NotFound("model ", path, ": short read");
  }
  constexpr std::string_view kWanted = "constants.pkl";
  size_t pos = 0;
  for (uint32_t e = 0; e < entries; ++e) {
    if (pos + 46 > dir.size() || U32(dir, pos) != kCentralSignature) {
      return not_script("damaged zip directory");
    }
    const size_t name_len = U16(dir, pos + 28);
    const size_t extra_len = U16(dir, pos + 30);
    const size_t comment_len = U16(dir, pos + 32);
    if (pos + 46 + name_len > dir.size()) return not_script("damaged zip directory");
    const std::string_view name(dir.data() + pos + 46, name_len);
    if (name.size() >= kWanted.size() && name.substr(name.size() - kWanted.size()) == kWanted &&
        (name.size() == kWanted.size() || name[name.size() - kWanted.size() - 1] == '/')) {
      return Status::OK();
    }
    pos += 46 + name_len + extra_len + comment_len;
  }
  return not_script("a zip archive without constants.pkl, e.g. .npz or torch.save data");
}

}  // namespace mlos::training
