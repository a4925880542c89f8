// Parameter passes: the ±ε round trip, the restore journal, and the fused
// restore+update pass against the same operations run one at a time.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <mezo/mezo.hpp>
#include <random>
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
