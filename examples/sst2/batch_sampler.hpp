// Which training examples a step of mezo-sst2 trains on. Self-contained (the
// standard library and mezo/counter_rng.hpp only), so that
// tests/portable_random builds it under libc++ as well as libstdc++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sst2 {

// The examples of step t: `batch` distinct indices below train_size (all of
// them, shuffled, when batch >= train_size), a pure function of (run seed, t)
// on every platform and standard library, so a resumed run draws the batches
// the uninterrupted one would. A partial Fisher-Yates shuffle whose picks are
// unbiased draws from the rng::Stream::batch_sampling stream of counter_rng.hpp.
// Throws std::invalid_argument for train_size >= 2^32.
std::vector<std::size_t> sample_batch(std::uint64_t run_seed, std::int64_t step,
                                      std::size_t train_size, std::size_t batch);

}  // namespace sst2
