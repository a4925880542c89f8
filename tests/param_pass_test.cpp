// Parameter passes: the ±ε round trip, the restore journal, and the fused
// restore+update pass against the same operations run one at a time.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mezo/mezo.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using mezo_test::same_bytes;
std::vector<float> random_weights(std::size_t n, unsigned seed, float scale = 0.02f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> w(n);
  for (float& v : w) v = dist(gen);
  return w;
}

struct Model {
  std::vector<float> weight, bias;
  mezo::ParamSet params;
  Model(std::size_t n, unsigned seed)
      : weight(random_weights(n, seed)), bias(random_weights(97, seed + 1)) {
    bias[0] = 0.0f;
    params.add("layer.weight", weight.data(), weight.size());
    params.add("layer.bias", bias.data(), bias.size());
  }
};

void apply(const mezo::ParamSet& params, const mezo::ParamPass& pass) {
  mezo::gaussian_perturbation()->apply(params, pass);
}

// +ε, −2ε, +ε without a journal: each element within a few fp32 roundings.
TEST(RoundTrip, ReturnsThetaWithinFp32Rounding) {
  Model m(100000, 1);
  const auto before = m.weight;
  const auto p = mezo::gaussian_perturbation();
  const float eps = 1e-3f;
  mezo::perturb_inplace(m.params, *p, 11, eps);
  mezo::perturb_inplace(m.params, *p, 11, -2 * eps);
  mezo::perturb_inplace(m.params, *p, 11, eps);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const float z = mezo::rng::gaussian_z(11, i);
    // Three roundings of values of magnitude up to |θ| + 2ε|z|.
    const float bound = 3.0f *
                        std::nextafter(std::abs(before[i]) + 2 * eps * std::abs(z), INFINITY) *
                        std::numeric_limits<float>::epsilon();
    ASSERT_LE(std::abs(m.weight[i] - before[i]), bound) << "element " << i;
    changed += m.weight[i] != before[i];
  }
  // The round trip really is inexact without the journal (else the journal
  // test below would prove nothing).
  EXPECT_GT(changed, 0u);
}

// The chain mezo::step runs, with the journal: bit-exact.
TEST(RoundTrip, JournalMakesItBitExact) {
  Model m(100000, 2);
  const auto weight0 = m.weight, bias0 = m.bias;
  const float eps = 1e-3f;
  const mezo::ZTerm plus{21, eps}, minus{21, -eps};
  mezo::RestoreJournal journal;
  mezo::ParamPass to_plus;
  to_plus.terms = {&plus, 1};
  to_plus.record = &journal;
  apply(m.params, to_plus);
  EXPECT_GT(journal.size(), 0u);
  EXPECT_LT(journal.size(), m.params.num_elements() / 5);  // "only what needs it"

  mezo::ParamPass plus_to_minus;
  plus_to_minus.restore = minus;
  plus_to_minus.journal = &journal;
  plus_to_minus.terms = {&minus, 1};
  apply(m.params, plus_to_minus);

  mezo::ParamPass restore;
  restore.restore = plus;
  restore.journal = &journal;
  apply(m.params, restore);
  EXPECT_TRUE(same_bytes(m.weight, weight0));
  EXPECT_TRUE(same_bytes(m.bias, bias0));
}

TEST(RoundTrip, JournalRestoresFromThePlusSideToo) {
  Model m(50000, 3);
  const auto weight0 = m.weight;
  const mezo::ZTerm plus{5, 1e-2f}, minus{5, -1e-2f};
  mezo::RestoreJournal journal;
  mezo::ParamPass to_plus;
  to_plus.terms = {&plus, 1};
  to_plus.record = &journal;
  apply(m.params, to_plus);
  mezo::ParamPass undo;
  undo.restore = minus;
  undo.journal = &journal;
  apply(m.params, undo);
  EXPECT_TRUE(same_bytes(m.weight, weight0));
}

// What a recording pass journals, against the definition element by
// element: exactly the x whose fl(fl(x + d) − d) or fl(fl(x − d) + d) differs
// from x in its bits, sorted by index, with x's value. At real width (1.2M elements over views
// of odd sizes, so chunks, vector lanes and threads all have ragged ends), for
// both z distributions and 1–3 threads; then a probe-to-probe pass, which must
// restore the first probe through its journal before recording the second.
struct JournalCase {
  mezo::ZDistribution distribution;
  int threads;
};

class JournalContents : public ::testing::TestWithParam<JournalCase> {};

