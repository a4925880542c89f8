// The MeZO paper's data protocol for decoders (its reference code,
// large_models/tasks.py, Dataset.sample_train_sets with num_dev):
//   np.random.seed(seed)
//   index = np.random.permutation(len(train))[:num_train + num_dev]
//   train = the first num_train of those examples, dev = the last num_dev
// and the test set is the whole GLUE validation set. Train and dev are
// disjoint by construction and a pure function of (n, sizes, seed). Applied
// to GLUE's train.tsv this draws the reference code's examples, provided its
// Hugging Face glue/sst2 train split lists the rows in train.tsv's order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sst2 {

struct SampledSplit {
  std::vector<std::size_t> train, dev;  // indices into the n source examples
};

// Throws mezo::Error when num_train + num_dev > n or either is 0.
SampledSplit sample_split(std::size_t n, std::size_t num_train, std::size_t num_dev,
                          std::uint32_t seed);

// np.random.permutation(n) after np.random.seed(seed): NumPy's legacy
// MT19937 (seeded by init_genrand, as std::mt19937 is) and its Fisher-Yates
// shuffle from the end with bounded draws by masked rejection
// (random_interval). The same algorithm is inside libmezo's k-shot split
// generator (tests/sst2/sampled_split_test.cpp checks the two agree); it is
// not public API, hence this copy.
std::vector<std::size_t> numpy_permutation(std::size_t n, std::uint32_t seed);

}  // namespace sst2
