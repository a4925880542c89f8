// The sampled data protocol (examples/sst2/sampled_split.hpp): train and dev
// are the reference code's slices of mezo::numpy_permutation (checked against
// NumPy in tests/kshot_split_test.cpp), disjoint and deterministic.
#include "sampled_split.hpp"

#include <gtest/gtest.h>

#include <set>

#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"

namespace {

TEST(SampledSplit, TrainThenDevDisjointAndDeterministic) {
  const auto split = sst2::sample_split(67349, 1000, 500, 42);
  ASSERT_EQ(split.train.size(), 1000u);
  ASSERT_EQ(split.dev.size(), 500u);
  const auto permutation = mezo::numpy_permutation(67349, 42);
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