std::vector<mezo::RestoreJournal::Entry> expected_journal(const std::vector<float>& theta,
                                                          mezo::ZDistribution distribution,
                                                          const mezo::ZTerm& term) {
  std::vector<mezo::RestoreJournal::Entry> lossy;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const float x = theta[i];
    const float d = term.coef * mezo::rng::z(distribution, term.seed, i);
    const auto bits = std::bit_cast<std::uint32_t>(x);
    if (std::bit_cast<std::uint32_t>((x + d) - d) != bits ||
        std::bit_cast<std::uint32_t>((x - d) + d) != bits) {
      lossy.push_back(mezo::RestoreJournal::Entry::make(i, x));
    }
  }
  return lossy;
}

void expect_same_entries(const mezo::RestoreJournal& journal,
                         const std::vector<mezo::RestoreJournal::Entry>& expected) {
  ASSERT_EQ(journal.size(), expected.size());
  const auto entries = journal.entries();
  for (std::size_t k = 0; k < expected.size(); ++k) {
    ASSERT_EQ(entries[k].index(), expected[k].index()) << "entry " << k;
    ASSERT_TRUE(
        same_bytes(std::vector<float>{entries[k].value}, std::vector<float>{expected[k].value}))
        << "entry " << k << " (index " << expected[k].index() << ")";
  }
}

