// The smi_host_api_t functions and the thread-local call context behind them.
#include "runtime/plugin_host_api.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "mlos/allocator.h"

namespace mlos::runtime {
namespace {

thread_local CallScope* t_current = nullptr;

constexpr size_t kMaxErrorLen = 4096;
constexpr size_t kMaxLogLen = 8192;
// alloc() keeps the block size in a header so free() can hand it back to the allocator.
constexpr size_t kAllocHeader = kTensorAlignment;

}  // namespace

struct HostApiAccess {
  static CallScope* Current() { return t_current; }
  static void SetError(CallScope* s, std::string msg) { s->error_ = std::move(msg); }
  static const HostServices* Services(CallScope* s) { return s->services_; }
  static std::string_view PluginId(CallScope* s) { return s->plugin_id_; }
};

CallScope::CallScope(const HostServices* services, std::string_view plugin_id)
    : services_(services), plugin_id_(plugin_id), previous_(t_current) {
  t_current = this;
}

CallScope::~CallScope() { t_current = previous_; }

void HostLog(const HostServices* services, int level, std::string_view plugin_id,
             std::string_view message) {
  if (services != nullptr && services->log) {
    services->log(level, plugin_id, message);
    return;
  }
  static const char* const kNames[] = {"debug", "info", "warning", "error"};
  const char* name = (level >= 0 && level <= 3) ? kNames[level] : "info";
  std::fprintf(stderr, "[plugin %.*s] %s: %.*s\n", static_cast<int>(plugin_id.size()),
               plugin_id.data(), name, static_cast<int>(message.size()), message.data());
}

namespace {

void* ApiAlloc(size_t size) {
  if (size > (size_t{1} << 46)) return nullptr;
  const size_t total = size + kAllocHeader;
  void* block = DefaultAllocator().Allocate(total);
  if (block == nullptr) return nullptr;
  std::memcpy(block, &total, sizeof(total));
  return static_cast<char*>(block) + kAllocHeader;
}

void ApiFree(void* ptr) {
  if (ptr == nullptr) return;
  char* block = static_cast<char*>(ptr) - kAllocHeader;
  size_t total = 0;
  std::memcpy(&total, block, sizeof(total));
  DefaultAllocator().Deallocate(block, total);
}

void ApiLog(int32_t level, const char* message) {
  CallScope* scope = HostApiAccess::Current();
  auto text = SafeCopyString(message, kMaxLogLen, "log message");
  const std::string line = text.ok() ? *text : text.status().message();
  if (scope == nullptr) {
    HostLog(nullptr, level, "?", line);
  } else {
    HostLog(HostApiAccess::Services(scope), level, HostApiAccess::PluginId(scope), line);
  }
}

void ApiSetError(const char* message) {
  CallScope* scope = HostApiAccess::Current();
  if (scope == nullptr) return;  // outside a call there is nobody to report to
  auto text = SafeCopyString(message, kMaxErrorLen, "error message");
  HostApiAccess::SetError(scope, text.ok() ? *text : text.status().message());
}

void* ApiQuery(const char* key) {
  CallScope* scope = HostApiAccess::Current();
  if (scope == nullptr || key == nullptr) return nullptr;
  const HostServices* services = HostApiAccess::Services(scope);
  if (services == nullptr) return nullptr;
  auto name = SafeCopyString(key, 256, "query key");
  if (!name.ok()) return nullptr;
  if (*name == "mlos.thread_pool") return services->pool;
  return nullptr;
}

const smi_host_api_t kHostApi = {
    sizeof(smi_host_api_t), SMI_VERSION, &ApiAlloc, &ApiFree, &ApiLog, &ApiSetError, &ApiQuery,
};

bool ReadRemote(const void* src, void* dst, size_t n) {
  if (n == 0) return true;
  iovec local{dst, n};
  iovec remote{const_cast<void*>(src), n};
  ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (got == static_cast<ssize_t>(n)) return true;
  if (got < 0 && (errno == ENOSYS || errno == EPERM)) {
    // No process_vm_readv (seccomp): a pipe write fails with EFAULT on unreadable memory.
    int fds[2];
    if (pipe(fds) != 0) return false;
    bool ok = true;
    size_t done = 0;
    while (ok && done < n) {
      size_t chunk = std::min<size_t>(n - done, 4096);
      ssize_t w = write(fds[1], static_cast<const char*>(src) + done, chunk);
      ok = w > 0 && read(fds[0], static_cast<char*>(dst) + done, static_cast<size_t>(w)) == w;
      if (ok) done += static_cast<size_t>(w);
    }
    close(fds[0]);
    close(fds[1]);
    return ok;
  }
  return false;
}

}  // namespace

const smi_host_api_t* HostApiTable() { return &kHostApi; }

Result<std::string> SafeCopyString(const char* p, size_t max_len, std::string_view what) {
  if (p == nullptr) return InvalidArgument(what, " is NULL");
  std::string out;
  char buf[256];
  // Read in chunks that never cross a page boundary, so a string ending just before an
  // unmapped page is still read in full.
  const uintptr_t kPage = 4096;
  while (out.size() <= max_len) {
    uintptr_t addr = reinterpret_cast<uintptr_t>(p) + out.size();
    size_t chunk = std::min<size_t>(sizeof(buf), kPage - (addr % kPage));
    if (!ReadRemote(reinterpret_cast<const void*>(addr), buf, chunk)) {
      return InvalidArgument(what, " points to unreadable memory");
    }
    const void* nul = std::memchr(buf, '\0', chunk);
    if (nul != nullptr) {
      out.append(buf, static_cast<size_t>(static_cast<const char*>(nul) - buf));
      if (out.size() > max_len) break;
      return out;
    }
    out.append(buf, chunk);
  }
  return InvalidArgument(what, " is longer than ", max_len, " bytes or not NUL-terminated");
}

Status SafeCopyBytes(const void* src, void* dst, size_t n, std::string_view what) {
  if (n == 0) return Status::OK();
  if (src == nullptr) return InvalidArgument(what, " is NULL");
  if (!ReadRemote(src, dst, n)) return InvalidArgument(what, " points to unreadable memory");
  return Status::OK();
}

bool IsReadable(const void* p, size_t n) {
  if (n == 0) return true;
  if (p == nullptr) return false;
  char c;
  return ReadRemote(p, &c, 1) && ReadRemote(static_cast<const char*>(p) + (n - 1), &c, 1);
}

Status StatusFromSmi(int32_t code, std::string_view plugin_id, std::string_view entry,
                     std::string_view message) {
  std::string text = StrCat("plugin '", plugin_id, "': ", entry, " failed");
  if (!message.empty()) {
    text += ": ";
    text += message;
  } else {
    text += StrCat(" with status ", code);
  }
  switch (code) {
    case SMI_ERROR_INVALID_PARAM:
      return Status(StatusCode::kInvalidArgument, text);
    case SMI_ERROR_OUT_OF_MEMORY:
      return Status(StatusCode::kResourceExhausted, text);
    case SMI_ERROR_NOT_FOUND:
      return Status(StatusCode::kNotFound, text);
    case SMI_ERROR_NOT_SUPPORTED:
      return Status(StatusCode::kUnimplemented, text);
    case SMI_ERROR_BUFFER_TOO_SMALL:
      return Status(StatusCode::kResourceExhausted, text);
    case SMI_ERROR_VERSION_MISMATCH:
      return Status(StatusCode::kFailedPrecondition, text);
    case SMI_ERROR_RUNTIME:
      return Status(StatusCode::kInternal, text);
    default:
      return Status(StatusCode::kInternal, StrCat(text, " (unknown SMI status code ", code, ")"));
  }
}

}  // namespace mlos::runtime
