// FZOO and AdaMeZO (mezo/fzoo.hpp, mezo/ada_mezo.hpp) against what is known:
// their updates written out element by element from regenerated z, the FZOO
// estimator's mean on a quadratic, training on least squares; and mezo::step's
// guarantees for their probe schedules (one-sided probes; update terms along
// earlier steps' seeds), parameterised over both: replay and kill/resume bit
// for bit, any thread count at real width, NaN and exception restore, bad
// options.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <mezo/mezo.hpp>
#include <random>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

namespace {

using mezo_test::same_bytes;
using mezo_test::TempDir;

// ½‖θ − target‖² over every element, in double: a loss with a known gradient.
struct Bowl {
  std::vector<float> theta, target;
  mezo::ParamSet params;
  explicit Bowl(std::size_t n, unsigned seed = 5) : theta(n), target(n) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (float& v : theta) v = normal(gen);
    for (float& v : target) v = normal(gen) + 0.1f;
    params.add("w", theta.data(), n);
  }
  float loss() const {
    double s = 0;
    for (std::size_t i = 0; i < theta.size(); ++i) {
      const double d = double(theta[i]) - target[i];
      s += 0.5 * d * d;
    }
    return float(s);
  }
};

// --- FZOO -------------------------------------------------------------------

// θ' = θ + Σ_i coef_i u_i with coef_i = −η (ℓi − ℓ0) / (N σ), σ the biased
// standard deviation of ℓ1..ℓN, u_i regenerated from the estimates' seeds.
TEST(Fzoo, UpdateIsTheNormalisedSumOfItsOneSidedProbes) {
  Bowl m(3000);
  const std::vector<float> before = m.theta;
  mezo::Fzoo opt({.lr = 1e-3f, .eps = 1e-3f, .directions = 6});
  int forwards = 0;
  const mezo::StepResult r = mezo::step(
      m.params, opt, [&] { return ++forwards, m.loss(); }, 77);
  ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
  EXPECT_EQ(forwards, 7) << "N + 1 forwards";
  EXPECT_EQ(mezo::forwards_per_step(opt), 7);
  ASSERT_EQ(r.estimates.size(), 6u);
  ASSERT_EQ(r.update.terms.size(), 6u);

  // ℓ0 is the loss at θ itself; each ℓi the loss at θ + εu_i.
  Bowl at(3000);
  EXPECT_EQ(r.estimates[0].loss_minus, at.loss());
  double mean = 0, var = 0;
  for (const auto& e : r.estimates) mean += e.loss_plus / 6.0;
  for (const auto& e : r.estimates) var += (e.loss_plus - mean) * (e.loss_plus - mean) / 6.0;
  const double sigma = std::sqrt(var);
  std::vector<std::vector<float>> u(6, std::vector<float>(before.size()));
  for (int i = 0; i < 6; ++i) {
    const auto& e = r.estimates[i];
    EXPECT_EQ(e.seed, mezo::direction_seed(77, i));
    EXPECT_EQ(e.loss_minus, r.estimates[0].loss_minus) << "one ℓ0 for the step";
    EXPECT_FLOAT_EQ(e.projected_grad, (e.loss_plus - e.loss_minus) / 1e-3f);
    const double expected = -1e-3 * (e.loss_plus - e.loss_minus) / (6.0 * sigma);
    EXPECT_NEAR(r.update.terms[i].coef, expected, 1e-6 * std::abs(expected) + 1e-12) << i;
    opt.perturbation().generate(e.seed, 0, u[i]);
    for (float v : u[i]) ASSERT_EQ(std::abs(v), 1.0f) << "Rademacher directions";
  }
  for (std::size_t j = 0; j < before.size(); ++j) {
    double x = before[j];
    for (int i = 0; i < 6; ++i) x += double(r.update.terms[i].coef) * u[i][j];
    ASSERT_NEAR(m.theta[j], x, 1e-7) << "element " << j;
  }
}

