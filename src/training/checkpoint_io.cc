// Atomic file writes and checkpoint naming; see checkpoint_io.h.
#include "training/checkpoint_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace mlos::training {
namespace {

namespace fs = std::filesystem;
constexpr char kPrefix[] = "ckpt-";
constexpr char kSuffix[] = ".mlosckpt";

Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Internal("open ", path, ": ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Internal("fsync ", path, ": ", std::strerror(err));
  return Status::OK();
}

std::string ParentOf(const std::string& path) {
  std::string p = fs::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

}  // namespace

Status EnsureDirectory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create ", dir, ": ", ec.message());
  return Status::OK();
}

Status CommitFileAtomic(const std::string& tmp, const std::string& path) {
  MLOS_RETURN_IF_ERROR(SyncPath(tmp, O_RDONLY));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal("rename ", tmp, " -> ", path, ": ", std::strerror(errno));
  }
  return SyncPath(ParentOf(path), O_RDONLY | O_DIRECTORY);
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("create ", tmp, ": ", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Internal("write ", tmp, ": ", std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Internal("fsync ", tmp, ": ", std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Internal("rename ", tmp, " -> ", path, ": ", std::strerror(err));
  }
  return SyncPath(ParentOf(path), O_RDONLY | O_DIRECTORY);
}

std::string CheckpointPath(const std::string& dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%012lld%s", kPrefix, static_cast<long long>(step), kSuffix);
  return dir + "/" + name;
}

std::vector<CheckpointInfo> ListCheckpoints(const std::string& dir) {
  std::vector<CheckpointInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    const size_t pl = sizeof(kPrefix) - 1, sl = sizeof(kSuffix) - 1;
    if (n.size() != pl + 12 + sl || n.compare(0, pl, kPrefix) != 0 ||
        n.compare(n.size() - sl, sl, kSuffix) != 0) {
      continue;
    }
    const std::string digits = n.substr(pl, 12);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    out.push_back({e.path().string(), std::stoll(digits)});
  }
  std::sort(out.begin(), out.end(),
            [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.step < b.step; });
  return out;
}

}  // namespace mlos::training
