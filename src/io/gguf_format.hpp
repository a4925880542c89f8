// What the GGUF reader and writer agree on: the magic, the limits ggml's
// reader enforces (src/gguf.cpp), and facts about metadata value types.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "mezo/config.hpp"
#include "mezo/io/gguf.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail::gguf {

inline constexpr std::string_view kMagic = "GGUF";
inline constexpr std::uint32_t kWriteVersion = 3;
// ggml's limits: a longer string or array is a corrupt length, not data.
inline constexpr std::uint64_t kMaxStringBytes = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxArrayElements = std::uint64_t{1} << 30;
inline constexpr std::uint32_t kMaxDims = 4;
inline constexpr std::uint64_t kDefaultAlignment = 32;
inline constexpr std::string_view kAlignmentKey = "general.alignment";

// Bytes of one scalar of `type` in the file; 0 for STRING, ARRAY and numbers
// GGUF does not define.
constexpr std::uint64_t scalar_bytes(GgufValueType type) noexcept {
  switch (type) {
    case GgufValueType::uint8:
    case GgufValueType::int8:
    case GgufValueType::boolean:
      return 1;
    case GgufValueType::uint16:
    case GgufValueType::int16:
      return 2;
    case GgufValueType::uint32:
    case GgufValueType::int32:
    case GgufValueType::float32:
      return 4;
    case GgufValueType::uint64:
    case GgufValueType::int64:
    case GgufValueType::float64:
      return 8;
    case GgufValueType::string:
    case GgufValueType::array:
      return 0;
  }
  return 0;
}

constexpr bool is_integer(GgufValueType type) noexcept {
  switch (type) {
    case GgufValueType::uint8:
    case GgufValueType::int8:
    case GgufValueType::uint16:
    case GgufValueType::int16:
    case GgufValueType::uint32:
    case GgufValueType::int32:
    case GgufValueType::uint64:
    case GgufValueType::int64:
      return true;
    default:
      return false;
  }
}

constexpr bool is_float(GgufValueType type) noexcept {
  return type == GgufValueType::float32 || type == GgufValueType::float64;
}

constexpr bool is_known(std::uint32_t type) noexcept {
  return type <= static_cast<std::uint32_t>(GgufValueType::float64);
}

// The range of an integer type other than UINT64 (whose values do not all fit
// in int64; see GgufValue).
constexpr void integer_range(GgufValueType type, std::int64_t& lo, std::int64_t& hi) noexcept {
  switch (type) {
    case GgufValueType::uint8:
      lo = 0, hi = std::numeric_limits<std::uint8_t>::max();
      return;
    case GgufValueType::int8:
      lo = std::numeric_limits<std::int8_t>::min(), hi = std::numeric_limits<std::int8_t>::max();
      return;
    case GgufValueType::uint16:
      lo = 0, hi = std::numeric_limits<std::uint16_t>::max();
      return;
    case GgufValueType::int16:
      lo = std::numeric_limits<std::int16_t>::min(), hi = std::numeric_limits<std::int16_t>::max();
      return;
    case GgufValueType::uint32:
      lo = 0, hi = std::numeric_limits<std::uint32_t>::max();
      return;
    case GgufValueType::int32:
      lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
      return;
    case GgufValueType::boolean:
      lo = 0, hi = 1;
      return;
    default:
      lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
      return;
  }
}

}  // namespace detail::gguf
MEZO_END_NAMESPACE
