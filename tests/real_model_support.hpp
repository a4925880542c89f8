// Where tests find the real models too large to commit, and how they skip
// without them. Each is at $ENV when set, else in
// ${XDG_CACHE_HOME:-$HOME/.cache}/libmezo/models/NAME/, where
// tools/fetch_model.sh NAME puts it:
//   SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB)   $MEZO_SMOLLM2_GGUF
//   gemma-3-270m (Q4_K_M GGUF, 253 MB)         $MEZO_GEMMA3_GGUF
//   Qwen2.5-Coder-0.5B-Instruct (GGUF, 491 MB) $MEZO_QWEN25_05B_GGUF
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mezo_test {

struct RealModel {
  const char* env;   // the variable that names the file
  const char* name;  // tools/fetch_model.sh's name, and the cache folder's
  const char* file;  // in that folder
};
inline constexpr RealModel kSmolLM2{"MEZO_SMOLLM2_GGUF", "SmolLM2-135M-Instruct",
                                    "SmolLM2-135M-Instruct.Q4_1.gguf"};
inline constexpr RealModel kGemma3{"MEZO_GEMMA3_GGUF", "gemma-3-270m", "gemma-3-270m-q4_k_m.gguf"};
inline constexpr RealModel kQwen25Coder05B{"MEZO_QWEN25_05B_GGUF", "Qwen2.5-Coder-0.5B-Instruct",
                                           "Qwen2.5-Coder-0.5B-Instruct.gguf"};

inline std::filesystem::path model_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = xdg != nullptr && *xdg != '\0' ? std::filesystem::path(xdg)
                                     : home != nullptr ? std::filesystem::path(home) / ".cache"
                                                       : std::filesystem::path(".cache");
  return base / "libmezo" / "models";
}

// The model's file, or an empty path when it is not there.
inline std::filesystem::path real_model_file(const RealModel& model) {
  std::error_code ec;
  if (const char* env = std::getenv(model.env); env != nullptr && *env != '\0') {
    return std::filesystem::is_regular_file(env, ec) ? std::filesystem::path(env)
                                                     : std::filesystem::path();
  }
  const auto path = model_cache_dir() / model.name / model.file;
  return std::filesystem::is_regular_file(path, ec) ? path : std::filesystem::path();
}

inline std::string real_model_missing(const RealModel& model) {
  const char* env = std::getenv(model.env);
  return env != nullptr && *env != '\0'
             ? std::string(model.env) + "=" + env + " is not a file"
             : std::string(model.file) + " not found in " +
                   (model_cache_dir() / model.name).string() + "; fetch it with " +
                   "tools/fetch_model.sh " + model.name + " or set " + model.env;
}

}  // namespace mezo_test

// Declares `var`, the path of `model` (a mezo_test::RealModel), or skips the
// test saying how to get it.
#define REQUIRE_REAL_MODEL(var, model)                                 \
  const std::filesystem::path var = mezo_test::real_model_file(model); \
  if (var.empty()) GTEST_SKIP() << mezo_test::real_model_missing(model)
#define REQUIRE_SMOLLM2_GGUF(var) REQUIRE_REAL_MODEL(var, mezo_test::kSmolLM2)
#define REQUIRE_GEMMA3_GGUF(var) REQUIRE_REAL_MODEL(var, mezo_test::kGemma3)
