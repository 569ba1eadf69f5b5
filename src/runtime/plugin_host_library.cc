// Loading, validating, calling and closing one SMI plugin.
#include "runtime/plugin_host_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>

namespace mlos::runtime {
namespace {

constexpr size_t kMaxIdLen = 128;
constexpr size_t kMaxNameLen = 256;

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLen) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

// Copies the file at `path` into a new memfd, so dlopen sees a library distinct from any copy
// already loaded (glibc identifies libraries by device and inode).
Result<int> CopyToMemfd(const std::string& path) {
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return NotFound("cannot open plugin library ", path, ": ", std::strerror(errno));
  int fd = memfd_create("mlos-plugin", MFD_CLOEXEC);
  if (fd < 0) {
    close(in);
    return Internal("memfd_create failed: ", std::strerror(errno));
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(in, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0 || write(fd, buf, static_cast<size_t>(n)) != n) {
      close(in);
      close(fd);
      return Internal("copying plugin library ", path, " failed");
    }
  }
  close(in);
  return fd;
}

}  // namespace

std::string SmiVersionString(uint32_t v) {
  return StrCat(SMI_VERSION_GET_MAJOR(v), ".", SMI_VERSION_GET_MINOR(v), ".",
                SMI_VERSION_GET_PATCH(v));
}

Status CheckSmiVersion(uint32_t plugin_version, std::string_view who) {
  const uint32_t pmaj = SMI_VERSION_GET_MAJOR(plugin_version);
  const uint32_t pmin = SMI_VERSION_GET_MINOR(plugin_version);
  if (pmaj != SMI_VERSION_MAJOR) {
    return FailedPrecondition(who, " is built for SMI ", SmiVersionString(plugin_version),
                              " but this host implements SMI ", SmiVersionString(SMI_VERSION),
                              ": the major versions must be equal");
  }
  if (pmin > SMI_VERSION_MINOR) {
    return FailedPrecondition(who, " is built for SMI ", SmiVersionString(plugin_version),
                              " but this host implements SMI ", SmiVersionString(SMI_VERSION),
                              ": the plugin's minor version must not exceed the host's");
  }
  return Status::OK();
}

Result<std::shared_ptr<PluginInstance>> PluginInstance::Open(
    const PluginOpenOptions& options, std::shared_ptr<const HostServices> services) {
  std::shared_ptr<PluginInstance> p(new PluginInstance());
  p->services_ = std::move(services);
  Status s = p->Init(options);
  if (!s.ok()) return s;  // the destructor closes whatever was opened
  return p;
}

