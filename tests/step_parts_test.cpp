// The core pieces distributed MeZO is built from, without MPI: per-example
// losses whose mean_loss() is the objective bit for bit, and probe_direction +
// apply_update reproducing mezo::step (n-SPSA included) bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "mezo/error.hpp"
#include "mezo/objective.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/step.hpp"

namespace {

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

TEST(ExampleLosses, MeanLossIsTheObjectiveBitForBit) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const mezo::CrossEntropy ce;
  const mezo::NegativeAccuracy acc;
  for (int rows : {1, 2, 7, 33}) {
    std::vector<float> logits(static_cast<std::size_t>(rows) * 4);
    for (float& x : logits) x = normal(gen);
    std::vector<std::int32_t> labels;
    for (int r = 0; r < rows; ++r) labels.push_back(static_cast<std::int32_t>(gen() % 4));
    for (const mezo::Objective* objective :
         {static_cast<const mezo::Objective*>(&ce), static_cast<const mezo::Objective*>(&acc)}) {
      std::vector<double> terms(static_cast<std::size_t>(rows));
      objective->example_losses({logits.data(), rows, 4}, labels, terms);
      EXPECT_EQ(bits(mezo::mean_loss(terms)), bits((*objective)({logits.data(), rows, 4}, labels)))
          << objective->name() << " rows " << rows;
    }
  }
  // All wrong: −0.0, as negative accuracy has always returned.
  const float logits[] = {1.0f, 0.0f};
  const std::int32_t wrong[] = {1};
  EXPECT_EQ(bits(acc({logits, 1, 2}, wrong)), bits(-0.0f));
  // A NaN in one row makes that row's term and the mean NaN.
  const float nan_logits[] = {1.0f, 0.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f};
  const std::int32_t labels[] = {0, 0};
  std::vector<double> terms(2);
  ce.example_losses({nan_logits, 2, 2}, labels, terms);
  EXPECT_FALSE(std::isnan(terms[0]));
  EXPECT_TRUE(std::isnan(terms[1]));
  EXPECT_TRUE(std::isnan(mezo::mean_loss(terms)));
  EXPECT_THROW(mezo::mean_loss({}), mezo::Error);
  EXPECT_THROW(ce.example_losses({logits, 1, 2}, wrong, std::span<double>(terms)), mezo::Error);
}

TEST(ExampleLosses, CallableObjectiveSaysItCannotBeSharded) {
  const mezo::CallableObjective custom(
      "max_logit", [](mezo::Logits l, std::span<const std::int32_t>) { return l.data[0]; });
  const float logits[] = {1.0f, 0.0f};
  const std::int32_t labels[] = {0};
  std::vector<double> terms(1);
  try {
    custom.example_losses({logits, 1, 2}, labels, terms);
    FAIL() << "no error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("max_logit"), std::string::npos);
  }
}

struct Quadratic {
  std::vector<float> w, b;
  mezo::ParamSet params;
  Quadratic() {
    std::mt19937 gen(11);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    w.resize(5000);
    b.resize(37);
    for (float& x : w) x = normal(gen);
    for (float& x : b) x = normal(gen);
    params.add("layer.weight", w.data(), w.size());
    params.add("layer.bias", b.data(), b.size());
  }
  float loss() const {
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) s += (w[i] - 0.01) * (w[i] - 0.01) * (1 + i % 7);
    for (float x : b) s += 3.0 * x * x;
    return static_cast<float>(s);
  }
  bool same(const Quadratic& o) const {
    return std::memcmp(w.data(), o.w.data(), w.size() * 4) == 0 &&
           std::memcmp(b.data(), o.b.data(), b.size() * 4) == 0;
  }
};

// Probing each direction apart and applying the plan in one pass equals
// mezo::step's fused passes, bit for bit, for ZO-SGD and n-SPSA.
TEST(ProbeAndApply, EqualStepBitForBit) {
  for (int directions : {1, 3}) {
    Quadratic a, b;
    const mezo::ZoSgdConfig config{.lr = 1e-4f, .eps = 1e-3f, .weight_decay = 0.1f};
    mezo::NSpsa opt_a(config, directions), opt_b(config, directions);
    for (int t = 0; t < 5; ++t) {
      const std::uint64_t seed = 900 + static_cast<std::uint64_t>(t);
      const mezo::StepResult r = mezo::step(
          a.params, opt_a, [&] { return a.loss(); }, seed);
      ASSERT_EQ(r.status, mezo::StepStatus::ok);
      std::vector<mezo::SeedEstimate> estimates;
      for (int d = 0; d < directions; ++d) {
        estimates.push_back(mezo::probe_direction(
            b.params, opt_b.perturbation(), opt_b.eps(), [&] { return b.loss(); },
            mezo::direction_seed(seed, d)));
      }
      mezo::apply_update(b.params, opt_b.perturbation(), opt_b.plan_update(estimates));
      for (int d = 0; d < directions; ++d) {
        EXPECT_EQ(bits(estimates[d].projected_grad), bits(r.estimates[d].projected_grad));
      }
      ASSERT_TRUE(a.same(b)) << directions << " directions, step " << t;
    }
  }
}

TEST(ProbeAndApply, NonFiniteAndThrowingLossesRestoreExactly) {
  Quadratic q, before;
  const auto perturbation = mezo::gaussian_perturbation();
  int calls = 0;
  const mezo::SeedEstimate e = mezo::probe_direction(
      q.params, *perturbation, 1e-3f,
      [&] { return ++calls == 2 ? std::numeric_limits<float>::infinity() : q.loss(); }, 5);
  EXPECT_TRUE(std::isinf(e.loss_minus));
  EXPECT_EQ(e.projected_grad, 0.0f);
  EXPECT_TRUE(q.same(before));
  EXPECT_THROW(
      mezo::probe_direction(
          q.params, *perturbation, 1e-3f, [&]() -> float { throw std::runtime_error("x"); }, 6),
      std::runtime_error);
  EXPECT_TRUE(q.same(before));
  EXPECT_THROW(mezo::probe_direction(
                   q.params, *perturbation, 0.0f, [&] { return q.loss(); }, 7),
               mezo::Error);
}

}  // namespace
