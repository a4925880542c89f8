// Bulk z generation on the CPU: the same values as rng::z (rng::gaussian_z
// and rng::rademacher_z) element by element, laid out so the compiler
// vectorises Philox and Box-Muller across blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mezo/counter_rng.hpp"

MEZO_BEGIN_NAMESPACE
namespace cpu {

// out[j] = z(seed, first + j) for j in [0, count).
void fill_gaussian(std::uint64_t seed, std::uint64_t first, float* out, std::size_t count);
void fill_rademacher(std::uint64_t seed, std::uint64_t first, float* out, std::size_t count);
// The one that `distribution` names: rng::z's choice, made once per range.
void fill_z(ZDistribution distribution, std::uint64_t seed, std::uint64_t first, float* out,
            std::size_t count);

}  // namespace cpu
MEZO_END_NAMESPACE
