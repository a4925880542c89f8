// The 16-bit float formats checkpoints store (IEEE binary16 and bfloat16),
// converted to and from fp32: one definition for the safetensors and GGUF
// readers and the GGUF writer.
#pragma once

#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// IEEE binary16 <-> binary32. half_to_float is exact for all 65536 patterns
// (a NaN keeps its sign and payload); float_to_half rounds to nearest even,
// overflowing to inf, and keeps NaNs NaN.
float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_half(float f) noexcept;
float bf16_to_float(std::uint16_t b) noexcept;

}  // namespace detail
MEZO_END_NAMESPACE
