// Structured logging: one JSON object per line on stderr,
// {"ts":"2026-01-01T00:00:00.123Z","level":"info","msg":"...","key":"value",...}.
//
// Thread-safety: Log() may be called from any thread; each line is written with one write(2)
// so lines from different threads never interleave. The level is a process-wide atomic set
// once at start-up (the one piece of global state here: logging is process-wide by nature).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "mlos/status.h"

namespace mlos::runtime {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

Result<LogLevel> ParseLogLevel(std::string_view name);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

}  // namespace mlos::runtime
