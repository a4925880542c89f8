// The one error mechanism of the libmezo API: every failure is a mezo::Error
// exception whose message names the file, field, tensor or value at fault and
// what was expected. Library code never exits, aborts or prints.
#pragma once

#include <stdexcept>
#include <string>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class ErrorCode {
  invalid_argument,  // a bad option, shape or value passed by the caller
  invalid_format,    // a file or record that does not parse or is inconsistent
  io,                // the operating system refused a read or write
  unsupported,       // valid, but not built in (e.g. CUDA memory without CUDA)
  internal,          // a libmezo bug
  distributed,       // other ranks of a distributed run did not answer in time or disagree
};

MEZO_API const char* to_string(ErrorCode code) noexcept;

class MEZO_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

MEZO_END_NAMESPACE
