// Numbers drawn from libmezo's counter-based streams (mezo/counter_rng.hpp),
// pinned: the same bits under libstdc++ and libc++, on any thread count, now
// and later. check.cpp compares them under whatever standard library it is
// built with (CI builds it with clang++ -stdlib=libc++ too), and
// tests/masked_lm_test.cpp compares MaskedLM::random's weights with them.
// `portable_random_check --print` prints this table; change it only with the
// generator, knowing that every random model and SST-2 batch changes with it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pinned {

inline constexpr std::uint64_t kSeed = 42;

// MaskedLM::random(config, kSeed): element i of its buffer is 0.02 ·
// rng::gaussian_z(rng::stream_key(kSeed, Stream::encoder_random_weights, 0), i)
// in every matrix; its fp32 bits at these i, all inside the word embeddings
// (the buffer's first tensor) of a model of 600 × 64 or larger.
inline constexpr std::uint64_t kEncoderWeightIndex[] = {0, 1, 2, 3, 4, 5, 1000, 31337};
inline constexpr std::uint32_t kEncoderWeightBits[] = {0xBB2A5F4Bu, 0xBBD33EABu, 0xBC9447ADu,
                                                       0xBB7C9CFCu, 0x3B402429u, 0xBBD92219u,
                                                       0xBB731A3Cu, 0xBD1A7ED1u};

// mezo-sst2's batch of step kBatchStep: sst2::sample_batch(kSeed, kBatchStep,
// kBatchTrainSize, size of kBatch).
inline constexpr std::int64_t kBatchStep = 7;
inline constexpr std::size_t kBatchTrainSize = 32;
inline constexpr std::size_t kBatch[] = {14, 13, 31, 16, 22, 25, 9, 30,
                                         11, 1,  18, 29, 19, 21, 5, 23};

}  // namespace pinned
