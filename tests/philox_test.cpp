// The perturbation generator: Philox4x32-10 against the published Random123
// answers, the statistics of z, and the equality of every code path that
// produces z (scalar, bulk, any thread count).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <mezo/mezo.hpp>
#include <numeric>
#include <vector>

namespace {

using mezo::rng::Philox4x32;

struct KnownAnswer {
  Philox4x32 counter;
  std::uint32_t key0, key1;
  Philox4x32 expected;
};

// Random123's kat_vectors, the three philox4x32 10 lines.
TEST(Philox, MatchesRandom123KnownAnswers) {
  const KnownAnswer answers[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const KnownAnswer& a : answers) {
    const Philox4x32 got = mezo::rng::philox4x32_10(a.counter, a.key0, a.key1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], a.expected.v[i]) << "word " << i;
  }
}

TEST(Philox, LogAndSinCosAreAccurate) {
  double worst_log = 0, worst_trig = 0;
  for (std::uint32_t k = 1; k <= (1u << 24); k += 997) {
    const float u = static_cast<float>(k) * 5.9604644775390625e-8f;
    const double exact = std::log(static_cast<double>(u));
    const double err = std::abs(mezo::rng::log_unit(u) - exact) / std::max(std::abs(exact), 1e-30);
    if (exact != 0) worst_log = std::max(worst_log, err);
    float s, c;
    mezo::rng::sincos_2pi(static_cast<float>(k - 1) * 5.9604644775390625e-8f, s, c);
    const double angle = 2 * M_PI * (k - 1) * 5.9604644775390625e-8;
    worst_trig =
        std::max({worst_trig, std::abs(s - std::sin(angle)), std::abs(c - std::cos(angle))});
  }
  EXPECT_LT(worst_log, 1e-6);
  EXPECT_LT(worst_trig, 1e-6);
}

std::vector<float> generate(const mezo::Perturbation& p, std::uint64_t seed, std::uint64_t first,
                            std::size_t n) {
  std::vector<float> z(n);
  p.generate(seed, first, z);
  return z;
}

TEST(GaussianZ, BulkEqualsScalarBitForBitAtAnyOffset) {
  const auto p = mezo::gaussian_perturbation();
  for (std::uint64_t first : {0ull, 1ull, 3ull, 255ull, 257ull, (1ull << 33) + 5}) {
    const auto z = generate(*p, 42, first, 1000);
    for (std::size_t j = 0; j < z.size(); ++j) {
      const float scalar = mezo::rng::gaussian_z(42, first + j);
      ASSERT_EQ(std::memcmp(&z[j], &scalar, 4), 0) << "index " << first + j;
    }
  }
}

TEST(GaussianZ, ShortRunsEqualScalarToo) {
  const auto p = mezo::gaussian_perturbation();
  for (std::size_t n = 1; n <= 40; ++n) {
    for (std::uint64_t first : {0ull, 2ull, 253ull}) {
      const auto z = generate(*p, 8, first, n);
      for (std::size_t j = 0; j < n; ++j) {
        const float scalar = mezo::rng::gaussian_z(8, first + j);
        ASSERT_EQ(std::memcmp(&z[j], &scalar, 4), 0) << "n " << n << " index " << first + j;
      }
    }
  }
}

TEST(RademacherZ, BulkEqualsScalarAndIsPlusMinusOne) {
  const auto p = mezo::rademacher_perturbation();
  const auto z = generate(*p, 7, 13, 5000);
  double sum = 0;
  for (std::size_t j = 0; j < z.size(); ++j) {
    ASSERT_EQ(z[j], mezo::rng::rademacher_z(7, 13 + j));
    ASSERT_TRUE(z[j] == 1.0f || z[j] == -1.0f);
    sum += z[j];
  }
  EXPECT_LT(std::abs(sum / z.size()), 5.0 / std::sqrt(z.size()));
}

