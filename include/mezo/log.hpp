// Diagnostics sink. libmezo never prints; it reports warnings and progress to
// the sink the application installs (none by default, so it is silent).
#pragma once

#include <functional>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class LogLevel { debug, info, warning, error };

MEZO_API const char* to_string(LogLevel level) noexcept;

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Installs `sink` for the whole process (an empty function silences libmezo)
// and returns the previous one. Safe to call from any thread; the sink itself
// may be called from several threads at once.
MEZO_API LogSink set_log_sink(LogSink sink);

// Sends one message to the installed sink, if any.
MEZO_API void log(LogLevel level, std::string_view message);

MEZO_END_NAMESPACE