TEST_P(JournalContents, IsExactlyTheLossyElementsInIndexOrder) {
  const auto [distribution, threads] = GetParam();
  const std::size_t sizes[] = {1'200'003, 4'097, 97, 15};
  std::vector<float> flat = random_weights(1'200'003 + 4'097 + 97 + 15, 11);
  // Values the test must get right however it is vectorised: NaN, ±0 (−0
  // comes back +0: the bits differ), infinities, subnormals, and weights just
  // below a power of two.
  flat[3] = std::numeric_limits<float>::quiet_NaN();
  flat[17] = 0.0f;
  flat[18] = -0.0f;
  flat[31] = std::numeric_limits<float>::infinity();
  flat[40] = std::numeric_limits<float>::denorm_min();
  flat[1'200'002] = std::nextafter(1.0f, 0.0f);
  flat[flat.size() - 1] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> theta = flat;
  mezo::ParamSet params;
  std::size_t offset = 0;
  for (std::size_t k = 0; k < std::size(sizes); ++k) {
    params.add("view" + std::to_string(k), theta.data() + offset, sizes[k]);
    offset += sizes[k];
  }
  const auto perturbation = distribution == mezo::ZDistribution::gaussian
                                ? mezo::gaussian_perturbation({.num_threads = threads})
                                : mezo::rademacher_perturbation({.num_threads = threads});
  const float eps = 1e-3f;
  const mezo::ZTerm first{77, eps}, second{78, eps};

  mezo::RestoreJournal journals[2];
  mezo::ParamPass to_first;
  to_first.terms = {&first, 1};
  to_first.record = &journals[0];
  perturbation->apply(params, to_first);
  const auto expected_first = expected_journal(flat, distribution, first);
  EXPECT_GT(expected_first.size(), flat.size() / 20) << "the case must journal";
  expect_same_entries(journals[0], expected_first);

  mezo::ParamPass to_second;
  to_second.restore = mezo::ZTerm{first.seed, -eps};
  to_second.journal = &journals[0];
  to_second.terms = {&second, 1};
  to_second.record = &journals[1];
  perturbation->apply(params, to_second);
  expect_same_entries(journals[1], expected_journal(flat, distribution, second));

  mezo::ParamPass back;
  back.restore = mezo::ZTerm{second.seed, -eps};
  back.journal = &journals[1];
  perturbation->apply(params, back);
  EXPECT_TRUE(same_bytes(theta, flat));
}

INSTANTIATE_TEST_SUITE_P(Threads, JournalContents,
                         ::testing::Values(JournalCase{mezo::ZDistribution::gaussian, 1},
                                           JournalCase{mezo::ZDistribution::gaussian, 3},
                                           JournalCase{mezo::ZDistribution::rademacher, 1},
                                           JournalCase{mezo::ZDistribution::rademacher, 2},
                                           JournalCase{mezo::ZDistribution::rademacher, 3}),
                         [](const auto& info) {
                           return std::string(info.param.distribution ==
                                                      mezo::ZDistribution::gaussian
                                                  ? "Gaussian"
                                                  : "Rademacher") +
                                  std::to_string(info.param.threads) + "Threads";
                         });

// restore (+εz), weight decay, and two update terms in one pass equal the
// same operations in four passes, bit for bit, including the group rule.
TEST(FusedPass, RestoreAndUpdateEqualsTheUnfusedSequence) {
  Model fused(70001, 4), unfused(70001, 4);
  const mezo::ZTerm restore{8, 1e-3f};
  const mezo::ZTerm terms[] = {{8, -3.7e-4f}, {9, 1.3e-4f}};
  const float decay = 1e-2f;

  mezo::ParamPass one;
  one.restore = restore;
  one.decay = decay;
  one.terms = terms;
  apply(fused.params, one);

  const auto p = mezo::gaussian_perturbation();
  mezo::perturb_inplace(unfused.params, *p, restore.seed, restore.coef);
  mezo::ParamPass decay_only;
  decay_only.decay = decay;
  apply(unfused.params, decay_only);
  for (const auto& t : terms) mezo::perturb_inplace(unfused.params, *p, t.seed, t.coef);

  EXPECT_TRUE(same_bytes(fused.weight, unfused.weight));
  EXPECT_TRUE(same_bytes(fused.bias, unfused.bias));
}

TEST(FusedPass, WeightDecaySkipsNoDecayGroups) {
  std::vector<float> w(10, 1.0f), b(10, 1.0f);
  mezo::ParamSet set;
  set.add("fc.weight", w.data(), w.size());
  set.add("fc.bias", b.data(), b.size());
  mezo::ParamPass decay_only;
  decay_only.decay = 0.5f;
  apply(set, decay_only);
  for (float v : w) EXPECT_EQ(v, 0.5f);
  for (float v : b) EXPECT_EQ(v, 1.0f);
}

TEST(FusedPass, RejectsAMalformedRecordingPass) {
  Model m(10, 5);
  const mezo::ZTerm t{1, 1.0f};
  mezo::RestoreJournal journal;
  mezo::ParamPass bad;
  bad.terms = {&t, 1};
  bad.record = &journal;
  bad.decay = 0.1f;
  EXPECT_THROW(apply(m.params, bad), mezo::Error);
}

TEST(Params, DefaultGroupsFollowTheOptRule) {
  EXPECT_TRUE(mezo::default_weight_decay_for("encoder.layer.0.attention.self.query.weight"));
  EXPECT_FALSE(mezo::default_weight_decay_for("encoder.layer.0.attention.self.query.bias"));
  EXPECT_FALSE(mezo::default_weight_decay_for("encoder.layer.0.output.LayerNorm.weight"));
  EXPECT_FALSE(
      mezo::default_weight_decay_for("model.decoder.layers.0.self_attn_layer_norm.weight"));
}

TEST(Params, EnumerationIsStableAndChecked) {
  std::vector<float> a(5), b(7);
  mezo::ParamSet set;
  EXPECT_EQ(set.add("a", a.data(), a.size()), 0u);
  EXPECT_EQ(set.add("b", b.data(), b.size()), 1u);
  EXPECT_EQ(set.views()[1].offset, 5u);
  EXPECT_EQ(set.num_elements(), 12u);
  EXPECT_EQ(set.find("b")->size, 7u);
  EXPECT_THROW(set.add("a", a.data(), a.size()), mezo::Error);               // duplicate
  EXPECT_THROW(set.add("c", nullptr, 3), mezo::Error);                       // null data
  EXPECT_THROW(set.add("", a.data(), 1), mezo::Error);                       // no name
  EXPECT_THROW(set.add("d", a.data(), 1, std::size_t{9}), mezo::Error);      // no such group
  EXPECT_THROW(set.add("e", a.data(), 1, mezo::Device::cuda), mezo::Error);  // mixed devices
  const std::size_t frozen_norms = set.add_group("norms_with_decay", true);
  set.add("ln.LayerNorm.weight", a.data(), 1, frozen_norms);
  EXPECT_TRUE(set.groups()[set.find("ln.LayerNorm.weight")->group].weight_decay);
}

TEST(Params, CudaMemoryWithoutCudaBackendIsAClearError) {
  if (mezo::cuda_backend_available()) GTEST_SKIP() << "this build has the CUDA backend";
  std::vector<float> a(4);
  mezo::ParamSet set;
  set.add("a", a.data(), a.size(), mezo::Device::cuda);
  try {
    mezo::perturb_inplace(set, *mezo::gaussian_perturbation(), 1, 1.0f);
    FAIL() << "expected mezo::Error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
  }
}

}  // namespace
