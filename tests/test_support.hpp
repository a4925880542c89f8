// Helpers shared by the test programs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mezo/error.hpp>
#include <mezo/model/language_model.hpp>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "byte_token.hpp"

// GoogleTest prints a ComputePrecision parameter by name ("fp32", "bf16")
// instead of as a 4-byte object (found by argument-dependent lookup).
MEZO_BEGIN_NAMESPACE
inline void PrintTo(ComputePrecision precision, std::ostream* out) { *out << to_string(precision); }
MEZO_END_NAMESPACE

// In a test of `precision`: skips, saying why, where this CPU or build cannot
// compute in it (bf16 needs oneDNN and AVX-512).
#define SKIP_UNLESS_COMPUTE_AVAILABLE(precision)                                         \
  do {                                                                                   \
    if (std::string why_not; !mezo::compute_available(precision, &why_not))              \
      GTEST_SKIP() << mezo::to_string(precision) << " is unavailable here: " << why_not; \
  } while (false)

namespace mezo_test {

namespace fs = std::filesystem;

// A fresh directory, named after the process, the test and a count (a test
// may hold several), removed when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    static int count = 0;
    // A parameterised test's name ("Case/fzoo") must not make a subdirectory.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');
    path_ = fs::temp_directory_path() / ("mezo_test_" + std::to_string(::getpid()) + "_" + test +
                                         "_" + std::to_string(count++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// True when `a` and `b` hold the same floats bit for bit (NaN == NaN, −0 != +0).
inline bool same_bytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Writes `bytes` to `path` (replacing it) and returns the path.
inline fs::path write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << path;
  return path;
}

// The whole contents of `path` ("" when it cannot be read).
inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// n draws of N(0, scale²) from mt19937(seed).
inline std::vector<float> random_f32(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> w(n);
  for (auto& v : w) v = dist(gen);
  return w;
}

// The IEEE bits of f, for bit-for-bit comparisons that tell -0 from 0 and NaNs apart.
inline std::uint32_t bits_of(float f) { return std::bit_cast<std::uint32_t>(f); }

// Runs `f`, which must throw mezo::Error with `code`, and returns the message.
inline std::string error_of(const std::function<void()>& f, mezo::ErrorCode code) {
  try {
    f();
  } catch (const mezo::Error& e) {
    EXPECT_STREQ(mezo::to_string(e.code()), mezo::to_string(code)) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-mezo exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

}  // namespace mezo_test

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)
