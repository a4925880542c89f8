// Block decoders for the ggml types libmezo reads. Each follows ggml's
// dequantize_row_* (ggml-quants.c) operation for operation, in fp32 with no
// FMA contraction (the library is built with -ffp-contract=off), so the
// results are ggml's bits. The block layouts are ggml-common.h's.
#include "gguf_dequantize.hpp"

#include <bit>
#include <cmath>
#include <cstring>

MEZO_BEGIN_NAMESPACE
namespace detail {

static_assert(std::endian::native == std::endian::little,
              "GGUF blocks are little-endian; a big-endian host would need byte swaps");

namespace {

constexpr std::uint32_t kQK = 32;     // elements per block of the legacy types
constexpr std::uint32_t kQK_K = 256;  // elements per super-block of the K types

std::uint16_t load_u16(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float load_half(const unsigned char* p) { return half_to_float(load_u16(p)); }

// block_q4_0 {fp16 d; u8 qs[16]}: low nibble element j, high nibble j + 16.
void block_q4_0(const unsigned char* b, float* y) {
  const float d = load_half(b);
  const unsigned char* qs = b + 2;
  for (std::uint32_t j = 0; j < kQK / 2; ++j) {
    const int x0 = (qs[j] & 0x0F) - 8;
    const int x1 = (qs[j] >> 4) - 8;
    y[j] = static_cast<float>(x0) * d;
    y[j + kQK / 2] = static_cast<float>(x1) * d;
  }
}

// block_q4_1 {fp16 d, m; u8 qs[16]}.
void block_q4_1(const unsigned char* b, float* y) {
  const float d = load_half(b);
  const float m = load_half(b + 2);
  const unsigned char* qs = b + 4;
  for (std::uint32_t j = 0; j < kQK / 2; ++j) {
    const int x0 = qs[j] & 0x0F;
    const int x1 = qs[j] >> 4;
    y[j] = static_cast<float>(x0) * d + m;
    y[j + kQK / 2] = static_cast<float>(x1) * d + m;
  }
}

// block_q5_0 {fp16 d; u8 qh[4] (bit j = 5th bit of element j); u8 qs[16]}.
void block_q5_0(const unsigned char* b, float* y) {
  const float d = load_half(b);
  std::uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const unsigned char* qs = b + 6;
  for (std::uint32_t j = 0; j < kQK / 2; ++j) {
    const std::uint32_t xh0 = ((qh >> j) << 4) & 0x10;
    const std::uint32_t xh1 = (qh >> (j + 12)) & 0x10;
    const int x0 = static_cast<int>((qs[j] & 0x0Fu) | xh0) - 16;
    const int x1 = static_cast<int>((qs[j] >> 4) | xh1) - 16;
    y[j] = static_cast<float>(x0) * d;
    y[j + kQK / 2] = static_cast<float>(x1) * d;
  }
}

// block_q5_1 {fp16 d, m; u8 qh[4]; u8 qs[16]}.
void block_q5_1(const unsigned char* b, float* y) {
  const float d = load_half(b);
  const float m = load_half(b + 2);
  std::uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const unsigned char* qs = b + 8;
  for (std::uint32_t j = 0; j < kQK / 2; ++j) {
    const std::uint32_t xh0 = ((qh >> j) << 4) & 0x10;
    const std::uint32_t xh1 = (qh >> (j + 12)) & 0x10;
    const int x0 = static_cast<int>((qs[j] & 0x0Fu) | xh0);
    const int x1 = static_cast<int>((qs[j] >> 4) | xh1);
    y[j] = static_cast<float>(x0) * d + m;
    y[j + kQK / 2] = static_cast<float>(x1) * d + m;
  }
}

// block_q8_0 {fp16 d; i8 qs[32]}.
void block_q8_0(const unsigned char* b, float* y) {
  const float d = load_half(b);
  for (std::uint32_t j = 0; j < kQK; ++j) {
    const auto q = static_cast<std::int8_t>(b[2 + j]);
    y[j] = static_cast<float>(q) * d;
  }
}

// The j-th 6-bit scale and min of a Q4_K/Q5_K super-block's 12 packed bytes
// (ggml's get_scale_min_k4): j < 4 in the low 6 bits of bytes j and j + 4;
// j >= 4 in a nibble of byte j + 4 plus the top 2 bits of byte j - 4 / j.
void scale_min_k4(std::uint32_t j, const unsigned char* q, std::uint32_t& scale,
                  std::uint32_t& min) {
  if (j < 4) {
    scale = q[j] & 63u;
    min = q[j + 4] & 63u;
  } else {
    scale = (q[j + 4] & 0x0Fu) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// block_q4_K {fp16 d, dmin; u8 scales[12]; u8 qs[128]}: 8 sub-blocks of 32,
// y = d*scale * q - dmin*min; each 32 bytes of qs hold two sub-blocks (low
// nibbles, then high nibbles).
void block_q4_k(const unsigned char* b, float* y) {
  const float d = load_half(b);
  const float dmin = load_half(b + 2);
  const unsigned char* scales = b + 4;
  const unsigned char* q = b + 16;
  std::uint32_t is = 0;
  for (std::uint32_t j = 0; j < kQK_K; j += 64) {
    std::uint32_t sc = 0, m = 0;
    scale_min_k4(is + 0, scales, sc, m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = dmin * static_cast<float>(m);
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * static_cast<float>(sc);
    const float m2 = dmin * static_cast<float>(m);
    for (std::uint32_t l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
    for (std::uint32_t l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
    is += 2;
  }
}

// block_q6_K {u8 ql[128] (low 4 bits); u8 qh[64] (high 2 bits); i8 scales[16];
// fp16 d}: 16 sub-blocks of 16, y = d * scale * (q - 32), in two halves of 128.
void block_q6_k(const unsigned char* b, float* y) {
  const unsigned char* ql = b;
  const unsigned char* qh = b + 128;
  const auto* sc = reinterpret_cast<const std::int8_t*>(b + 192);
  const float d = load_half(b + 208);
  for (std::uint32_t n = 0; n < kQK_K; n += 128) {
    for (std::uint32_t l = 0; l < 32; ++l) {
      const std::uint32_t is = l / 16;
      const int q1 = static_cast<int>((ql[l] & 0x0Fu) | (((qh[l] >> 0) & 3u) << 4)) - 32;
      const int q2 = static_cast<int>((ql[l + 32] & 0x0Fu) | (((qh[l] >> 2) & 3u) << 4)) - 32;
      const int q3 = static_cast<int>((ql[l] >> 4) | (((qh[l] >> 4) & 3u) << 4)) - 32;
      const int q4 = static_cast<int>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3u) << 4)) - 32;
      // ggml: d * sc * q, evaluated left to right.
      y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace

bool ggml_block_layout(std::uint32_t type, GgmlBlockLayout& layout) noexcept {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::f32:
      layout = {1, 4};
      return true;
    case GgmlType::f16:
    case GgmlType::bf16:
      layout = {1, 2};
      return true;
    case GgmlType::q4_0:
      layout = {kQK, 18};
      return true;
    case GgmlType::q4_1:
      layout = {kQK, 20};
      return true;
    case GgmlType::q5_0:
      layout = {kQK, 22};
      return true;
    case GgmlType::q5_1:
      layout = {kQK, 24};
      return true;
    case GgmlType::q8_0:
      layout = {kQK, 34};
      return true;
    case GgmlType::q8_1:
      layout = {kQK, 36};
      return true;
    case GgmlType::q2_k:
      layout = {kQK_K, 84};
      return true;
    case GgmlType::q3_k:
      layout = {kQK_K, 110};
      return true;
    case GgmlType::q4_k:
      layout = {kQK_K, 144};
      return true;
    case GgmlType::q5_k:
      layout = {kQK_K, 176};
      return true;
    case GgmlType::q6_k:
      layout = {kQK_K, 210};
      return true;
  }
  return false;
}

bool can_dequantize(GgmlType type) noexcept {
  switch (type) {
    case GgmlType::f32:
    case GgmlType::f16:
    case GgmlType::bf16:
    case GgmlType::q4_0:
    case GgmlType::q4_1:
    case GgmlType::q5_0:
    case GgmlType::q5_1:
    case GgmlType::q8_0:
    case GgmlType::q4_k:
    case GgmlType::q6_k:
      return true;
    default:
      return false;
  }
}

void dequantize_block(GgmlType type, const unsigned char* block, float* out) {
  switch (type) {
    case GgmlType::f32:
      std::memcpy(out, block, 4);
      return;
    case GgmlType::f16:
      *out = half_to_float(load_u16(block));
      return;
    case GgmlType::bf16:
      *out = bf16_to_float(load_u16(block));
      return;
    case GgmlType::q4_0:
      return block_q4_0(block, out);
    case GgmlType::q4_1:
      return block_q4_1(block, out);
    case GgmlType::q5_0:
      return block_q5_0(block, out);
    case GgmlType::q5_1:
      return block_q5_1(block, out);
    case GgmlType::q8_0:
      return block_q8_0(block, out);
    case GgmlType::q4_k:
      return block_q4_k(block, out);
    case GgmlType::q6_k:
      return block_q6_k(block, out);
    default:
      return;  // callers check can_dequantize first
  }
}

void dequantize_row(GgmlType type, const unsigned char* blocks, std::span<float> out) {
  GgmlBlockLayout layout;
  if (!ggml_block_layout(static_cast<std::uint32_t>(type), layout) || !can_dequantize(type)) return;
  const auto n_blocks = static_cast<std::int64_t>(out.size() / layout.block_size);
  if (type == GgmlType::f32) {
    if (!out.empty()) std::memcpy(out.data(), blocks, out.size() * sizeof(float));
    return;
  }
  // Threads only pay off beyond a few hundred thousand elements; each block
  // is decoded by one thread with the same operations either way.
  const bool parallel = out.size() >= (std::size_t{1} << 18);
  float* y = out.data();
  const std::uint32_t size = layout.block_size;
  const std::uint32_t bytes = layout.block_bytes;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t i = 0; i < n_blocks; ++i) {
    dequantize_block(type, blocks + static_cast<std::size_t>(i) * bytes,
                     y + static_cast<std::size_t>(i) * size);
  }
}

}  // namespace detail
MEZO_END_NAMESPACE