// The step is normalised: multiplying the loss by 1000 and adding a constant
// moves θ the same way (to float rounding of the larger losses).
TEST(Fzoo, StepIsScaleFreeInTheLoss) {
  std::vector<std::vector<float>> finals;
  for (const double scale : {1.0, 1000.0}) {
    Bowl m(2000);
    mezo::Fzoo opt({.lr = 1e-3f, .eps = 1e-3f, .directions = 4});
    for (std::uint64_t t = 0; t < 3; ++t) {
      mezo::step(
          m.params, opt, [&] { return float(scale * m.loss() + (scale - 1) * 7); }, 10 + t);
    }
    finals.push_back(m.theta);
  }
  double diff = 0, moved = 0;
  const Bowl start(2000);
  for (std::size_t j = 0; j < finals[0].size(); ++j) {
    diff = std::max(diff, double(std::abs(finals[0][j] - finals[1][j])));
    moved = std::max(moved, double(std::abs(finals[0][j] - start.theta[j])));
  }
  EXPECT_GT(moved, 1e-4);
  EXPECT_LT(diff, 0.02 * moved) << "the scaled loss moved θ differently";
}

// All N losses equal (a flat loss): σ = 0, no direction information, no move.
TEST(Fzoo, FlatLossMovesNothing) {
  Bowl m(500);
  const std::vector<float> before = m.theta;
  mezo::Fzoo opt({.lr = 1e-2f, .eps = 1e-3f, .directions = 3});
  const auto r = mezo::step(
      m.params, opt, [] { return 1.5f; }, 4);
  ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
  for (const auto& t : r.update.terms) EXPECT_EQ(t.coef, 0.0f);
  EXPECT_TRUE(same_bytes(m.theta, before));
  EXPECT_EQ(opt.step_count(), 1);
}

// E[(ℓ(θ + εu) − ℓ(θ)) / ε · u] = ∇f for a quadratic and Rademacher u: the
// curvature term ε/2 uᵀAu · u has mean zero (odd moments of u vanish). The
// mean over 8 × 3000 probes must lie within 5 standard errors everywhere.
TEST(Fzoo, OneSidedEstimateHasTheGradientAsItsMean) {
  const int d = 8;
  std::vector<float> theta = {0.3f, -0.2f, 0.5f, 0.1f, -0.4f, 0.25f, 0.0f, -0.1f};
  // f(θ) = Σ_i a_i θ_i² / 2 + Σ_i b_i θ_i + c θ_0 θ_1
  const std::vector<double> a = {1, 2, 0.5, 3, 1.5, 1, 2.5, 0.7}, b = {0.1, -0.3, 0.2, 0, 0.4,
                                                                        -0.1, 0.3, -0.2};
  const double c = 0.6;
  const auto f = [&] {
    double s = c * theta[0] * theta[1];
    for (int i = 0; i < d; ++i) s += a[i] * theta[i] * theta[i] / 2 + b[i] * theta[i];
    return float(s);
  };
  std::vector<double> grad(d);
  for (int i = 0; i < d; ++i) grad[i] = a[i] * theta[i] + b[i];
  grad[0] += c * theta[1];
  grad[1] += c * theta[0];

  mezo::ParamSet params;
  params.add("theta", theta.data(), d);
  mezo::Fzoo opt({.lr = 0.0f, .eps = 1e-2f, .directions = 8});
  const std::vector<float> theta0 = theta;
  std::vector<double> sum(d), sum2(d);
  std::vector<float> u(d);
  int samples = 0;
  for (std::uint64_t t = 0; t < 3000; ++t) {
    const auto r = mezo::step(params, opt, f, 5000 + t);
    ASSERT_EQ(r.status, mezo::StepStatus::ok);
    for (const auto& e : r.estimates) {
      opt.perturbation().generate(e.seed, 0, u);
      for (int i = 0; i < d; ++i) {
        const double g = double(e.projected_grad) * u[i];
        sum[i] += g, sum2[i] += g * g;
      }
      ++samples;
    }
  }
  EXPECT_TRUE(same_bytes(theta, theta0)) << "lr 0 leaves θ bit-identical";
  for (int i = 0; i < d; ++i) {
    const double mean = sum[i] / samples;
    const double se = std::sqrt((sum2[i] / samples - mean * mean) / samples);
    EXPECT_NEAR(mean, grad[i], 5 * se + 1e-3) << "coordinate " << i;
  }
}

