// mezo::step against problems whose answers are known: the SPSA estimate's
// expectation on a quadratic, ZO-SGD on least squares and logistic regression,
// and the step's guarantees on NaN losses, exceptions and piecewise-constant
// objectives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <mezo/mezo.hpp>
#include <random>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

namespace {

using mezo_test::same_bytes;
// f(θ) = ½ θᵀAθ − bᵀθ with A = MᵀM + I (symmetric positive definite).
struct Quadratic {
  int d;
  std::vector<double> a, b;
  explicit Quadratic(int dim, unsigned seed) : d(dim), a(dim * dim), b(dim) {
    std::mt19937 gen(seed);
    std::normal_distribution<double> n(0.0, 0.5);
    std::vector<double> m(dim * dim);
    for (double& v : m) v = n(gen);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        double s = i == j ? 1.0 : 0.0;
        for (int k = 0; k < d; ++k) s += m[k * d + i] * m[k * d + j];
        a[i * d + j] = s;
      }
      b[i] = n(gen);
    }
  }
  double value(const std::vector<float>& t) const {
    double f = 0;
    for (int i = 0; i < d; ++i) {
      double at = 0;
      for (int j = 0; j < d; ++j) at += a[i * d + j] * t[j];
      f += 0.5 * t[i] * at - b[i] * t[i];
    }
    return f;
  }
  std::vector<double> gradient(const std::vector<float>& t) const {
    std::vector<double> g(d);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) g[i] += a[i * d + j] * t[j];
      g[i] -= b[i];
    }
    return g;
  }
};

// E[g z] = ∇f exactly for a quadratic (the symmetric difference has no
// curvature error), and Var[(g z)_i] = ‖∇f‖² + (∇f)_i² for Gaussian z. The
// mean of N estimates must lie within 5 standard errors in every coordinate.
TEST(Spsa, MeanEstimateConvergesToTheAnalyticGradient) {
  const Quadratic q(8, 3);
  std::vector<float> theta = {0.3f, -0.2f, 0.5f, 0.1f, -0.4f, 0.25f, 0.0f, -0.1f};
  mezo::ParamSet params;
  params.add("theta", theta.data(), theta.size());
  mezo::ZoSgd opt({.lr = 0.0f, .eps = 1e-2f});
  const auto grad = q.gradient(theta);
  const mezo::SeedSchedule seeds(2024);
  const int n = 20000;
  std::vector<double> mean(q.d, 0.0);
  std::vector<float> z(q.d);
  const auto theta0 = theta;
  for (int t = 0; t < n; ++t) {
    const auto r = mezo::step(
        params, opt, [&] { return float(q.value(theta)); }, seeds.seed_for_step(t));
    ASSERT_EQ(r.status, mezo::StepStatus::ok);
    opt.perturbation().generate(r.seed, 0, z);
    for (int i = 0; i < q.d; ++i) mean[i] += double(r.projected_grad) * z[i] / n;
  }
  EXPECT_TRUE(same_bytes(theta, theta0)) << "lr = 0 must leave θ bit-identical";
  double norm2 = 0;
  for (double g : grad) norm2 += g * g;
  for (int i = 0; i < q.d; ++i) {
    const double se = std::sqrt((norm2 + grad[i] * grad[i]) / n);
    EXPECT_NEAR(mean[i], grad[i], 5 * se) << "coordinate " << i;
  }
}

// Least squares: y = X w* exactly; ZO-SGD must find w* to 1% of its norm.
TEST(ZoSgd, SolvesLeastSquares) {
  const int d = 5, rows = 64;
  std::mt19937 gen(7);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(rows * d), w_star(d), y(rows);
  for (float& v : x) v = n(gen);
  for (float& v : w_star) v = n(gen);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < d; ++j) y[r] += x[r * d + j] * w_star[j];
  }
  std::vector<float> w(d, 0.0f);
  mezo::ParamSet params;
  params.add("w", w.data(), w.size());
  const auto loss = [&] {
    double s = 0;
    for (int r = 0; r < rows; ++r) {
      double e = -y[r];
      for (int j = 0; j < d; ++j) e += x[r * d + j] * w[j];
      s += e * e;
    }
    return float(0.5 * s / rows);
  };
  mezo::ZoSgd opt({.lr = 0.05f, .eps = 1e-3f});
  const mezo::SeedSchedule seeds(1);
  for (int t = 0; t < 3000; ++t) mezo::step(params, opt, loss, seeds.seed_for_step(t));
  double err = 0, norm = 0;
  for (int j = 0; j < d; ++j) {
    err += (w[j] - w_star[j]) * (w[j] - w_star[j]);
    norm += w_star[j] * w_star[j];
  }
  EXPECT_LT(std::sqrt(err), 0.01 * std::sqrt(norm));
  EXPECT_EQ(opt.step_count(), 3000);
}

