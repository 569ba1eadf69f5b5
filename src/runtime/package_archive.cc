#include "runtime/package_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;

// Splits a relative archive path into components, refusing anything that could leave the
// package folder. "./a//b" is fine; "/a", "a/../../b", "..", "a/.." are not.
Result<std::vector<std::string>> SafeComponents(std::string_view path, std::string_view what) {
  if (path.empty()) return InvalidArgument(what, " has an empty path");
  if (path[0] == '/') return InvalidArgument(what, " '", path, "' is an absolute path");
  if (path.find('\0') != std::string_view::npos) return InvalidArgument(what, " has a NUL");
  std::vector<std::string> parts;
  while (!path.empty()) {
    size_t s = path.find('/');
    std::string_view seg = path.substr(0, s);
    if (seg == "..") return InvalidArgument(what, " '", path, "' contains '..'");
    if (!seg.empty() && seg != ".") parts.emplace_back(seg);
    if (s == std::string_view::npos) break;
    path.remove_prefix(s + 1);
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back('/');
    out += p;
  }
  return out;
}

// Resolves a link target relative to the link's folder; fails if it climbs out of the root.
Status CheckLinkInside(const std::vector<std::string>& link_parts, std::string_view target,
                       std::string_view entry) {
  if (target.empty() || target[0] == '/') {
    return InvalidArgument("archive entry '", entry, "' links to absolute path '", target, "'");
  }
  std::vector<std::string> stack(link_parts.begin(), link_parts.end());
  if (!stack.empty()) stack.pop_back();  // the link's own name
  while (!target.empty()) {
    size_t s = target.find('/');
    std::string_view seg = target.substr(0, s);
    if (seg == "..") {
      // Refused outright: with links to links, ".." resolves against the real tree, which a
      // lexical check cannot follow. Targets that only descend can never leave the package.
      return InvalidArgument("archive entry '", entry, "' links with '..' (outside the package)");
    } else if (!seg.empty() && seg != ".") {
      stack.emplace_back(seg);
    }
    if (s == std::string_view::npos) break;
    target.remove_prefix(s + 1);
  }
  return Status::OK();
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

Status ExtractInto(const std::string& archive_path, const fs::path& dest,
                   const ExtractLimits& limits) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  if (!a) return Internal("libarchive: out of memory");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return InvalidArgument("cannot open package ", archive_path, ": ",
                           archive_error_string(a.get()) ? archive_error_string(a.get()) : "");
  }
  int64_t total = 0;
  int64_t entries = 0;
  std::vector<char> buf(1 << 16);
  while (true) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      const char* msg = archive_error_string(a.get());
      return InvalidArgument("package ", archive_path,
                             " is not a valid gzip tar: ", msg ? msg : "read error");
    }
    if (++entries > limits.max_entries) {
      return InvalidArgument("package has more than ", limits.max_entries, " entries");
    }
    const char* raw = archive_entry_pathname(e);
    std::string name = raw ? raw : "";
    MLOS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SafeComponents(name, "archive entry"));
    if (parts.empty()) continue;  // "./"
    fs::path out = dest / Join(parts);
    std::error_code ec;
    const char* hard = archive_entry_hardlink(e);
    if (hard) {
      MLOS_ASSIGN_OR_RETURN(std::vector<std::string> hp, SafeComponents(hard, "hard link"));
      (void)hp;  // inside the package: the file it names was extracted (or will fail below)
      fs::create_directories(out.parent_path(), ec);
      fs::path target = dest / Join(hp);
      struct stat st;
      if (lstat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return InvalidArgument("archive hard link '", name, "' names no extracted file");
      }
      if (link(target.c_str(), out.c_str()) != 0) {
        return InvalidArgument("cannot create hard link '", name, "'");
      }
      continue;
    }
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      fs::create_directories(out, ec);
      if (ec) return InvalidArgument("cannot create folder '", name, "': ", ec.message());
      continue;
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      MLOS_RETURN_IF_ERROR(CheckLinkInside(parts, target ? target : "", name));
      fs::create_directories(out.parent_path(), ec);
      if (symlink(target, out.c_str()) != 0) {
        return InvalidArgument("cannot create link '", name, "'");
      }
      continue;
    }
    if (type != AE_IFREG) {
      return InvalidArgument("archive entry '", name, "' is not a file, folder or link");
    }
    fs::create_directories(out.parent_path(), ec);
    if (ec) return InvalidArgument("cannot create folder for '", name, "': ", ec.message());
    // Refuse to write through a link created by an earlier entry.
    for (fs::path p = out.parent_path(); p != dest && p.has_relative_path(); p = p.parent_path()) {
      if (fs::is_symlink(p, ec)) {
        return InvalidArgument("archive entry '", name, "' would be written through a link");
      }
    }
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return InvalidArgument("cannot create '", name, "' (duplicate entry?)");
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        close(fd);
        return InvalidArgument("package data of '", name, "' is corrupt");
      }
      total += n;
      if (total > limits.max_total_bytes) {
        close(fd);
        return InvalidArgument("package expands past ", limits.max_total_bytes, " bytes");
      }
      for (la_ssize_t off = 0; off < n;) {
        ssize_t w = write(fd, buf.data() + off, static_cast<size_t>(n - off));
        if (w <= 0) {
          close(fd);
          return ResourceExhausted("cannot write '", name, "' while extracting");
        }
        off += w;
      }
    }
    close(fd);
  }
  return Status::OK();
}

}  // namespace

Status ExtractPackage(const std::string& archive_path, const std::string& dest,
                      const ExtractLimits& limits) {
  std::error_code ec;
  fs::path d(dest);
  if (fs::exists(d, ec)) return AlreadyExists("extraction folder ", dest, " already exists");
  fs::create_directories(d, ec);
  if (ec) return Internal("cannot create ", dest, ": ", ec.message());
  Status s = ExtractInto(archive_path, d, limits);
  if (!s.ok()) fs::remove_all(d, ec);
  return s;
}

Result<std::string> Sha256File(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound("cannot read ", path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      close(fd);
      EVP_MD_CTX_free(ctx);
      return DataLoss("read error on ", path);
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return hex;
}

}  // namespace mlos::runtime
