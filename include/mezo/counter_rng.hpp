// Counter-based randomness shared by every backend: Philox4x32-10 and the
// transforms that turn its words into the perturbation direction z.
//
// z is a pure function of (seed, global element index). That is what lets a
// MeZO step regenerate z instead of storing it, split a parameter pass across
// any number of threads or CUDA blocks, and get the same bytes on the CPU and
// the GPU. The CUDA kernels include this header, so it must stay
// dependency-free and every function must be MEZO_HOST_DEVICE.
//
// Bit-identical results across CPU and GPU need more than the same generator:
// the float transforms below use only +, -, *, / and sqrt, each correctly
// rounded on both (explicit _rn intrinsics on the device), and our own
// polynomial log and sin/cos instead of libm/CUDA math, whose last bits differ.
// Translation units using them must not contract a*b+c into an FMA
// (libmezo builds with -ffp-contract=off; nvcc's intrinsics never contract).
//
// Element-to-counter mapping (fixed; changing it changes every trajectory):
//   Gaussian:   element i uses Philox block i/4 (counter = {lo32, hi32, 0, 0}
//               of i/4) and key = {lo32(seed), hi32(seed)}; words (w0, w1)
//               give elements 4b, 4b+1 and (w2, w3) give 4b+2, 4b+3 by one
//               Box-Muller transform each.
//   Rademacher: element i uses bit (i % 32) of word (i / 32) % 4 of Philox
//               block i / 128; a set bit is +1, a clear bit is -1.
#pragma once

#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// The distribution of z (see perturbation.hpp for the perturbations built on it).
enum class ZDistribution { gaussian, rademacher };