// Logistic regression through the library's CrossEntropy objective on two
// separable Gaussian blobs: cross-entropy must fall below 0.1.
TEST(ZoSgd, TrainsLogisticRegressionWithCrossEntropy) {
  const int rows = 200;
  std::mt19937 gen(11);
  std::normal_distribution<float> n(0.0f, 0.5f);
  std::vector<float> features(rows * 2);
  std::vector<std::int32_t> labels(rows);
  for (int r = 0; r < rows; ++r) {
    labels[r] = r % 2;
    const float centre = labels[r] ? 1.5f : -1.5f;
    features[r * 2] = centre + n(gen);
    features[r * 2 + 1] = -centre + n(gen);
  }
  std::vector<float> weight(2 * 2, 0.0f), bias(2, 0.0f), logits(rows * 2);
  mezo::ParamSet params;
  params.add("linear.weight", weight.data(), weight.size());
  params.add("linear.bias", bias.data(), bias.size());
  const mezo::CrossEntropy ce;
  const auto loss = [&] {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < 2; ++c) {
        logits[r * 2 + c] =
            bias[c] + weight[c * 2] * features[r * 2] + weight[c * 2 + 1] * features[r * 2 + 1];
      }
    }
    return ce({logits.data(), rows, 2}, labels);
  };
  const float initial = loss();
  mezo::ZoSgd opt({.lr = 0.5f, .eps = 1e-3f});
  const mezo::SeedSchedule seeds(5);
  for (int t = 0; t < 2000; ++t) mezo::step(params, opt, loss, seeds.seed_for_step(t));
  EXPECT_NEAR(initial, std::log(2.0f), 1e-6f);
  EXPECT_LT(loss(), 0.1f);
}

// −accuracy is piecewise constant in θ: g is exactly 0 unless a prediction
// flips between the two forwards.
TEST(NegativeAccuracyObjective, ProjectedGradIsZeroUnlessAPredictionFlips) {
  std::vector<float> w = {5.0f};  // logit of class 1 for input 1; class 0 has logit 0
  mezo::ParamSet params;
  params.add("w", w.data(), w.size());
  const mezo::NegativeAccuracy acc;
  const std::vector<std::int32_t> label = {1};
  const auto loss = [&] {
    const float logits[2] = {0.0f, w[0]};
    return acc({logits, 1, 2}, label);
  };
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f});
  for (std::uint64_t s = 0; s < 50; ++s) {
    const auto before = w;
    const auto r = mezo::step(params, opt, loss, s);
    EXPECT_EQ(r.projected_grad, 0.0f);
    EXPECT_TRUE(same_bytes(w, before)) << "a zero estimate must not move θ";
  }
  // On the decision boundary every direction flips the prediction.
  w[0] = 0.0f;
  for (std::uint64_t s = 0; s < 20; ++s) {
    w[0] = 0.0f;
    const auto r = mezo::step(params, opt, loss, s);
    EXPECT_NE(r.projected_grad, 0.0f);
    EXPECT_EQ(std::abs(r.projected_grad), 1.0f / (2 * 1e-3f));
  }
}

struct Blob {
  std::vector<float> w;
  mezo::ParamSet params;
  explicit Blob(std::size_t n) : w(n) {
    std::mt19937 gen(3);
    std::normal_distribution<float> d(0.0f, 0.02f);
    for (float& v : w) v = d(gen);
    for (std::size_t i = 0; i < n; i += 10) w[i] *= 1e-4f;  // tiny weights: lossy round trips
    for (std::size_t i = 7; i < n; i += 997) w[i] = -0.0f;   // come back +0 unless journaled
    params.add("w", w.data(), w.size());
  }
};

// mezo::step lends each thread's kept journals to one step at a time: a step
// run inside another's loss gets journals of its own, so the outer step
// still restores its weights bit for bit from its own journal.
TEST(Step, AStepInsideAnothersLossKeepsBothRestoresExact) {
  Blob outer(50000), inner(40000);
  const auto outer_before = outer.w, inner_before = inner.w;
  mezo::ZoSgd outer_opt({.lr = 1e-3f, .eps = 1e-3f}), inner_opt({.lr = 1e-3f, .eps = 1e-3f});
  int calls = 0;
  mezo::StepResult inner_result;
  const auto r = mezo::step(
      outer.params, outer_opt,
      [&] {
        ++calls;
        if (calls == 2) {  // at θ − εz: the inner step journals on this thread too
          int inner_calls = 0;
          inner_result = mezo::step(
              inner.params, inner_opt, [&] { return ++inner_calls == 2 ? NAN : 1.0f; }, 5);
          return NAN;
        }
        return 1.0f;
      },
      77);
  EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
  EXPECT_EQ(inner_result.status, mezo::StepStatus::nonfinite_loss);
  EXPECT_GT(r.journal_entries, 0u);
  EXPECT_GT(inner_result.journal_entries, 0u);
  EXPECT_TRUE(same_bytes(outer.w, outer_before));
  EXPECT_TRUE(same_bytes(inner.w, inner_before));
  // And the kept journals serve the next step on this thread as before.
  Blob again(50000);
  const auto again_before = again.w;
  mezo::ZoSgd again_opt({.lr = 1e-3f, .eps = 1e-3f});
  int again_calls = 0;
  mezo::step(again.params, again_opt, [&] { return ++again_calls == 2 ? NAN : 1.0f; }, 9);
  EXPECT_TRUE(same_bytes(again.w, again_before));
}