Status PluginInstance::Init(const PluginOpenOptions& options) {
  info_.path = options.path;
  info_.id = options.id;
  const std::string who = options.id.empty() ? options.path : StrCat("'", options.id, "'");
  smi_plugin_init_fn init = options.builtin_init;
  if (init != nullptr) {
    trusted_ = true;
  } else {
    if (options.path.empty() || options.path[0] != '/') {
      return InvalidArgument("plugin library path must be absolute, got '", options.path, "'");
    }
    struct stat st;
    if (stat(options.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return NotFound("plugin library ", options.path, " does not exist or is not a file");
    }
    std::string open_path = options.path;
    bool copy = options.private_copy;
    if (!copy) {
      // Already loaded (a reload while the old copy still serves requests, or a second host in
      // this process): load a private copy, so the two keep separate state.
      void* existing = dlopen(options.path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
      if (existing != nullptr) {
        dlclose(existing);
        copy = true;
      }
    }
    if (copy) {
      MLOS_ASSIGN_OR_RETURN(memfd_, CopyToMemfd(options.path));
      open_path = StrCat("/proc/self/fd/", memfd_);
    }
    dlerror();
    dl_ = dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (dl_ == nullptr) {
      const char* err = dlerror();
      return InvalidArgument("cannot load plugin library ", options.path, ": ",
                             err ? err : "unknown dlopen error");
    }
    void* sym = dlsym(dl_, SMI_PLUGIN_INIT_SYMBOL);
    if (sym == nullptr) {
      return InvalidArgument("plugin library ", options.path, " does not export ",
                             SMI_PLUGIN_INIT_SYMBOL);
    }
    init = reinterpret_cast<smi_plugin_init_fn>(sym);
  }

  smi_plugin_t* desc = nullptr;
  {
    CallScope scope(services_.get(), who);
    try {
      desc = init();
    } catch (...) {
      return Internal("plugin ", who, ": smi_plugin_init threw an exception");
    }
    if (desc == nullptr) {
      return Internal("plugin ", who, ": smi_plugin_init returned NULL",
                      scope.error().empty() ? "" : ": ", scope.error());
    }
  }
  MLOS_RETURN_IF_ERROR(ReadDescriptor(desc));
  if (info_.id.empty()) {
    MLOS_ASSIGN_OR_RETURN(info_.id, SafeCopyString(desc->plugin_id, kMaxIdLen, "plugin_id"));
  }
  if (!ValidId(info_.id)) {
    return InvalidArgument("plugin id '", info_.id, "' must be 1-", kMaxIdLen,
                           " characters of [A-Za-z0-9._-]");
  }

  // Strings the plugin reports about itself; each call is guarded.
  auto call_string = [&](const char* entry, const char* (*fn)(void)) -> Result<std::string> {
    if (fn == nullptr) return std::string();
    const char* s = nullptr;
    Status st = Guard(entry, [&] {
      s = fn();
      return SMI_SUCCESS;
    });
    if (!st.ok()) return st;
    if (s == nullptr) return std::string();
    return SafeCopyString(s, kMaxNameLen * 16, StrCat("plugin '", info_.id, "': ", entry));
  };
  if (vtable_.get_smi_version != nullptr) {
    uint32_t reported = 0;
    MLOS_RETURN_IF_ERROR(Guard("get_smi_version", [&] {
      reported = vtable_.get_smi_version();
      return SMI_SUCCESS;
    }));
    MLOS_RETURN_IF_ERROR(CheckSmiVersion(reported, StrCat("plugin '", info_.id, "'")));
  }
  if (set_host_ != nullptr) {
    MLOS_RETURN_IF_ERROR(Guard("set_host", [&] { return set_host_(HostApiTable()); }));
  }
  if (vtable_.initialize != nullptr) {
    const std::string config = options.config.empty() ? std::string("{}") : options.config;
    MLOS_RETURN_IF_ERROR(Guard("initialize", [&] { return vtable_.initialize(config.c_str()); }));
  }
  initialized_ = true;  // from here on, the destructor calls cleanup
  // A plugin may offer or withdraw the typed entry during initialize (docs/SMI.md).
  MLOS_RETURN_IF_ERROR(ReadExtension());
  if (vtable_.inference == nullptr && tensor_inference_ == nullptr) {
    return InvalidArgument("plugin '", info_.id,
                           "' implements neither inference nor ext->tensor_inference");
  }

  MLOS_RETURN_IF_ERROR(ReadTraining());

  MLOS_ASSIGN_OR_RETURN(std::string name, call_string("get_plugin_name", vtable_.get_plugin_name));
  MLOS_ASSIGN_OR_RETURN(std::string version,
                        call_string("get_plugin_version", vtable_.get_plugin_version));
  MLOS_ASSIGN_OR_RETURN(std::string frameworks,
                        call_string("get_supported_frameworks", vtable_.get_supported_frameworks));
  info_.name = !options.name.empty() ? options.name : (!name.empty() ? name : info_.id);
  info_.version = !options.version.empty() ? options.version : version;
  std::string cur;
  for (size_t i = 0; i <= frameworks.size(); ++i) {
    if (i == frameworks.size() || frameworks[i] == ',') {
      if (!cur.empty()) info_.frameworks.push_back(cur);
      cur.clear();
    } else if (!std::isspace(static_cast<unsigned char>(frameworks[i]))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(frameworks[i])));
    }
  }

  return Status::OK();
}

Status PluginInstance::ReadDescriptor(const smi_plugin_t* desc) {
  smi_plugin_t copy;
  std::memset(&copy, 0, sizeof(copy));
  MLOS_RETURN_IF_ERROR(
      SafeCopyBytes(desc, &copy, offsetof(smi_plugin_t, struct_size), "plugin descriptor"));
  // The tail exists in every 1.x descriptor, but read it only if struct_size says so.
  uint32_t struct_size = 0;
  if (SafeCopyBytes(&desc->struct_size, &struct_size, sizeof(struct_size), "struct_size").ok() &&
      struct_size > offsetof(smi_plugin_t, struct_size)) {
    size_t n = std::min<size_t>(struct_size, sizeof(smi_plugin_t));
    MLOS_RETURN_IF_ERROR(SafeCopyBytes(desc, &copy, n, "plugin descriptor"));
    if (n < offsetof(smi_plugin_t, flags) + sizeof(copy.flags)) copy.flags = 0;
    if (n < offsetof(smi_plugin_t, ext) + sizeof(copy.ext)) copy.ext = nullptr;
  } else {
    copy.struct_size = 0;
    copy.flags = 0;
    copy.ext = nullptr;
  }
  const std::string who =
      info_.id.empty() ? StrCat("plugin ", info_.path) : StrCat("plugin '", info_.id, "'");
  MLOS_RETURN_IF_ERROR(CheckSmiVersion(copy.smi_version, who));
  info_.smi_version = copy.smi_version;
  vtable_ = copy.interface;
  thread_safe_ = (copy.flags & SMI_PLUGIN_FLAG_THREAD_SAFE) != 0;
  ext_ = copy.ext;
  MLOS_RETURN_IF_ERROR(ReadExtension());
  if (vtable_.inference == nullptr && tensor_inference_ == nullptr) {
    return InvalidArgument(who, " implements neither inference nor ext->tensor_inference");
  }
  return Status::OK();
}