namespace rng {

struct Philox4x32 {
  std::uint32_t v[4];
};

MEZO_HOST_DEVICE inline void mulhilo32(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                       std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

// Philox4x32-10 (Salmon et al., SC'11), as in Random123: ten rounds, the key
// bumped by the Weyl constants between rounds.
MEZO_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 counter, std::uint32_t key0,
                                                 std::uint32_t key1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  std::uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(kMul0, c0, hi0, lo0);
    mulhilo32(kMul1, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

MEZO_HOST_DEVICE inline Philox4x32 philox_block(std::uint64_t seed, std::uint64_t block) {
  return philox4x32_10(
      {{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0u, 0u}},
      static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

// Correctly rounded float arithmetic that the compiler may not fuse.
MEZO_HOST_DEVICE inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MEZO_HOST_DEVICE inline float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
MEZO_HOST_DEVICE inline float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
MEZO_HOST_DEVICE inline float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
MEZO_HOST_DEVICE inline float sqrt_rn(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return __builtin_sqrtf(a);
#endif
}

MEZO_HOST_DEVICE inline std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  return __builtin_bit_cast(std::uint32_t, f);
#endif
}
MEZO_HOST_DEVICE inline float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  return __builtin_bit_cast(float, u);
#endif
}

// Uniform on (0, 1] and [0, 1) from the top 24 bits of a word: exact in fp32.
MEZO_HOST_DEVICE inline float uniform_open0(std::uint32_t w) {
  return static_cast<float>((w >> 8) + 1u) * 5.9604644775390625e-8f;  // 2^-24
}
MEZO_HOST_DEVICE inline float uniform_open1(std::uint32_t w) {
  return static_cast<float>(w >> 8) * 5.9604644775390625e-8f;
}

// Natural log of u in (0, 1]: u = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// ln m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716, by its series to
// s^11. Relative error below 2e-7 — far below what the statistics can see.
MEZO_HOST_DEVICE inline float log_unit(float u) {
  const std::uint32_t bits = float_bits(u);
  int exponent = static_cast<int>(bits >> 23) - 127;
  std::uint32_t mantissa_bits = (bits & 0x007FFFFFu) | 0x3F800000u;  // m in [1, 2)
  if (mantissa_bits > 0x3FB504F3u) {                                 // m > sqrt(2)
    mantissa_bits -= 0x00800000u;                                    // m / 2, exactly
    exponent += 1;
  }
  const float f = sub_rn(bits_float(mantissa_bits), 1.0f);  // exact (Sterbenz)
  const float s = div_rn(f, add_rn(2.0f, f));
  const float s2 = mul_rn(s, s);
  float series = 0.0909090909f;                       // 1/11
  series = add_rn(0.111111111f, mul_rn(s2, series));  // 1/9
  series = add_rn(0.142857143f, mul_rn(s2, series));  // 1/7
  series = add_rn(0.2f, mul_rn(s2, series));          // 1/5
  series = add_rn(0.333333333f, mul_rn(s2, series));  // 1/3
  const float two_s = add_rn(s, s);
  const float log_m = add_rn(two_s, mul_rn(mul_rn(two_s, s2), series));
  return add_rn(mul_rn(static_cast<float>(exponent), 0.693147182f), log_m);
}

// sin(2 pi t) and cos(2 pi t) for t in [0, 1). 4t splits exactly into a
// quadrant q and a remainder r in [-1/2, 1/2]; x = r * pi/2 lies in
// [-pi/4, pi/4], where short Taylor polynomials are accurate to ~1e-8.
MEZO_HOST_DEVICE inline void sincos_2pi(float t, float& sin_out, float& cos_out) {
  const float t4 = mul_rn(t, 4.0f);  // exact
  const float quadrant_f = static_cast<float>(static_cast<int>(add_rn(t4, 0.5f)));
  const int quadrant = static_cast<int>(quadrant_f) & 3;
  const float x = mul_rn(sub_rn(t4, quadrant_f), 1.57079632679f);  // remainder exact
  const float x2 = mul_rn(x, x);
  float sin_poly = 2.75573192e-6f;                          // 1/9!
  sin_poly = sub_rn(mul_rn(x2, sin_poly), 1.98412698e-4f);  // 1/7!
  sin_poly = add_rn(mul_rn(x2, sin_poly), 8.33333333e-3f);  // 1/5!
  sin_poly = sub_rn(mul_rn(x2, sin_poly), 0.166666667f);    // 1/3!
  const float sin_x = add_rn(x, mul_rn(mul_rn(x, x2), sin_poly));
  float cos_poly = -2.75573192e-7f;                         // -1/10!
  cos_poly = add_rn(mul_rn(x2, cos_poly), 2.48015873e-5f);  // 1/8!
  cos_poly = sub_rn(mul_rn(x2, cos_poly), 1.38888889e-3f);  // 1/6!
  cos_poly = add_rn(mul_rn(x2, cos_poly), 4.16666667e-2f);  // 1/4!
  cos_poly = sub_rn(mul_rn(x2, cos_poly), 0.5f);            // 1/2!
  const float cos_x = add_rn(1.0f, mul_rn(x2, cos_poly));
  // Rotate by quadrant * pi/2, branch-free so the CPU loop vectorises.
  const bool swap = (quadrant & 1) != 0;
  const float sin_base = swap ? cos_x : sin_x;
  const float cos_base = swap ? sin_x : cos_x;
  sin_out = (quadrant >= 2) ? -sin_base : sin_base;
  cos_out = (quadrant == 1 || quadrant == 2) ? -cos_base : cos_base;
}

// Box-Muller: two uniform words to two independent standard normals.
MEZO_HOST_DEVICE inline void box_muller(std::uint32_t w0, std::uint32_t w1, float& z0, float& z1) {
  const float radius = sqrt_rn(mul_rn(-2.0f, log_unit(uniform_open0(w0))));
  float s, c;
  sincos_2pi(uniform_open1(w1), s, c);
  z0 = mul_rn(radius, c);
  z1 = mul_rn(radius, s);
}

// The Gaussian z of one element (the vectorised passes compute four at once).
MEZO_HOST_DEVICE inline float gaussian_z(std::uint64_t seed, std::uint64_t index) {
  const Philox4x32 words = philox_block(seed, index >> 2);
  const unsigned lane = static_cast<unsigned>(index & 3u);
  float a, b;
  box_muller(words.v[lane & 2u], words.v[(lane & 2u) + 1u], a, b);
  return (lane & 1u) ? b : a;
}

MEZO_HOST_DEVICE inline float rademacher_z(std::uint64_t seed, std::uint64_t index) {
  const Philox4x32 words = philox_block(seed, index >> 7);
  const std::uint32_t word = words.v[(index >> 5) & 3u];
  return ((word >> (index & 31u)) & 1u) ? 1.0f : -1.0f;
}

// z of one element under `distribution`: the one place the choice is made for
// every backend (the CUDA passes and probed reads call it per element; the
// CPU's bulk fill, cpu::fill_z, makes the same choice once per range).
MEZO_HOST_DEVICE inline float z(ZDistribution distribution, std::uint64_t seed,
                                std::uint64_t index) {
  return distribution == ZDistribution::gaussian ? gaussian_z(seed, index)
                                                 : rademacher_z(seed, index);
}

// SplitMix64 finaliser: a bijective 64-bit mixer, used to derive seeds.
MEZO_HOST_DEVICE inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Every random draw of libmezo other than z (random weights, PEFT inits, the
// example's batch sampling) takes its key from stream_key(seed, stream, index):
// a pure function of its arguments on every platform and standard library
// (std::*_distribution differ between libstdc++ and libc++), and one named
// stream per use, so no two uses draw the same numbers. The values are
// arbitrary but fixed: changing one changes every result drawn from it.
enum class Stream : std::uint64_t {
  lora_init = 0x4C6F5241ull,                 // LoRA A matrices, index = factor
  prefix_tokens = 0x50726546ull,             // prefix tuning's real-activation tokens, index = token
  prefix_random = 0x52616E64ull,             // prefix tuning's random init, index = tensor
  encoder_random_weights = 0x456E635774ull,  // MaskedLM::random, index 0
  decoder_random_weights = 0x4465635774ull,  // CausalLM::random, index 0
  batch_sampling = 0x5851F42D4C957F2Dull,    // mezo-sst2's batches, index = step
};

MEZO_HOST_DEVICE inline std::uint64_t stream_key(std::uint64_t seed, Stream stream,
                                                 std::uint64_t index) {
  return mix64(seed ^ mix64(index + static_cast<std::uint64_t>(stream)));
}

// The 32-bit words of philox_block(key, 0), then of block 1, and so on: for
// draws that take an unknown number of words (rejection sampling).
class WordStream {
 public:
  MEZO_HOST_DEVICE explicit WordStream(std::uint64_t key) : key_(key) {}

  MEZO_HOST_DEVICE std::uint32_t next() {
    if (used_ == 4) {
      block_ = philox_block(key_, next_block_++);
      used_ = 0;
    }
    return block_.v[used_++];
  }

  // Uniform on [0, bound) for bound >= 1, without the bias of next() % bound:
  // Lemire's multiply-shift, redrawing the 2^32 mod bound products whose low
  // half would favour some values (a redraw happens with probability below
  // bound / 2^32).
  MEZO_HOST_DEVICE std::uint32_t below(std::uint32_t bound) {
    std::uint64_t product = static_cast<std::uint64_t>(next()) * bound;
    if (static_cast<std::uint32_t>(product) < bound) {
      const std::uint32_t threshold = (0u - bound) % bound;  // 2^32 mod bound
      while (static_cast<std::uint32_t>(product) < threshold) {
        product = static_cast<std::uint64_t>(next()) * bound;
      }
    }
    return static_cast<std::uint32_t>(product >> 32);
  }

 private:
  std::uint64_t key_;
  std::uint64_t next_block_ = 0;
  Philox4x32 block_{};
  unsigned used_ = 4;  // words of block_ handed out; 4 = draw the next block
};

}  // namespace rng
MEZO_END_NAMESPACE
