// The sampled data protocol (examples/sst2/sampled_split.hpp): NumPy's
// np.random.permutation after np.random.seed, train and dev disjoint and
// deterministic.
#include "sampled_split.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"
#include "test_support.hpp"

namespace {

// Values NumPy 2.4.6 printed:
//   np.random.seed(42); np.random.permutation(67349)[:8]
//   np.random.seed(13); np.random.permutation(67349)[1000:1004]
//   np.random.seed(0);  np.random.permutation(10)
TEST(SampledSplit, PermutationIsNumpys) {
  const auto p42 = sst2::numpy_permutation(67349, 42);
  EXPECT_EQ(std::vector<std::size_t>(p42.begin(), p42.begin() + 8),
            (std::vector<std::size_t>{66730, 29890, 45801, 29352, 19858, 15364, 30026, 38039}));
  const auto p13 = sst2::numpy_permutation(67349, 13);
  EXPECT_EQ(std::vector<std::size_t>(p13.begin() + 1000, p13.begin() + 1004),
            (std::vector<std::size_t>{7329, 34538, 50603, 43644}));
  EXPECT_EQ(sst2::numpy_permutation(10, 0),
            (std::vector<std::size_t>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}));
}

// libmezo's k-shot generator shuffles with the same NumPy algorithm (checked
// there against LM-BFF's files): on a one-label file whose line i names i,
// its train + dev lines are the first 2k of the permutation.
TEST(SampledSplit, PermutationAgreesWithTheKShotShuffle) {
  mezo_test::TempDir dir;
  constexpr std::size_t n = 1001;
  std::string tsv = "sentence\tlabel\n";
  for (std::size_t i = 0; i < n; ++i) tsv += fmt::format("line {}\t0\n", i);
  const auto file = mezo_test::write_bytes(dir / "train.tsv", tsv);
  for (const std::uint32_t seed : {13u, 21u, 42u, 87u, 100u}) {
    const auto split = mezo::make_kshot_split(file, 500, seed, {.num_labels = 1});
    std::vector<std::size_t> shuffled;
    for (const auto* lines : {&split.train_lines, &split.dev_lines})
      for (const std::string& line : *lines) shuffled.push_back(std::stoul(line.substr(5)));
    const auto permutation = sst2::numpy_permutation(n, seed);
    EXPECT_EQ(shuffled, std::vector<std::size_t>(permutation.begin(), permutation.begin() + 1000))
        << "seed " << seed;
  }
}

TEST(SampledSplit, TrainThenDevDisjointAndDeterministic) {
  const auto split = sst2::sample_split(67349, 1000, 500, 42);
  ASSERT_EQ(split.train.size(), 1000u);
  ASSERT_EQ(split.dev.size(), 500u);
  const auto permutation = sst2::numpy_permutation(67349, 42);
  // The reference code's order: train = the first num_train, dev = the next num_dev.
  EXPECT_TRUE(std::equal(split.train.begin(), split.train.end(), permutation.begin()));
  EXPECT_TRUE(std::equal(split.dev.begin(), split.dev.end(), permutation.begin() + 1000));
  std::set<std::size_t> all(split.train.begin(), split.train.end());
  all.insert(split.dev.begin(), split.dev.end());
  EXPECT_EQ(all.size(), 1500u) << "train and dev overlap, or repeat an example";
  EXPECT_LT(*all.rbegin(), 67349u);

  const auto again = sst2::sample_split(67349, 1000, 500, 42);
  EXPECT_EQ(again.train, split.train);
  EXPECT_EQ(again.dev, split.dev);
  const auto other = sst2::sample_split(67349, 1000, 500, 43);
  EXPECT_NE(other.train, split.train) << "the data seed changes nothing";
}

TEST(SampledSplit, SizesOutOfRangeAreErrors) {
  EXPECT_THROW(sst2::sample_split(10, 8, 3, 1), mezo::Error);
  EXPECT_THROW(sst2::sample_split(10, 0, 3, 1), mezo::Error);
  EXPECT_THROW(sst2::sample_split(10, 3, 0, 1), mezo::Error);
  EXPECT_NO_THROW(sst2::sample_split(10, 7, 3, 1));
}

}  // namespace
