// ggml tensor types: their block geometry, fp16 conversions, and decoding of
// stored blocks to fp32 exactly as ggml's dequantize_row_* (ggml-quants.c).
#pragma once

#include "io/half_float.hpp"

#include <cstdint>
#include <span>

#include "mezo/config.hpp"
#include "mezo/io/gguf.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// A type stores `block_size` elements in `block_bytes` bytes (1 element per
// "block" for F32/F16/BF16).
struct GgmlBlockLayout {
  std::uint32_t block_size = 0;
  std::uint32_t block_bytes = 0;
};

// The layout of `type`, or false if libmezo does not know its layout (a number
// ggml does not define, or a type whose blocks we never read, such as the IQ
// family): such tensors are refused when a file is opened.
bool ggml_block_layout(std::uint32_t type, GgmlBlockLayout& layout) noexcept;

// Whether dequantize_row can decode `type`.
bool can_dequantize(GgmlType type) noexcept;

// half_to_float, float_to_half, bf16_to_float: io/half_float.hpp.

// Decodes `out.size()` elements (a multiple of the type's block size) from the
// blocks at `blocks` (out.size() / block_size * block_bytes bytes), each block
// independently; large tensors are split over OpenMP threads by whole blocks,
// so the result does not depend on the thread count. `type` must satisfy
// can_dequantize.
void dequantize_row(GgmlType type, const unsigned char* blocks, std::span<float> out);

// One block (block_size elements) of a quantized type; what dequantize_row
// does per block, exposed so tests can compare against a serial decode.
void dequantize_block(GgmlType type, const unsigned char* block, float* out);

}  // namespace detail
MEZO_END_NAMESPACE
