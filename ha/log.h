// Structured logging: one line per event on stderr,
//   ts=2026-12-03T12:00:00.123Z level=info component=elector msg="..." k=v
// Values holding spaces, quotes or '=' are quoted. Callers never pass
// secrets: connection strings are logged only in their redacted form.
//
// Thread-safety: all functions are safe from any thread; lines never
// interleave.

#ifndef CPHA_HA_LOG_H_
#define CPHA_HA_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cpha {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn" or "error"; nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view text);

// Events below `level` are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, int64_t v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}

  std::string_view key;
  std::string value;
};

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields = {});

// Formats one line without the trailing newline; exposed for tests.
std::string FormatLogLine(LogLevel level, std::string_view component,
                          std::string_view message,
                          std::initializer_list<LogField> fields);

}  // namespace cpha

#endif  // CPHA_HA_LOG_H_
