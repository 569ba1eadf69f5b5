// The host side of the SMI ABI: the smi_host_api_t table handed to every plugin, the per-thread
// call context those context-free C functions consult, and helpers that read plugin memory
// without trusting it.
//
// Ownership: HostApiTable() is a process-wide constant table. A CallScope lives on the stack of
// the thread calling into a plugin and is what set_error/log/query see during that call.
// Thread-safety: every function here is safe from any thread; the context is thread-local.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mlos/smi_spec.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::runtime {

// Receives plugin log lines: level is a smi_log_level_t.
using PluginLogFn =
    std::function<void(int level, std::string_view plugin_id, std::string_view message)>;

// Services of one PluginHost, reachable from plugins through the host API during a call.
struct HostServices {
  ThreadPool* pool = nullptr;
  PluginLogFn log;  // empty: stderr
};

// Set on the calling thread for the duration of one call into a plugin; nests.
class CallScope {
 public:
  CallScope(const HostServices* services, std::string_view plugin_id);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // The message the plugin set with set_error during this scope ("" if none).
  const std::string& error() const { return error_; }

 private:
  friend struct HostApiAccess;
  const HostServices* services_;
  std::string_view plugin_id_;
  std::string error_;
  CallScope* previous_;
};

const smi_host_api_t* HostApiTable();

// Writes a log line the way the host API's log does (used by the host itself too).
void HostLog(const HostServices* services, int level, std::string_view plugin_id,
             std::string_view message);

// Copies a NUL-terminated string from plugin memory, at most `max_len` bytes, without faulting
// on a bad pointer: NULL, unmapped memory or a missing terminator yields an error naming `what`.
Result<std::string> SafeCopyString(const char* p, size_t max_len, std::string_view what);
// Copies `n` bytes from plugin memory into `dst`, failing cleanly on unreadable memory.
Status SafeCopyBytes(const void* src, void* dst, size_t n, std::string_view what);
// True if the first and last byte of [p, p + n) can be read.
bool IsReadable(const void* p, size_t n);

// Maps a plugin status code and message to a Status: "plugin 'id': <entry> failed: <msg>".
Status StatusFromSmi(int32_t code, std::string_view plugin_id, std::string_view entry,
                     std::string_view message);

}  // namespace mlos::runtime
