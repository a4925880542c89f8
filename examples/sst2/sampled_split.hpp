// The MeZO paper's data protocol for decoders (its reference code,
// large_models/tasks.py, Dataset.sample_train_sets with num_dev):
//   np.random.seed(seed)
//   index = np.random.permutation(len(train))[:num_train + num_dev]
//   train = the first num_train of those examples, dev = the last num_dev
// and the test set is the whole GLUE validation set. Train and dev are
// disjoint by construction and a pure function of (n, sizes, seed)
// (mezo::numpy_permutation draws the permutation). Applied
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

}  // namespace sst2