Status PluginInstance::ReadExtension() {
  set_host_ = nullptr;
  tensor_inference_ = nullptr;
  if (ext_ == nullptr) return Status::OK();
  smi_plugin_ext_t ext;
  std::memset(&ext, 0, sizeof(ext));
  MLOS_RETURN_IF_ERROR(SafeCopyBytes(ext_, &ext, sizeof(uint32_t), "plugin ext table"));
  size_t n = std::min<size_t>(ext.struct_size, sizeof(ext));
  MLOS_RETURN_IF_ERROR(SafeCopyBytes(ext_, &ext, n, "plugin ext table"));
  if (n >= offsetof(smi_plugin_ext_t, set_host) + sizeof(ext.set_host)) set_host_ = ext.set_host;
  if (n >= offsetof(smi_plugin_ext_t, tensor_inference) + sizeof(ext.tensor_inference)) {
    tensor_inference_ = ext.tensor_inference;
  }
  return Status::OK();
}

// The optional training table of SMI 1.1 plugins, exported as its own symbol (smi_spec.h).
Status PluginInstance::ReadTraining() {
  has_training_ = false;
  if (dl_ == nullptr || SMI_VERSION_GET_MINOR(info_.smi_version) < 1) return Status::OK();
  void* sym = dlsym(dl_, SMI_PLUGIN_TRAINING_SYMBOL);
  if (sym == nullptr) return Status::OK();
  auto fn = reinterpret_cast<smi_plugin_training_fn>(sym);
  const smi_training_api_t* table = nullptr;
  MLOS_RETURN_IF_ERROR(Guard(SMI_PLUGIN_TRAINING_SYMBOL, [&] {
    table = fn();
    return SMI_SUCCESS;
  }));
  if (table == nullptr) return Status::OK();
  smi_training_api_t copy;
  std::memset(&copy, 0, sizeof(copy));
  MLOS_RETURN_IF_ERROR(SafeCopyBytes(table, &copy, sizeof(uint32_t), "plugin training table"));
  const size_t n = std::min<size_t>(copy.struct_size, sizeof(copy));
  if (n < offsetof(smi_training_api_t, train_start)) {
    return InvalidArgument("plugin '", info_.id, "': training table struct_size ", n,
                           " is too small");
  }
  MLOS_RETURN_IF_ERROR(SafeCopyBytes(table, &copy, n, "plugin training table"));
  // Zero what the plugin's (older, shorter) table does not cover.
  auto* bytes = reinterpret_cast<unsigned char*>(&copy);
  std::memset(bytes + n, 0, sizeof(copy) - n);
  if (copy.train_start == nullptr || copy.train_control == nullptr ||
      copy.train_status == nullptr || copy.free_string == nullptr) {
    return InvalidArgument("plugin '", info_.id,
                           "': training table lacks train_start, train_control, train_status "
                           "or free_string");
  }
  training_ = copy;
  has_training_ = true;
  return Status::OK();
}

PluginInstance::~PluginInstance() {
  if (initialized_ && vtable_.cleanup != nullptr) {
    Status s = Guard("cleanup", [&] { return vtable_.cleanup(); });
    if (!s.ok()) HostLog(services_.get(), SMI_LOG_WARNING, info_.id, s.message());
  }
  if (dl_ != nullptr) dlclose(dl_);
  if (memfd_ >= 0) {
    // glibc matches loaded libraries by name first. If this copy is still loaded (something
    // else holds it), closing the memfd would let a later copy reuse "/proc/self/fd/N" and get
    // this stale library back; keep the descriptor, and so the name, in that case.
    const std::string name = StrCat("/proc/self/fd/", memfd_);
    void* still = dl_ != nullptr ? dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD) : nullptr;
    if (still != nullptr) {
      dlclose(still);
      HostLog(services_.get(), SMI_LOG_DEBUG, info_.id,
              "plugin copy still loaded after close; keeping its memfd");
    } else {
      close(memfd_);
    }
  }
}

bool PluginInstance::Supports(const std::string& framework) const {
  if (framework.empty()) return false;
  std::string f;
  for (char c : framework) f += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(info_.frameworks.begin(), info_.frameworks.end(), f) != info_.frameworks.end();
}

bool PluginInstance::SupportsFirst(const std::string& framework) const {
  if (framework.empty() || info_.frameworks.empty()) return false;
  std::string f;
  for (char c : framework) f += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return info_.frameworks.front() == f;
}

}  // namespace mlos::runtime