TEST(Step, NonFiniteLossLeavesWeightsBitIdentical) {
  for (int failing_call : {1, 2}) {
    for (float bad : {NAN, INFINITY}) {
      Blob b(50000);
      const auto before = b.w;
      mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
      int calls = 0;
      const auto r = mezo::step(
          b.params, opt, [&] { return ++calls == failing_call ? bad : 1.0f; }, 77);
      EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
      EXPECT_NE(r.message.find(failing_call == 1 ? "loss_plus" : "loss_minus"), std::string::npos)
          << r.message;
      EXPECT_TRUE(same_bytes(b.w, before)) << "failing call " << failing_call;
      EXPECT_EQ(opt.step_count(), 0);
      EXPECT_GT(r.journal_entries, 0u);
    }
  }
}

// A NaN or inf already in θ poisons the loss computed from θ: the step is
// rejected and θ, the bad element included, keeps its exact bits.
TEST(Step, NonFiniteWeightIsRejectedAndLeftAlone) {
  for (float bad : {NAN, -INFINITY}) {
    Blob b(30000);
    b.w[1234] = bad;
    const auto before = b.w;
    mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
    const auto loss = [&] {
      double s = 0;
      for (float v : b.w) s += static_cast<double>(v) * v;
      return static_cast<float>(s / static_cast<double>(b.w.size()));
    };
    const auto r = mezo::step(b.params, opt, loss, 5);
    EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
    EXPECT_FALSE(r.message.empty());
    EXPECT_TRUE(same_bytes(b.w, before));
    EXPECT_EQ(opt.step_count(), 0);
  }
}

// Determinism (issue 8): a run of steps ends in the same bits on 1, 2 and 3
// threads. The set is large enough (> 65 536 elements per thread) that the
// parameter passes really split across threads.
TEST(Step, RunIsBitIdenticalOnAnyThreadCount) {
  std::vector<std::vector<float>> finals;
  for (int threads : {1, 2, 3}) {
    Blob b(400000);
    mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f, .weight_decay = 0.1f},
                    mezo::gaussian_perturbation({.num_threads = threads}));
    const auto loss = [&] {
      double s = 0;
      for (std::size_t i = 0; i < b.w.size(); i += 7) s += std::abs(b.w[i] - 0.01 * (i % 13));
      return static_cast<float>(s);
    };
    for (std::uint64_t t = 0; t < 12; ++t) mezo::step(b.params, opt, loss, 1000 + t);
    finals.push_back(b.w);
  }
  EXPECT_FALSE(same_bytes(finals[0], Blob(400000).w)) << "the steps changed nothing";
  EXPECT_TRUE(same_bytes(finals[0], finals[1])) << "1 vs 2 threads";
  EXPECT_TRUE(same_bytes(finals[0], finals[2])) << "1 vs 3 threads";
}

TEST(Step, ExceptionFromTheLossRestoresWeightsAndPropagates) {
  for (int failing_call : {1, 2}) {
    Blob b(20000);
    const auto before = b.w;
    mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
    int calls = 0;
    const auto loss = [&]() -> float {
      if (++calls == failing_call) throw std::runtime_error("data loader failed");
      return 1.0f;
    };
    EXPECT_THROW(mezo::step(b.params, opt, loss, 9), std::runtime_error);
    EXPECT_TRUE(same_bytes(b.w, before));
    EXPECT_EQ(opt.step_count(), 0);
  }
}

TEST(Step, WithoutJournalRestoresWithinRoundingAndKeepsNoEntries) {
  Blob b(20000);
  const auto before = b.w;
  mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
  const auto r = mezo::step(b.params, opt, [] { return NAN; }, 3, {.exact_restore = false});
  EXPECT_EQ(r.journal_entries, 0u);
  for (std::size_t i = 0; i < before.size(); ++i) {
    ASSERT_LE(std::abs(b.w[i] - before[i]), 1e-8f) << i;
  }
}

