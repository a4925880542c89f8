#include "mezo/log.hpp"

#include <mutex>
#include <utility>

MEZO_BEGIN_NAMESPACE

namespace {
// The sink is process-wide state by design: diagnostics have one destination
// per application, chosen by the application.
std::mutex& sink_mutex() {
  static std::mutex mutex;
  return mutex;
}
LogSink& installed_sink() {
  static LogSink sink;
  return sink;
}
}  // namespace

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "unknown";
}

LogSink set_log_sink(LogSink sink) {
  std::lock_guard lock(sink_mutex());
  return std::exchange(installed_sink(), std::move(sink));
}

void log(LogLevel level, std::string_view message) {
  LogSink sink;
  {
    std::lock_guard lock(sink_mutex());
    sink = installed_sink();
  }
  if (sink) sink(level, message);
}

MEZO_END_NAMESPACE
