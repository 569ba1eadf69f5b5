#include "runtime/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace mlos::runtime {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

void AppendEscaped(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20 || c == 0x7f) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(ch);
    }
  }
}

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug" || name == "trace") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off" || name == "none") return LogLevel::kOff;
  return InvalidArgument("log level '", name, "' is not one of debug, info, warn, error, off");
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed) &&
         level != LogLevel::kOff;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char ts[40];
  size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(ms % 1000));

  std::string line = "{\"ts\":\"";
  line.append(ts);
  line.append("\",\"level\":\"");
  line.append(LevelName(level));
  line.append("\",\"msg\":\"");
  AppendEscaped(msg, &line);
  line.push_back('"');
  for (const auto& [key, value] : fields) {
    line.append(",\"");
    AppendEscaped(key, &line);
    line.append("\":\"");
    AppendEscaped(value, &line);
    line.push_back('"');
  }
  line.append("}\n");
  [[maybe_unused]] ssize_t w = write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace mlos::runtime