// n-SPSA: the update is the average of the n directions' moves, applied in
// the same fused pass: rebuilding it by hand from θ0 gives the same bytes.
TEST(NSpsa, AppliesTheAverageOfItsDirections) {
  Blob live(30000);
  const auto theta0 = live.w;
  const float lr = 1e-2f;
  mezo::NSpsa opt({.lr = lr, .eps = 1e-3f, .weight_decay = 0.1f}, 4);
  double target = 0.3;
  const auto loss = [&] {
    double s = 0;
    for (std::size_t i = 0; i < live.w.size(); i += 97)
      s += (live.w[i] - target) * (live.w[i] - target);
    return float(s);
  };
  const auto r = mezo::step(live.params, opt, loss, 1234);
  ASSERT_EQ(r.estimates.size(), 4u);
  std::vector<mezo::ZTerm> terms;
  for (const auto& e : r.estimates) {
    EXPECT_NE(e.projected_grad, 0.0f);
    terms.push_back({e.seed, -(lr * e.projected_grad) / 4.0f});
  }
  EXPECT_NE(r.estimates[0].seed, r.estimates[1].seed);
  EXPECT_EQ(r.estimates[0].seed, 1234u);

  Blob manual(30000);
  ASSERT_TRUE(same_bytes(manual.w, theta0));
  mezo::ParamPass update;
  update.decay = lr * 0.1f;
  update.terms = terms;
  opt.perturbation().apply(manual.params, update);
  EXPECT_TRUE(same_bytes(live.w, manual.w));
}

TEST(ZoSgdSign, MovesByTheSignOfTheEstimate) {
  std::vector<float> w = {1.0f, -2.0f};
  mezo::ParamSet params;
  params.add("w", w.data(), w.size());
  mezo::ZoSgdSign opt({.lr = 0.1f, .eps = 1e-3f});
  const auto r = mezo::step(
      params, opt, [&] { return w[0] * w[0] + w[1] * w[1]; }, 5);
  ASSERT_EQ(r.update.terms.size(), 1u);
  EXPECT_EQ(r.update.terms[0].coef, r.projected_grad > 0 ? -0.1f : 0.1f);
}

TEST(LrSchedule, LinearDecaysToTheFinalFraction) {
  const auto s = mezo::LrSchedule::linear(100, 0.1f);
  EXPECT_FLOAT_EQ(s.at(1.0f, 0), 1.0f);
  EXPECT_FLOAT_EQ(s.at(1.0f, 50), 0.55f);
  EXPECT_FLOAT_EQ(s.at(1.0f, 100), 0.1f);
  EXPECT_FLOAT_EQ(s.at(1.0f, 1000), 0.1f);
  EXPECT_FLOAT_EQ(mezo::LrSchedule::constant().at(0.5f, 12345), 0.5f);

  std::vector<float> w = {1.0f};
  mezo::ParamSet params;
  params.add("w", w.data(), 1);
  mezo::ZoSgd opt({.lr = 1.0f, .eps = 1e-3f, .schedule = mezo::LrSchedule::linear(10)});
  for (int t = 0; t < 5; ++t)
    mezo::step(
        params, opt, [&] { return w[0] * w[0]; }, t);
  EXPECT_FLOAT_EQ(mezo::step(
                      params, opt, [&] { return w[0] * w[0]; }, 5)
                      .update.lr,
                  0.5f);
}

TEST(Optimizer, RejectsBadOptionsAndEmptySets) {
  EXPECT_THROW(mezo::ZoSgd({.lr = 1e-3f, .eps = 0.0f}), mezo::Error);
  EXPECT_THROW(mezo::ZoSgd({.lr = -1.0f, .eps = 1e-3f}), mezo::Error);
  EXPECT_THROW(mezo::ZoSgd({.lr = NAN, .eps = 1e-3f}), mezo::Error);
  EXPECT_THROW(mezo::ZoSgd({.lr = 1.0f, .eps = 1e-3f, .weight_decay = -1.0f}), mezo::Error);
  EXPECT_THROW(mezo::ZoSgd({.schedule = mezo::LrSchedule::linear(0)}), mezo::Error);
  EXPECT_THROW(mezo::NSpsa({}, 0), mezo::Error);
  mezo::ParamSet empty;
  mezo::ZoSgd opt({});
  EXPECT_THROW(mezo::step(
                   empty, opt, [] { return 0.0f; }, 1),
               mezo::Error);
}

}  // namespace

namespace {

TEST(Step, NonFiniteUpdateIsRejectedAndRestores) {
  std::vector<float> w = {1.0f, -2.0f};
  const auto before = w;
  mezo::ParamSet params;
  params.add("w", w.data(), w.size());
  mezo::ZoSgd opt({.lr = 3e38f, .eps = 1e-3f});
  const auto r = mezo::step(
      params, opt, [&] { return 1e3f * (w[0] + w[1]); }, 4);
  EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_update);
  EXPECT_TRUE(same_bytes(w, before));
  EXPECT_EQ(opt.step_count(), 0);
}

}  // namespace