// With n samples the sample mean has standard error 1/sqrt(n), the sample
// variance sqrt(2/n) and a correlation 1/sqrt(n); 5 standard errors make a
// false alarm vanishingly rare while a real defect (say a bias of 0.01) fails.
TEST(GaussianZ, HasStandardNormalMoments) {
  const std::size_t n = 1 << 22;
  const auto z = generate(*mezo::gaussian_perturbation(), 12345, 0, n);
  double sum = 0, sum_sq = 0, sum_4 = 0;
  for (float v : z) {
    sum += v;
    sum_sq += double(v) * v;
    sum_4 += double(v) * v * v * v;
  }
  const double mean = sum / n, var = sum_sq / n - mean * mean;
  const double se = 1.0 / std::sqrt(double(n));
  EXPECT_LT(std::abs(mean), 5 * se);
  EXPECT_LT(std::abs(var - 1.0), 5 * std::sqrt(2.0) * se);
  EXPECT_LT(std::abs(sum_4 / n - 3.0), 5 * std::sqrt(96.0) * se);  // kurtosis of N(0,1)
  // Tail mass beyond 3 sigma: 0.0026998 for a normal.
  const double tail = std::count_if(z.begin(), z.end(), [](float v) { return std::abs(v) > 3; });
  EXPECT_NEAR(tail / n, 0.0026998, 5 * std::sqrt(0.0027 / n));
}

double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += double(a[i]) * b[i];
    saa += double(a[i]) * a[i];
    sbb += double(b[i]) * b[i];
  }
  return sab / std::sqrt(saa * sbb);
}

TEST(GaussianZ, NeighbouringCountersAndSeedsAreUncorrelated) {
  const std::size_t n = 1 << 20;
  const auto p = mezo::gaussian_perturbation();
  const auto z = generate(*p, 99, 0, n + 8);
  const double bound = 5.0 / std::sqrt(double(n));
  // Lags 1..7 cover both lanes of a Box-Muller pair and neighbouring blocks.
  for (std::size_t lag = 1; lag <= 7; ++lag) {
    std::vector<float> a(z.begin(), z.begin() + n), b(z.begin() + lag, z.begin() + lag + n);
    EXPECT_LT(std::abs(correlation(a, b)), bound) << "lag " << lag;
  }
  // Seeds s and s + 1 (consecutive run or step seeds) must give unrelated z.
  for (std::uint64_t seed : {0ull, 99ull, 1ull << 32}) {
    const auto a = generate(*p, seed, 0, n), b = generate(*p, seed + 1, 0, n);
    EXPECT_LT(std::abs(correlation(a, b)), bound) << "seed " << seed;
  }
}

TEST(PerturbInplace, OneAndTwoThreadsGiveIdenticalBytes) {
  for (auto make : {&mezo::gaussian_perturbation, &mezo::rademacher_perturbation}) {
    std::vector<float> w1(300001), w2;
    std::iota(w1.begin(), w1.end(), 0.0f);
    for (float& v : w1) v = std::sin(v);
    w2 = w1;
    std::vector<float> b1(777, 0.5f), b2 = b1;
    mezo::ParamSet s1, s2;
    s1.add("w", w1.data(), w1.size());
    s1.add("b", b1.data(), b1.size());
    s2.add("w", w2.data(), w2.size());
    s2.add("b", b2.data(), b2.size());
    mezo::perturb_inplace(s1, *make({.num_threads = 1}), 5, 1e-3f);
    mezo::perturb_inplace(s2, *make({.num_threads = 2}), 5, 1e-3f);
    EXPECT_EQ(std::memcmp(w1.data(), w2.data(), w1.size() * 4), 0);
    EXPECT_EQ(std::memcmp(b1.data(), b2.data(), b1.size() * 4), 0);
  }
}

