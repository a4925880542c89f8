#include "batch_sampler.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "mezo/counter_rng.hpp"

namespace sst2 {

std::vector<std::size_t> sample_batch(std::uint64_t run_seed, std::int64_t step,
                                      std::size_t train_size, std::size_t batch) {
  if (train_size > 0xFFFFFFFFu) {
    throw std::invalid_argument("sample_batch: " + std::to_string(train_size) +
                                " training examples; at most 2^32 - 1 are supported");
  }
  batch = std::min(batch, train_size);
  mezo::rng::WordStream words(mezo::rng::stream_key(run_seed, mezo::rng::Stream::batch_sampling,
                                                    static_cast<std::uint64_t>(step)));
  std::vector<std::size_t> order(train_size);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<std::size_t> out;
  out.reserve(batch);
  for (std::size_t i = 0; i < batch; ++i) {  // partial Fisher-Yates: distinct examples
    const std::size_t pick = i + words.below(static_cast<std::uint32_t>(train_size - i));
    std::swap(order[i], order[pick]);
    out.push_back(order[i]);
  }
  return out;
}

}  // namespace sst2
