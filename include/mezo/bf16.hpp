// bfloat16 storage: the top 16 bits of an IEEE fp32. Shared verbatim by the
// CPU passes and the CUDA kernels (MEZO_HOST_DEVICE, no dependencies), so a
// bf16 weight rounds to the same bits on both.
//
// Arithmetic is never done in bf16: a pass loads bf16, computes in fp32 and
// rounds once when it stores.
#pragma once

#include <cstdint>

#include "mezo/config.hpp"
#include "mezo/counter_rng.hpp"

MEZO_BEGIN_NAMESPACE

// Exact: every bf16 value is an fp32 value.
MEZO_HOST_DEVICE inline float bf16_to_float(std::uint16_t bits) {
  return rng::bits_float(static_cast<std::uint32_t>(bits) << 16);
}

// fp32 → bf16, rounding to nearest with ties to even (what PyTorch's
// .to(torch.bfloat16) and CUDA's __float2bfloat16_rn do). Infinities stay
// infinities, values past the largest bf16 round to them, and a NaN stays a
// NaN (quietened, sign kept) rather than rounding into an infinity.
MEZO_HOST_DEVICE inline std::uint16_t float_to_bf16(float value) {
  const std::uint32_t bits = rng::float_bits(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  }
  const std::uint32_t lsb = (bits >> 16) & 1u;
  return static_cast<std::uint16_t>((bits + 0x7FFFu + lsb) >> 16);
}

// The fp32 value a bf16 store of `value` keeps.
MEZO_HOST_DEVICE inline float round_to_bf16(float value) {
  return bf16_to_float(float_to_bf16(value));
}

MEZO_END_NAMESPACE