TEST(PerturbInplace, UsesTheGlobalIndexOfEachElement) {
  // Element j of the second view must get z(seed, size of first view + j).
  std::vector<float> a(10, 0.0f), b(6, 0.0f);
  mezo::ParamSet set;
  set.add("a", a.data(), a.size());
  set.add("b", b.data(), b.size());
  mezo::perturb_inplace(set, *mezo::gaussian_perturbation(), 3, 1.0f);
  for (std::size_t j = 0; j < b.size(); ++j) EXPECT_EQ(b[j], mezo::rng::gaussian_z(3, 10 + j));
  for (std::size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j], mezo::rng::gaussian_z(3, j));
}

// rng::z is the one place Gaussian or Rademacher is chosen (the CUDA passes
// and probed reads call it per element); the CPU's bulk fill makes the same
// choice and must give the same bits.
TEST(Z, OneChoiceOfDistributionForEveryBackend) {
  std::vector<float> bulk(1000);
  for (const auto d : {mezo::ZDistribution::gaussian, mezo::ZDistribution::rademacher}) {
    mezo::CounterPerturbation(d).generate(17, 123, bulk);
    for (std::size_t j = 0; j < bulk.size(); ++j) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(bulk[j]),
                std::bit_cast<std::uint32_t>(mezo::rng::z(d, 17, 123 + j)));
    }
  }
  EXPECT_EQ(mezo::rng::z(mezo::ZDistribution::gaussian, 5, 9), mezo::rng::gaussian_z(5, 9));
  EXPECT_EQ(mezo::rng::z(mezo::ZDistribution::rademacher, 5, 9), mezo::rng::rademacher_z(5, 9));
}

TEST(WordStream, IsThePhiloxBlocksWordsInOrder) {
  mezo::rng::WordStream words(0x1234'5678'9ABC'DEF0ull);
  for (std::uint64_t block = 0; block < 3; ++block) {
    const auto expected = mezo::rng::philox_block(0x1234'5678'9ABC'DEF0ull, block);
    for (const std::uint32_t w : expected.v) EXPECT_EQ(words.next(), w);
  }
}

// bound = 3·2^30: multiply-shift alone maps 4 words to every 3 values, so
// values divisible by 3 would come up half the time instead of a third (and
// next() % bound would favour the values below 2^30 twice over); the
// rejection step must remove both biases.
TEST(WordStream, BelowIsUniformWhereTheShortcutsAreBiased) {
  constexpr std::uint32_t kBound = 3u << 30;
  mezo::rng::WordStream words(99);
  constexpr int kDraws = 60000;
  int multiples_of_3 = 0, below_2_30 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const std::uint32_t v = words.below(kBound);
    ASSERT_LT(v, kBound);
    multiples_of_3 += v % 3 == 0;
    below_2_30 += v < (1u << 30);
  }
  // Standard error of a 1/3 fraction over 60000 draws: 0.0019.
  EXPECT_NEAR(multiples_of_3 / double(kDraws), 1.0 / 3.0, 0.01);
  EXPECT_NEAR(below_2_30 / double(kDraws), 1.0 / 3.0, 0.01);
}

TEST(WordStream, BelowCoversSmallBoundsEvenly) {
  mezo::rng::WordStream words(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(words.below(1), 0u);
  std::vector<int> counts(5);
  constexpr int kDraws = 50000;
  for (int i = 0; i < kDraws; ++i) ++counts[words.below(5)];
  double chi2 = 0;  // 4 degrees of freedom: P(chi2 > 18.5) = 0.001
  for (const int c : counts) chi2 += (c - kDraws / 5.0) * (c - kDraws / 5.0) / (kDraws / 5.0);
  EXPECT_LT(chi2, 18.5);
}

TEST(SeedSchedule, IsAPureFunctionOfRunSeedAndStep) {
  const mezo::SeedSchedule a(1), b(1), c(2);
  EXPECT_EQ(a.seed_for_step(10), b.seed_for_step(10));
  EXPECT_NE(a.seed_for_step(10), a.seed_for_step(11));
  EXPECT_NE(a.seed_for_step(10), c.seed_for_step(10));
}

}  // namespace
