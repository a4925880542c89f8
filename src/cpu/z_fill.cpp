#include "cpu/z_fill.hpp"

#include <algorithm>
#include <array>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "mezo/counter_rng.hpp"

MEZO_BEGIN_NAMESPACE
namespace cpu {
namespace {

// 64 Philox blocks = 256 Gaussian values per batch: big enough to amortise the
// loop overhead, small enough that the scratch arrays stay in L1.
constexpr std::size_t kBlocksPerBatch = 64;
constexpr std::size_t kValuesPerBatch = 4 * kBlocksPerBatch;
// Fewer values than this are cheaper one by one (Philox per element) than as
// a full batch.
constexpr std::size_t kScalarBelow = 16;

// Writes z for the 4 * kBlocksPerBatch elements starting at 4 * first_block.
void gaussian_batch(std::uint64_t seed, std::uint64_t first_block, float* out) {
  // Box-Muller pair m = 2k uses words (w0, w1) of block k, pair 2k + 1 uses
  // (w2, w3); pair m yields elements 2m and 2m + 1.
  alignas(64) std::uint32_t radius_words[2 * kBlocksPerBatch];
  alignas(64) std::uint32_t angle_words[2 * kBlocksPerBatch];
  for (std::size_t k = 0; k < kBlocksPerBatch; ++k) {
    const rng::Philox4x32 w = rng::philox_block(seed, first_block + k);
    radius_words[2 * k] = w.v[0];
    angle_words[2 * k] = w.v[1];
    radius_words[2 * k + 1] = w.v[2];
    angle_words[2 * k + 1] = w.v[3];
  }
  // rng::box_muller, split into three loops with the same operations in the
  // same order (so the same bits). The sqrt has a loop of its own: under
  // -fmath-errno (GCC's default) each sqrtf keeps a branch to the libm call for
  // a negative argument, and that control flow stopped GCC vectorising the
  // whole Box-Muller loop; now only the sqrt loop is left to GCC's scalar
  // code, and on x86 we vectorise it by hand.
  alignas(64) float radii[2 * kBlocksPerBatch];
  alignas(64) float cosines[2 * kBlocksPerBatch];
  alignas(64) float sines[2 * kBlocksPerBatch];
  for (std::size_t m = 0; m < 2 * kBlocksPerBatch; ++m) {
    radii[m] = rng::mul_rn(-2.0f, rng::log_unit(rng::uniform_open0(radius_words[m])));
    rng::sincos_2pi(rng::uniform_open1(angle_words[m]), sines[m], cosines[m]);
  }
#if defined(__SSE__)
  // sqrtps is correctly rounded like sqrtss, so this is rng::sqrt_rn 4 lanes at a time.
  for (std::size_t m = 0; m < 2 * kBlocksPerBatch; m += 4) {
    _mm_store_ps(radii + m, _mm_sqrt_ps(_mm_load_ps(radii + m)));
  }
#else
  for (std::size_t m = 0; m < 2 * kBlocksPerBatch; ++m) radii[m] = rng::sqrt_rn(radii[m]);
#endif
  for (std::size_t m = 0; m < 2 * kBlocksPerBatch; ++m) {
    out[2 * m] = rng::mul_rn(radii[m], cosines[m]);
    out[2 * m + 1] = rng::mul_rn(radii[m], sines[m]);
  }
}

}  // namespace

void fill_gaussian(std::uint64_t seed, std::uint64_t first, float* out, std::size_t count) {
  alignas(64) float batch[kValuesPerBatch];
  std::uint64_t index = first;
  const std::uint64_t end = first + count;
  while (index < end) {
    const std::uint64_t batch_start = index - index % 4;  // the batch begins on a block
    const std::uint64_t batch_end = std::min<std::uint64_t>(batch_start + kValuesPerBatch, end);
    if (batch_end - batch_start <= kScalarBelow) {
      // A bias vector or a chunk's tail: a whole batch would be mostly waste.
      for (; index < batch_end; ++index) out[index - first] = rng::gaussian_z(seed, index);
      break;
    }
    gaussian_batch(seed, batch_start / 4, batch);
    std::copy(batch + (index - batch_start), batch + (batch_end - batch_start),
              out + (index - first));
    index = batch_end;
  }
}

void fill_rademacher(std::uint64_t seed, std::uint64_t first, float* out, std::size_t count) {
  // Bit b of a word as a lane mask, so a whole word's 32 signs are one
  // branch-free, vectorisable loop (a variable shift per lane is not SSE2).
  static constexpr auto kBit = [] {
    std::array<std::uint32_t, 32> bits{};
    for (std::uint32_t b = 0; b < 32; ++b) bits[b] = 1u << b;
    return bits;
  }();
  std::uint64_t index = first;
  const std::uint64_t end = first + count;
  while (index < end) {
    const std::uint64_t block = index / 128;
    const rng::Philox4x32 w = rng::philox_block(seed, block);
    const std::uint64_t block_end = std::min<std::uint64_t>((block + 1) * 128, end);
    if (index == block * 128 && block_end == index + 128) {  // a whole block: 4 words × 32 signs
      float* o = out + (index - first);
      for (int k = 0; k < 4; ++k) {
        const std::uint32_t word = w.v[k];
        for (int b = 0; b < 32; ++b) o[32 * k + b] = (word & kBit[b]) != 0 ? 1.0f : -1.0f;
      }
      index = block_end;
      continue;
    }
    for (; index < block_end; ++index) {
      const std::uint32_t word = w.v[(index >> 5) & 3u];
      out[index - first] = ((word >> (index & 31u)) & 1u) ? 1.0f : -1.0f;
    }
  }
}

void fill_z(ZDistribution distribution, std::uint64_t seed, std::uint64_t first, float* out,
            std::size_t count) {
  if (distribution == ZDistribution::gaussian) {  // as rng::z decides
    fill_gaussian(seed, first, out, count);
  } else {
    fill_rademacher(seed, first, out, count);
  }
}

}  // namespace cpu
MEZO_END_NAMESPACE
