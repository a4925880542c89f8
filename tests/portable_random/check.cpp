// Checks the pinned draws of pinned_values.hpp under the standard library
// this is built with; `--print` prints the table instead. A plain program
// (no GoogleTest, no libmezo to link: counter_rng.hpp is header-only), so that
// CI can build it with clang++ -stdlib=libc++ against nothing else.
#include <bit>
#include <cstdio>
#include <cstring>
#include <vector>

#include "batch_sampler.hpp"
#include "mezo/counter_rng.hpp"
#include "pinned_values.hpp"

namespace {

std::uint32_t encoder_weight_bits(std::uint64_t index) {
  namespace rng = mezo::rng;
  const std::uint64_t key = rng::stream_key(pinned::kSeed, rng::Stream::encoder_random_weights, 0);
  return std::bit_cast<std::uint32_t>(0.02f * rng::gaussian_z(key, index));
}

std::vector<std::size_t> batch() {
  return sst2::sample_batch(pinned::kSeed, pinned::kBatchStep, pinned::kBatchTrainSize,
                            std::size(pinned::kBatch));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--print") == 0) {
    std::printf("kEncoderWeightBits = {");
    for (const std::uint64_t i : pinned::kEncoderWeightIndex) {
      std::printf(" 0x%08Xu,", encoder_weight_bits(i));
    }
    std::printf(" }\nkBatch = {");
    for (const std::size_t i : batch()) std::printf(" %zu,", i);
    std::printf(" }\n");
    return 0;
  }
  int failures = 0;
  for (std::size_t k = 0; k < std::size(pinned::kEncoderWeightIndex); ++k) {
    const std::uint32_t bits = encoder_weight_bits(pinned::kEncoderWeightIndex[k]);
    if (bits != pinned::kEncoderWeightBits[k]) {
      std::printf("encoder weight %llu: bits 0x%08X, pinned 0x%08X\n",
                  static_cast<unsigned long long>(pinned::kEncoderWeightIndex[k]), bits,
                  pinned::kEncoderWeightBits[k]);
      ++failures;
    }
  }
  const std::vector<std::size_t> drawn = batch();
  for (std::size_t k = 0; k < std::size(pinned::kBatch); ++k) {
    if (drawn[k] != pinned::kBatch[k]) {
      std::printf("batch element %zu: %zu, pinned %zu\n", k, drawn[k], pinned::kBatch[k]);
      ++failures;
    }
  }
#if defined(_LIBCPP_VERSION)
  const char* library = "libc++";
#elif defined(__GLIBCXX__)
  const char* library = "libstdc++";
#else
  const char* library = "another standard library";
#endif
  std::printf("%s: %d of %zu pinned values differ\n", library, failures,
              std::size(pinned::kEncoderWeightIndex) + std::size(pinned::kBatch));
  return failures == 0 ? 0 : 1;
}