// ½‖Aθ − b‖² with a linearly decaying lr: FZOO drives it to a small fraction.
TEST(Fzoo, SolvesLeastSquares) {
  const int rows = 30, d = 10;
  std::mt19937 gen(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> a(rows * d), b(rows);
  for (double& v : a) v = normal(gen) / std::sqrt(rows);
  for (double& v : b) v = normal(gen);
  std::vector<float> theta(d, 0.0f);
  const auto loss = [&] {
    double s = 0;
    for (int r = 0; r < rows; ++r) {
      double y = -b[r];
      for (int j = 0; j < d; ++j) y += a[r * d + j] * theta[j];
      s += 0.5 * y * y;
    }
    return float(s);
  };
  // The least-squares optimum, by the normal equations (Gaussian elimination).
  std::vector<double> n(d * d), rhs(d);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j)
      for (int r = 0; r < rows; ++r) n[i * d + j] += a[r * d + i] * a[r * d + j];
    for (int r = 0; r < rows; ++r) rhs[i] += a[r * d + i] * b[r];
  }
  for (int k = 0; k < d; ++k) {
    for (int i = k + 1; i < d; ++i) {
      const double f = n[i * d + k] / n[k * d + k];
      for (int j = k; j < d; ++j) n[i * d + j] -= f * n[k * d + j];
      rhs[i] -= f * rhs[k];
    }
  }
  std::vector<float> best(d);
  std::vector<double> x(d);
  for (int i = d - 1; i >= 0; --i) {
    double s = rhs[i];
    for (int j = i + 1; j < d; ++j) s -= n[i * d + j] * x[j];
    x[i] = s / n[i * d + i];
  }
  const float start = loss();
  for (int j = 0; j < d; ++j) theta[j] = float(x[j]);
  const float optimum = loss();
  std::fill(theta.begin(), theta.end(), 0.0f);

  mezo::ParamSet params;
  params.add("theta", theta.data(), d);
  const int steps = 1500;
  mezo::Fzoo opt({.lr = 0.05f,
                  .eps = 1e-3f,
                  .directions = 8,
                  .schedule = mezo::LrSchedule::linear(steps, 0.02f)});
  for (int t = 0; t < steps; ++t) mezo::step(params, opt, loss, 900 + t);
  EXPECT_LT(loss() - optimum, 0.02 * (start - optimum))
      << "start " << start << ", optimum " << optimum << ", reached " << loss();
}

// --- AdaMeZO ----------------------------------------------------------------

