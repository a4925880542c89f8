#include "sampled_split.hpp"

#include <fmt/format.h>

#include <numeric>
#include <random>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

// A uniform value in [0, max] from 32-bit draws, as NumPy's random_interval
// for max < 2^32 (the only case here: n is a number of examples).
std::uint32_t random_interval(std::mt19937& mt, std::uint32_t max) {
  if (max == 0) return 0;
  std::uint32_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  std::uint32_t value;
  do {
    value = static_cast<std::uint32_t>(mt()) & mask;
  } while (value > max);
  return value;
}

}  // namespace

std::vector<std::size_t> numpy_permutation(std::size_t n, std::uint32_t seed) {
  if (n > 0xffffffffu)
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("numpy_permutation: {} elements is more than 2^32 - 1", n));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937 mt(seed);
  for (std::size_t i = n; i-- > 1;) {
    std::swap(order[i], order[random_interval(mt, static_cast<std::uint32_t>(i))]);
  }
  return order;
}

SampledSplit sample_split(std::size_t n, std::size_t num_train, std::size_t num_dev,
                          std::uint32_t seed) {
  if (num_train == 0 || num_dev == 0 || num_train + num_dev > n) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("cannot sample {} train + {} dev examples from {}: both must "
                                  "be at least 1 and together at most {}",
                                  num_train, num_dev, n, n));
  }
  const std::vector<std::size_t> order = numpy_permutation(n, seed);
  SampledSplit split;
  split.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(num_train));
  split.dev.assign(order.begin() + static_cast<std::ptrdiff_t>(num_train),
                   order.begin() + static_cast<std::ptrdiff_t>(num_train + num_dev));
  return split;
}

}  // namespace sst2
