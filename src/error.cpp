#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid argument";
    case ErrorCode::invalid_format:
      return "invalid format";
    case ErrorCode::io:
      return "I/O error";
    case ErrorCode::unsupported:
      return "unsupported";
    case ErrorCode::internal:
      return "internal error";
    case ErrorCode::distributed:
      return "distributed run error";
  }
  return "unknown error";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

MEZO_END_NAMESPACE
