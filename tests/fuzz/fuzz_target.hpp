// The frame every fuzz target is written in. A target is a function of the
// input bytes that must return normally for every input: mezo::Error is the
// one allowed way for libmezo to refuse bad input, so the target catches it
// and nothing else. Anything else (another exception, a crash, a leak, UB
// found by the sanitizers, a hang) is a bug the fuzzer reports.
//
// Each target is compiled twice:
//   - into its own libFuzzer program (tests/fuzz/CMakeLists.txt, fuzz preset),
//     where MEZO_LIBFUZZER_TARGET names it and MEZO_FUZZ_TARGET also defines
//     LLVMFuzzerTestOneInput;
//   - into tests/fuzz_corpus_test.cpp, which replays every seed and every
//     kept crashing input through all targets in the ordinary test suite.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mezo/error.hpp"

namespace mezo_fuzz {

// Runs `body` and swallows mezo::Error (the documented refusal of bad input).
template <class Body>
int refuse_quietly(Body&& body) {
  try {
    body();
  } catch (const mezo::Error&) {
  }
  return 0;
}

// A per-process scratch folder, in memory where the system has one: the
// file-based loaders are fuzzed through real files.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    auto d = base / ("mezo-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes `bytes` to scratch_dir()/name, replacing it, and returns the path.
inline std::filesystem::path write_scratch(std::string_view name, std::string_view bytes) {
  auto path = scratch_dir() / std::string(name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("fuzz harness: cannot write " + path.string());
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::fclose(f);
    throw std::runtime_error("fuzz harness: short write to " + path.string());
  }
  std::fclose(f);
  return path;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The shared data folder (real vocabularies), from MEZO_SHARED_DATA_DIR in
// the environment or the one the build was configured with.
inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("MEZO_SHARED_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return MEZO_SHARED_DATA_DIR;
}

}  // namespace mezo_fuzz

#ifdef MEZO_LIBFUZZER_TARGET
#define MEZO_FUZZ_ENTRY(name)                                                        \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return mezo_fuzz::name(data, size);                                               \
  }
#else
#define MEZO_FUZZ_ENTRY(name)
#endif

// MEZO_FUZZ_TARGET(name) { ...body using data, size... }
#define MEZO_FUZZ_TARGET(name)                                          \
  namespace mezo_fuzz {                                                 \
  int name(const std::uint8_t* data, std::size_t size);                 \
  }                                                                     \
  MEZO_FUZZ_ENTRY(name)                                                 \
  int mezo_fuzz::name(const std::uint8_t* data, std::size_t size)
