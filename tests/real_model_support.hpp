// Where tests find the real models too large to commit, and how they skip
// without them. SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB): $MEZO_SMOLLM2_GGUF,
// else ${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/SmolLM2-135M-Instruct/,
// where tools/fetch_model.sh SmolLM2-135M-Instruct puts it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mezo_test {

inline std::filesystem::path model_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = xdg != nullptr && *xdg != '\0' ? std::filesystem::path(xdg)
                                     : home != nullptr ? std::filesystem::path(home) / ".cache"
                                                       : std::filesystem::path(".cache");
  return base / "libmezo" / "models";
}

// The SmolLM2-135M-Instruct GGUF, or an empty path when it is not there.
inline std::filesystem::path smollm2_gguf() {
  std::error_code ec;
  if (const char* env = std::getenv("MEZO_SMOLLM2_GGUF"); env != nullptr && *env != '\0') {
    return std::filesystem::is_regular_file(env, ec) ? std::filesystem::path(env)
                                                     : std::filesystem::path();
  }
  const auto path = model_cache_dir() / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  return std::filesystem::is_regular_file(path, ec) ? path : std::filesystem::path();
}

inline std::string smollm2_gguf_missing() {
  const char* env = std::getenv("MEZO_SMOLLM2_GGUF");
  return env != nullptr && *env != '\0'
             ? "MEZO_SMOLLM2_GGUF=" + std::string(env) + " is not a file"
             : "SmolLM2-135M-Instruct.Q4_1.gguf not found in " +
                   (model_cache_dir() / "SmolLM2-135M-Instruct").string() +
                   "; fetch it with tools/fetch_model.sh SmolLM2-135M-Instruct or set "
                   "MEZO_SMOLLM2_GGUF";
}

}  // namespace mezo_test

// Declares `var`, the SmolLM2 GGUF's path, or skips the test saying how to get it.
#define REQUIRE_SMOLLM2_GGUF(var)                              \
  const std::filesystem::path var = mezo_test::smollm2_gguf(); \
  if (var.empty()) GTEST_SKIP() << mezo_test::smollm2_gguf_missing()
