#include "sampled_split.hpp"

#include <fmt/format.h>

#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"

namespace sst2 {
SampledSplit sample_split(std::size_t n, std::size_t num_train, std::size_t num_dev,
                          std::uint32_t seed) {
  if (num_train == 0 || num_dev == 0 || num_train + num_dev > n) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("cannot sample {} train + {} dev examples from {}: both must "
                                  "be at least 1 and together at most {}",
                                  num_train, num_dev, n, n));
  }
  const std::vector<std::size_t> order = mezo::numpy_permutation(n, seed);
  SampledSplit split;
  split.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(num_train));
  split.dev.assign(order.begin() + static_cast<std::ptrdiff_t>(num_train),
                   order.begin() + static_cast<std::ptrdiff_t>(num_train + num_dev));
  return split;
}

}  // namespace sst2