// After step t, θ moved by −η m / (√v + δ) with m = Σ β1^(t−j) c_j z_j and
// v = Σ β2^(t−j) c_j² over the last h steps j, z regenerated from their seeds.
TEST(AdaMezo, UpdateIsMomentumReplayedFromPastSeeds) {
  Bowl m(2500);
  const mezo::AdaMezoConfig config{.lr = 1e-3f, .eps = 1e-3f, .beta1 = 0.6f, .beta2 = 0.8f,
                                   .history = 3};
  mezo::AdaMezo opt(config);
  EXPECT_EQ(mezo::forwards_per_step(opt), 2);
  std::vector<std::pair<std::uint64_t, float>> past;  // (seed, c), oldest first
  std::vector<float> z(m.theta.size());
  for (std::uint64_t t = 0; t < 6; ++t) {
    const std::vector<float> before = m.theta;
    const auto r = mezo::step(
        m.params, opt, [&] { return m.loss(); }, 300 + t);
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    past.push_back({r.seed, r.projected_grad});
    if (past.size() > 3) past.erase(past.begin());
    ASSERT_EQ(r.update.terms.size(), past.size()) << "step " << t;
    double v = 0;
    for (std::size_t k = 0; k < past.size(); ++k) {
      const double age = double(past.size() - 1 - k);
      v += std::pow(0.8, age) * double(past[k].second) * past[k].second;
    }
    std::vector<double> expected(before.begin(), before.end());
    for (std::size_t k = 0; k < past.size(); ++k) {
      const double age = double(past.size() - 1 - k);
      // Term 0 is this step's direction; then the older ones, newest first.
      EXPECT_EQ(r.update.terms[past.size() - 1 - k].seed, past[k].first);
      opt.perturbation().generate(past[k].first, 0, z);
      const double coef = -1e-3 * std::pow(0.6, age) * past[k].second / (std::sqrt(v) + 1e-5);
      for (std::size_t j = 0; j < z.size(); ++j) expected[j] += coef * z[j];
    }
    for (std::size_t j = 0; j < z.size(); ++j) {
      ASSERT_NEAR(m.theta[j], expected[j], 2e-7) << "step " << t << ", element " << j;
    }
  }
}

// set_step_count(s) forgets the steps from s on, so a plan that mezo::step
// refused leaves no trace in the history.
TEST(AdaMezo, PuttingTheStepCountBackForgetsThoseSteps) {
  mezo::AdaMezo opt({.lr = 1e-3f, .history = 4});
  const mezo::SeedEstimate e1{11, 0, 0, 0.5f}, e2{12, 0, 0, -0.25f}, e3{13, 0, 0, 1.0f};
  opt.plan_update({&e1, 1});
  opt.plan_update({&e2, 1});
  opt.set_step_count(1);
  const mezo::UpdatePlan plan = opt.plan_update({&e3, 1});
  ASSERT_EQ(plan.terms.size(), 2u);
  EXPECT_EQ(plan.terms[0].seed, 13u);
  EXPECT_EQ(plan.terms[1].seed, 11u);
  mezo::AdaMezo fresh({.lr = 1e-3f, .history = 4});
  fresh.plan_update({&e1, 1});
  const mezo::UpdatePlan same = fresh.plan_update({&e3, 1});
  EXPECT_EQ(plan.terms[0].coef, same.terms[0].coef);
  EXPECT_EQ(plan.terms[1].coef, same.terms[1].coef);
}

// The refused step (an lr so large the decay overflows) does not enter the
// history: the next steps equal those of a run that never had it.
TEST(AdaMezo, RefusedUpdateLeavesNoTrace) {
  Bowl a(400), b(400);
  mezo::AdaMezo opt_a({.lr = 1e-3f, .history = 3}), opt_b({.lr = 1e-3f, .history = 3});
  mezo::step(a.params, opt_a, [&] { return a.loss(); }, 1);
  mezo::step(b.params, opt_b, [&] { return b.loss(); }, 1);
  mezo::AdaMezo huge({.lr = 3e38f, .history = 3, .weight_decay = 10.0f});
  // The same optimizer type with the same history: refused, nothing kept.
  for (std::uint64_t t = 2; t < 5; ++t) {
    const auto before = a.theta;
    const auto r = mezo::step(a.params, huge, [&] { return a.loss(); }, 100 + t);
    EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_update);
    EXPECT_TRUE(same_bytes(a.theta, before));
    EXPECT_EQ(huge.step_count(), 0);
  }
  mezo::step(a.params, opt_a, [&] { return a.loss(); }, 2);
  mezo::step(b.params, opt_b, [&] { return b.loss(); }, 2);
  EXPECT_TRUE(same_bytes(a.theta, b.theta));
}

// --- bad options --------------------------------------------------------------

void expect_invalid(const std::function<void()>& make, const char* words) {
  try {
    make();
    ADD_FAILURE() << "accepted; expected an error saying '" << words << "'";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(ZoOptimizers, RejectBadOptionsNamingThem) {
  expect_invalid([] { mezo::Fzoo({.directions = 1}); }, "FZOO: directions");
  expect_invalid([] { mezo::Fzoo({.directions = 70000}); }, "FZOO: directions");
  expect_invalid([] { mezo::Fzoo({.eps = 0.0f}); }, "FZOO: eps");
  expect_invalid([] { mezo::Fzoo({.lr = -1.0f}); }, "FZOO: lr");
  expect_invalid([] { mezo::Fzoo({.lr = NAN}); }, "FZOO: lr");
  expect_invalid([] { mezo::Fzoo({.weight_decay = -0.1f}); }, "FZOO: weight_decay");
  expect_invalid([] { mezo::Fzoo({.schedule = mezo::LrSchedule::linear(0)}); }, "total_steps");
  expect_invalid([] { mezo::AdaMezo({.history = 0}); }, "AdaMeZO: history");
  expect_invalid([] { mezo::AdaMezo({.beta1 = 1.0f}); }, "AdaMeZO: beta1");
  expect_invalid([] { mezo::AdaMezo({.beta2 = -0.1f}); }, "AdaMeZO: beta2");
  expect_invalid([] { mezo::AdaMezo({.delta = 0.0f}); }, "AdaMeZO: delta");
  expect_invalid([] { mezo::AdaMezo({.eps = -1e-3f}); }, "AdaMeZO: eps");
  expect_invalid([] { mezo::AdaMezo({}, mezo::gaussian_perturbation()); }, "Rademacher");
  expect_invalid([] { mezo::Fzoo({}).set_step_count(-1); }, "step count");
  // plan_update with the wrong number of estimates (a caller's bug).
  const mezo::SeedEstimate e{1, 0, 0, 0};
  expect_invalid([&] { mezo::Fzoo({.directions = 2}).plan_update({&e, 1}); }, "2 estimates");
  const std::vector<mezo::SeedEstimate> two(2, e);
  expect_invalid([&] { mezo::AdaMezo({}).plan_update(two); }, "1 estimate");
}

// An optimizer whose plan breaks UpdatePlan's rule (term i along estimate i's
// seed) is refused with an error, θ restored and its step count put back.
class MisorderedOptimizer final : public mezo::ZoSgd {
 public:
  MisorderedOptimizer() : ZoSgd({.lr = 1e-3f, .eps = 1e-3f}) {}
  mezo::UpdatePlan plan_update(std::span<const mezo::SeedEstimate> estimates) override {
    mezo::UpdatePlan plan = ZoSgd::plan_update(estimates);
    plan.terms.insert(plan.terms.begin(), {estimates[0].seed + 1, 0.1f});
    return plan;
  }
};

TEST(ZoOptimizers, APlanBreakingTheTermOrderIsAnErrorAndRestores) {
  Bowl m(300);
  const auto before = m.theta;
  MisorderedOptimizer opt;
  try {
    mezo::step(m.params, opt, [&] { return m.loss(); }, 9);
    ADD_FAILURE() << "the misordered plan was applied";
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("term i must be along direction i"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(same_bytes(m.theta, before));
  EXPECT_EQ(opt.step_count(), 0);
}

// --- guarantees, for each method ------------------------------------------------

struct Method {
  const char* name;
  std::function<std::unique_ptr<mezo::Optimizer>(int threads, float lr)> make;
};

std::ostream& operator<<(std::ostream& os, const Method& m) { return os << m.name; }

const Method kFzoo{"fzoo", [](int threads, float lr) -> std::unique_ptr<mezo::Optimizer> {
                     return std::make_unique<mezo::Fzoo>(
                         mezo::FzooConfig{.lr = lr, .eps = 1e-3f, .directions = 4,
                                          .weight_decay = 0.05f},
                         mezo::rademacher_perturbation({.num_threads = threads}));
                   }};
const Method kAdaMezo{"ada_mezo", [](int threads, float lr) -> std::unique_ptr<mezo::Optimizer> {
                        return std::make_unique<mezo::AdaMezo>(
                            mezo::AdaMezoConfig{.lr = lr, .eps = 1e-3f, .history = 4,
                                                .weight_decay = 0.05f},
                            mezo::rademacher_perturbation({.num_threads = threads}));
                      }};

class ZoMethod : public testing::TestWithParam<Method> {
 protected:
  std::unique_ptr<mezo::Optimizer> make(int threads = 0, float lr = 2e-3f) const {
    return GetParam().make(threads, lr);
  }
};

// A run of `steps` steps from `first` on, logged to `writer`, with a NaN at
// every 7th step's `bad_call`-th loss (so rejections at ℓ0, at a probe and
// none all happen).
void run_steps(Bowl& m, mezo::Optimizer& opt, mezo::TrajectoryWriter& writer, int first,
               int steps, const mezo::StepOptions& options) {
  const mezo::SeedSchedule seeds(41);
  for (int t = first; t < first + steps; ++t) {
    int calls = 0;
    const int bad_call = t % 7 == 6 ? (t / 7) % 3 : -1;
    const auto loss = [&] { return calls++ == bad_call ? NAN : m.loss(); };
    writer.append(t, mezo::step(m.params, opt, loss, seeds.seed_for_step(t), options));
  }
}

TEST_P(ZoMethod, ReplayRebuildsTheRunBitForBit) {
  for (const bool exact : {true, false}) {
    SCOPED_TRACE(exact ? "exact restore" : "no journal");
    TempDir dir;
    Bowl m(5000);
    auto opt = make();
    const mezo::StepOptions options{.exact_restore = exact};
    auto writer = mezo::TrajectoryWriter::create(
        dir / "run.mezotrj", mezo::make_trajectory_header(*opt, options, 41));
    run_steps(m, *opt, writer, 0, 30, options);
    writer.sync();
    const mezo::Trajectory log = mezo::read_trajectory(dir / "run.mezotrj");
    bool saw_rejected = false;
    for (const auto& r : log.records) saw_rejected |= (r.flags & mezo::TrajectoryRecord::rejected);
    EXPECT_TRUE(saw_rejected);
    Bowl replayed(5000);
    mezo::replay(replayed.params, opt->perturbation(), log);
    EXPECT_FALSE(same_bytes(replayed.theta, Bowl(5000).theta)) << "the run moved nothing";
    EXPECT_TRUE(same_bytes(replayed.theta, m.theta));
  }
}

// Killed after 11 steps, resumed from the log alone (weights replayed, the
// optimizer rebuilt by resume_optimizer): the same weights and the same log
// bytes as a run that was never interrupted.
TEST_P(ZoMethod, KillAndResumeIsBitExact) {
  TempDir dir;
  const mezo::StepOptions options{};
  Bowl whole(5000);
  {
    auto opt = make();
    auto writer = mezo::TrajectoryWriter::create(
        dir / "whole.mezotrj", mezo::make_trajectory_header(*opt, options, 41));
    run_steps(whole, *opt, writer, 0, 25, options);
  }
  {
    Bowl first(5000);
    auto opt = make();
    auto writer = mezo::TrajectoryWriter::create(
        dir / "resumed.mezotrj", mezo::make_trajectory_header(*opt, options, 41));
    run_steps(first, *opt, writer, 0, 11, options);
  }  // killed: the weights and the optimizer are gone
  Bowl resumed(5000);
  auto opt = make();
  {
    const mezo::Trajectory log = mezo::read_trajectory(dir / "resumed.mezotrj");
    mezo::replay(resumed.params, opt->perturbation(), log);
    mezo::resume_optimizer(*opt, log);
  }
  auto writer = mezo::TrajectoryWriter::open_append(dir / "resumed.mezotrj");
  run_steps(resumed, *opt, writer, 11, 14, options);
  writer.sync();
  EXPECT_TRUE(same_bytes(resumed.theta, whole.theta));
  EXPECT_EQ(mezo_test::read_bytes(dir / "resumed.mezotrj"),
            mezo_test::read_bytes(dir / "whole.mezotrj"));

  // Another lr is not the run's optimizer: refused, naming the step.
  auto other = GetParam().make(0, 3e-3f);
  try {
    mezo::resume_optimizer(*other, mezo::read_trajectory(dir / "whole.mezotrj"));
    ADD_FAILURE() << "resumed with another lr";
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("at step 0"), std::string::npos) << e.what();
  }
}

// 1.2M elements over 1, 2 and 3 threads: the same bits.
TEST_P(ZoMethod, RunIsBitIdenticalOnAnyThreadCount) {
  std::vector<std::vector<float>> finals;
  for (const int threads : {1, 2, 3}) {
    Bowl m(1'200'000);
    auto opt = make(threads, 1e-4f);
    for (std::uint64_t t = 0; t < 4; ++t) {
      const auto r = mezo::step(
          m.params, *opt, [&] { return m.loss(); }, 60 + t);
      ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
      EXPECT_GT(r.journal_entries, 0u) << "real-width weights need the journal";
    }
    finals.push_back(m.theta);
  }
  EXPECT_FALSE(same_bytes(finals[0], Bowl(1'200'000).theta));
  EXPECT_TRUE(same_bytes(finals[0], finals[1])) << "1 vs 2 threads";
  EXPECT_TRUE(same_bytes(finals[0], finals[2])) << "1 vs 3 threads";
}

// A NaN or an exception at any of the step's forwards: θ bit-identical, the
// optimizer not advanced (the next step equals a fresh optimizer's), the NaN
// named in the result, the exception rethrown unchanged.
TEST_P(ZoMethod, BadLossAtAnyForwardRestoresBitExactly) {
  const int forwards = mezo::forwards_per_step(*make());
  for (int bad = 0; bad < forwards; ++bad) {
    for (const bool throws : {false, true}) {
      SCOPED_TRACE(testing::Message() << "forward " << bad << (throws ? " throws" : " is NaN"));
      Bowl m(3000);
      const auto before = m.theta;
      auto opt = make();
      mezo::step(m.params, *opt, [&] { return m.loss(); }, 1);  // a history to keep
      const auto after_one = m.theta;
      int calls = 0;
      const auto loss = [&] {
        if (calls++ == bad) {
          if (throws) throw std::runtime_error("loader failed");
          return NAN;
        }
        return m.loss();
      };
      if (throws) {
        EXPECT_THROW(mezo::step(m.params, *opt, loss, 2), std::runtime_error);
      } else {
        const auto r = mezo::step(m.params, *opt, loss, 2);
        EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
        EXPECT_NE(r.message.find("nan"), std::string::npos) << r.message;
      }
      EXPECT_TRUE(same_bytes(m.theta, after_one));
      EXPECT_EQ(opt->step_count(), 1);
      // The optimizer is as if the bad step never happened.
      mezo::step(m.params, *opt, [&] { return m.loss(); }, 3);
      Bowl ref(3000);
      auto fresh = make();
      mezo::step(ref.params, *fresh, [&] { return ref.loss(); }, 1);
      mezo::step(ref.params, *fresh, [&] { return ref.loss(); }, 3);
      EXPECT_TRUE(same_bytes(m.theta, ref.theta));
      EXPECT_FALSE(same_bytes(m.theta, before));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, ZoMethod, testing::Values(kFzoo, kAdaMezo),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
