// DeferredPerturbation: probes kept virtual (probe(), materialize()), updates
// written in place. On fp32 a step through it is bit-identical to mezo::step
// with the base perturbation and the restore journal; on bf16 it keeps the
// stored weights exact where in-place probing cannot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <mezo/mezo.hpp>
#include <ostream>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using mezo_test::bits_of;
using mezo_test::error_of;
using mezo_test::random_f32;

float widen(std::uint16_t b) {
  const std::uint32_t u = std::uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool same_f32(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * 4) == 0;
}

std::vector<std::uint16_t> random_bf16(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<std::uint16_t> w(n);
  for (auto& v : w) v = mezo::float_to_bf16(dist(gen));
  return w;
}

// A deterministic nonlinear objective of the weights in global element order.
float objective(std::span<const float> x) {
  double s = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double target = 0.05 * std::sin(0.37 * static_cast<double>(i));
    const double d = static_cast<double>(x[i]) - target;
    s += d * d + 0.01 * std::sin(40.0 * static_cast<double>(x[i]));
  }
  return static_cast<float>(s);
}

// Every element of the set as the loss should see it: through materialize()
// for the deferred run, straight from memory otherwise.
std::vector<float> gather_materialized(const mezo::ParamSet& params,
                                       const mezo::DeferredPerturbation& deferred) {
  std::vector<float> all(params.num_elements());
  for (const mezo::ParamView& v : params.views()) {
    deferred.materialize(v, 0, std::span<float>(all.data() + v.offset, v.size));
  }
  return all;
}

std::vector<float> gather_stored(const mezo::ParamSet& params) {
  std::vector<float> all(params.num_elements());
  for (const mezo::ParamView& v : params.views()) {
    for (std::uint64_t j = 0; j < v.size; ++j) {
      all[v.offset + j] = v.dtype == mezo::DType::bf16 ? widen(v.bf16()[j]) : v.f32()[j];
    }
  }
  return all;
}

// An fp32 model of three views, one of them without weight decay.
struct Model {
  std::vector<float> enc, bias, head;
  mezo::ParamSet params;
  explicit Model(unsigned seed)
      : enc(random_f32(4099, seed, 0.02f)),
        bias(random_f32(257, seed + 1, 0.05f)),
        head(random_f32(1500, seed + 2, 0.02f)) {
    enc[0] = 0.0f;
    enc[1] = -0.0f;
    enc[2] = 1e-30f;                         // tiny: lossy round trip
    enc[3] = std::nextafter(0.0625f, 0.0f);  // just below a power of two
    params.add("enc.weight", enc.data(), enc.size());
    params.add("enc.bias", bias.data(), bias.size());  // no decay
    params.add("head.weight", head.data(), head.size());
  }
  Model(const Model&) = delete;
  std::vector<float> all() const { return gather_stored(params); }
};

struct Bf16Model {
  std::vector<std::uint16_t> w, b;
  mezo::ParamSet params;
  explicit Bf16Model(unsigned seed)
      : w(random_bf16(10007, seed, 0.02f)), b(random_bf16(301, seed + 1, 0.05f)) {
    params.add_bf16("w.weight", w.data(), w.size());
    params.add_bf16("w.bias", b.data(), b.size());
  }
  Bf16Model(const Bf16Model&) = delete;
};

std::shared_ptr<const mezo::Perturbation> base_of(mezo::ZDistribution d) {
  return d == mezo::ZDistribution::gaussian ? mezo::gaussian_perturbation()
                                            : mezo::rademacher_perturbation();
}

std::unique_ptr<mezo::ZoSgd> make_optimizer(int directions, mezo::ZoSgdConfig config,
                                            std::shared_ptr<const mezo::Perturbation> p) {
  if (directions == 1) return std::make_unique<mezo::ZoSgd>(config, std::move(p));
  return std::make_unique<mezo::NSpsa>(config, directions, std::move(p));
}

// --- the key property: bit-identical to the journaled in-place step --------

struct EquivalenceCase {
  const char* name;
  mezo::ZDistribution distribution;
  int directions;
  float weight_decay;
};

void PrintTo(const EquivalenceCase& c, std::ostream* os) { *os << c.name; }

class DeferredEquivalence : public ::testing::TestWithParam<EquivalenceCase> {};

TEST_P(DeferredEquivalence, StepIsBitIdenticalToJournaledInPlaceStep) {
  const EquivalenceCase c = GetParam();
  Model inplace(11), deferred_model(11);
  const auto initial = inplace.all();
  ASSERT_TRUE(same_f32(initial, deferred_model.all()));

  const mezo::ZoSgdConfig config{.lr = 1e-4f, .eps = 1e-3f, .weight_decay = c.weight_decay};
  auto plain_opt = make_optimizer(c.directions, config, base_of(c.distribution));
  const auto deferred = std::make_shared<const mezo::DeferredPerturbation>(base_of(c.distribution));
  auto deferred_opt = make_optimizer(c.directions, config, deferred);

  const auto plain_loss = [&] { return objective(inplace.all()); };
  const auto deferred_loss = [&] {
    return objective(gather_materialized(deferred_model.params, *deferred));
  };

  std::uint64_t inplace_journal = 0;
  const mezo::SeedSchedule seeds(99);
  for (int t = 0; t < 20; ++t) {
    SCOPED_TRACE(t);
    const std::uint64_t seed = seeds.seed_for_step(t);
    const auto a = mezo::step(inplace.params, *plain_opt, plain_loss, seed);
    const auto b = mezo::step(deferred_model.params, *deferred_opt, deferred_loss, seed);
    ASSERT_EQ(a.status, mezo::StepStatus::ok) << a.message;
    ASSERT_EQ(b.status, mezo::StepStatus::ok) << b.message;
    EXPECT_EQ(bits_of(a.loss_plus), bits_of(b.loss_plus));
    EXPECT_EQ(bits_of(a.loss_minus), bits_of(b.loss_minus));
    EXPECT_EQ(bits_of(a.projected_grad), bits_of(b.projected_grad));
    EXPECT_NE(a.loss_plus, a.loss_minus) << "the probe moved nothing";
    ASSERT_EQ(a.estimates.size(), static_cast<std::size_t>(c.directions));
    ASSERT_EQ(b.estimates.size(), a.estimates.size());
    for (std::size_t d = 0; d < a.estimates.size(); ++d) {
      EXPECT_EQ(a.estimates[d].seed, b.estimates[d].seed);
      EXPECT_EQ(bits_of(a.estimates[d].loss_plus), bits_of(b.estimates[d].loss_plus));
      EXPECT_EQ(bits_of(a.estimates[d].loss_minus), bits_of(b.estimates[d].loss_minus));
      EXPECT_EQ(bits_of(a.estimates[d].projected_grad), bits_of(b.estimates[d].projected_grad));
    }
    ASSERT_EQ(a.update.terms.size(), b.update.terms.size());
    for (std::size_t k = 0; k < a.update.terms.size(); ++k) {
      EXPECT_EQ(bits_of(a.update.terms[k].coef), bits_of(b.update.terms[k].coef));
    }
    EXPECT_EQ(bits_of(a.update.decay), bits_of(b.update.decay));
    if (c.weight_decay > 0.0f) {
      EXPECT_GT(b.update.decay, 0.0f) << "decay not exercised";
    }
    EXPECT_TRUE(a.exact_restore);
    EXPECT_EQ(b.journal_entries, 0u);
    inplace_journal += a.journal_entries;
    EXPECT_TRUE(deferred->probe().empty());
    ASSERT_TRUE(same_f32(inplace.all(), deferred_model.all())) << "weights diverged";
  }
  // The journal was needed in the in-place run (else the comparison would not
  // show that deferred probing is exact), and training moved the weights.
  EXPECT_GT(inplace_journal, 0u);
  EXPECT_FALSE(same_f32(initial, deferred_model.all()));
  EXPECT_EQ(deferred_opt->step_count(), 20);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DeferredEquivalence,
    ::testing::Values(
        EquivalenceCase{"zosgd_gaussian", mezo::ZDistribution::gaussian, 1, 0.0f},
        EquivalenceCase{"zosgd_gaussian_decay", mezo::ZDistribution::gaussian, 1, 0.5f},
        EquivalenceCase{"nspsa3_gaussian_decay", mezo::ZDistribution::gaussian, 3, 0.5f},
        EquivalenceCase{"zosgd_rademacher_decay", mezo::ZDistribution::rademacher, 1, 0.5f},
        EquivalenceCase{"nspsa2_rademacher", mezo::ZDistribution::rademacher, 2, 0.0f}),
    [](const auto& info) { return std::string(info.param.name); });

// --- what the loss sees during a step ---------------------------------------

TEST(DeferredStep, StoredWeightsStayPutAndProbeIsPlusThenMinusEps) {
  for (int directions : {1, 2}) {
    SCOPED_TRACE(directions);
    Model m(21);
    const auto deferred =
        std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
    auto opt = make_optimizer(directions, {.lr = 1e-4f, .eps = 1e-3f}, deferred);
    const std::uint64_t seed = 4242;
    const float eps = 1e-3f;
    const auto before = m.all();
    int calls = 0;
    const auto loss = [&] {
      const int call = calls++;
      EXPECT_TRUE(same_f32(m.all(), before)) << "stored weights moved during loss " << call;
      const auto probe = deferred->probe();
      EXPECT_EQ(probe.size(), 1u) << "call " << call;
      if (probe.size() == 1) {
        EXPECT_EQ(probe[0].seed, mezo::direction_seed(seed, call / 2)) << "call " << call;
        EXPECT_EQ(bits_of(probe[0].coef), bits_of(call % 2 == 0 ? eps : -eps)) << "call " << call;
      }
      const auto seen = gather_materialized(m.params, *deferred);
      EXPECT_FALSE(same_f32(seen, before)) << "materialize shows no probe in call " << call;
      return objective(seen);
    };
    EXPECT_TRUE(deferred->probe().empty());
    const auto r = mezo::step(m.params, *opt, loss, seed);
    ASSERT_EQ(r.status, mezo::StepStatus::ok);
    EXPECT_EQ(calls, 2 * directions);
    EXPECT_EQ(r.estimates[0].seed, seed);
    EXPECT_TRUE(deferred->probe().empty());
    EXPECT_FALSE(same_f32(m.all(), before)) << "the update was not written";
  }
}

// The documented pitfall: a loss reading the stored buffers sees no probe.
TEST(DeferredStep, LossReadingStoredWeightsSeesNoProbe) {
  Model m(22);
  const auto deferred =
      std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
  mezo::ZoSgd opt({.lr = 1e-4f, .eps = 1e-3f}, deferred);
  const auto before = m.all();
  const auto r = mezo::step(
      m.params, opt, [&] { return objective(m.all()); }, 5);
  ASSERT_EQ(r.status, mezo::StepStatus::ok);
  EXPECT_EQ(r.loss_plus, r.loss_minus);
  EXPECT_EQ(r.projected_grad, 0.0f);
  EXPECT_TRUE(same_f32(m.all(), before));
}

// --- bf16: exact with deferred probes, drifting in place --------------------

TEST(DeferredBf16, ThousandZeroLrStepsLeaveTheBits) {
  const mezo::ZoSgdConfig config{.lr = 0.0f, .eps = 1e-3f};

  Bf16Model deferred_model(31);
  const auto w0 = deferred_model.w, b0 = deferred_model.b;
  const auto deferred =
      std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
  mezo::ZoSgd deferred_opt(config, deferred);
  int nonzero_grads = 0;
  for (int t = 0; t < 1000; ++t) {
    const auto r = mezo::step(
        deferred_model.params, deferred_opt,
        [&] { return objective(gather_materialized(deferred_model.params, *deferred)); }, 1000 + t);
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    ASSERT_EQ(r.journal_entries, 0u);
    nonzero_grads += r.projected_grad != 0.0f;
  }
  EXPECT_EQ(deferred_model.w, w0);
  EXPECT_EQ(deferred_model.b, b0);
  EXPECT_GT(nonzero_grads, 900) << "the losses did not see the probes";

  // The same steps in place (no journal is possible for bf16) lose low bits
  // on every ±ε round trip; this is why bf16 training wants deferred probes.
  Bf16Model inplace(31);
  ASSERT_EQ(inplace.w, w0);
  mezo::ZoSgd inplace_opt(config, mezo::gaussian_perturbation());
  for (int t = 0; t < 1000; ++t) {
    const auto r = mezo::step(inplace.params, inplace_opt,
                              [&] { return objective(gather_stored(inplace.params)); }, 1000 + t,
                              {.exact_restore = false});
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
  }
  std::size_t changed = 0;
  for (std::size_t i = 0; i < w0.size(); ++i) changed += inplace.w[i] != w0[i];
  EXPECT_GT(changed, 0u);
  EXPECT_NE(inplace.w, w0);
  RecordProperty("inplace_bf16_elements_changed", static_cast<int>(changed));
  std::cout << "[ info ] in-place bf16, 1000 steps at lr 0: " << changed << " of " << w0.size()
            << " weights changed\n";
}

// A bf16 step with lr > 0: the probes stay virtual, the update is written once
// (widen, decay, term, one rounding), exactly as computed here from the plan.
TEST(DeferredBf16, UpdateIsWrittenWithOneRounding) {
  Bf16Model m(33);
  const auto w0 = m.w, b0 = m.b;
  const auto base = mezo::gaussian_perturbation();
  const auto deferred = std::make_shared<const mezo::DeferredPerturbation>(base);
  mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f, .weight_decay = 2.0f}, deferred);
  const auto r = mezo::step(
      m.params, opt, [&] { return objective(gather_materialized(m.params, *deferred)); }, 606);
  ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
  ASSERT_EQ(r.update.terms.size(), 1u);
  ASSERT_NE(r.update.terms[0].coef, 0.0f);
  ASSERT_GT(r.update.decay, 0.0f);
  auto expect_view = [&](const std::vector<std::uint16_t>& start,
                         const std::vector<std::uint16_t>& got, const mezo::ParamView& v,
                         bool decays) {
    std::vector<float> z(v.size);
    base->generate(r.update.terms[0].seed, v.offset, z);
    std::size_t changed = 0;
    for (std::size_t i = 0; i < v.size; ++i) {
      float x = widen(start[i]);
      if (decays) {
        const float dx = r.update.decay * x;
        x = x - dx;
      }
      const float d = r.update.terms[0].coef * z[i];
      x = x + d;
      ASSERT_EQ(got[i], mezo::float_to_bf16(x)) << v.name << "[" << i << "]";
      changed += got[i] != start[i];
    }
    EXPECT_GT(changed, 0u) << v.name;
  };
  expect_view(w0, m.w, m.params.views()[0], true);
  expect_view(b0, m.b, m.params.views()[1], false);  // "bias": no decay group
}

// --- rejected steps ---------------------------------------------------------

TEST(DeferredStep, NonFiniteUpdateLeavesWeightsAndProbeClean) {
  Model m(44);
  const auto deferred =
      std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
  mezo::ZoSgd opt({.lr = 1e38f, .eps = 1e-3f}, deferred);
  const auto before = m.all();
  int calls = 0;
  const auto r = mezo::step(
      m.params, opt, [&] { return calls++ == 0 ? 1e30f : -1e30f; }, 5);
  EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_update);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(deferred->probe().empty());
  EXPECT_TRUE(same_f32(m.all(), before));
  EXPECT_EQ(opt.step_count(), 0);
}

TEST(DeferredStep, NonFiniteLossLeavesWeightsAndProbeClean) {
  for (int nan_call : {0, 1}) {
    SCOPED_TRACE(nan_call);
    Model m(41);
    const auto deferred =
        std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
    mezo::ZoSgd opt({.lr = 1e-4f, .eps = 1e-3f, .weight_decay = 0.5f}, deferred);
    const auto before = m.all();
    int calls = 0;
    const auto r = mezo::step(
        m.params, opt,
        [&] {
          return calls++ == nan_call ? std::numeric_limits<float>::quiet_NaN()
                                     : objective(gather_materialized(m.params, *deferred));
        },
        77);
    EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
    EXPECT_EQ(calls, nan_call + 1);
    EXPECT_CONTAINS(r.message, nan_call == 0 ? "loss_plus" : "loss_minus");
    EXPECT_TRUE(deferred->probe().empty());
    EXPECT_TRUE(same_f32(m.all(), before));
    EXPECT_EQ(opt.step_count(), 0);
    EXPECT_TRUE(r.update.terms.empty());

    // The next step works normally.
    const auto ok = mezo::step(
        m.params, opt, [&] { return objective(gather_materialized(m.params, *deferred)); }, 78);
    EXPECT_EQ(ok.status, mezo::StepStatus::ok);
    EXPECT_FALSE(same_f32(m.all(), before));
  }
}

TEST(DeferredStep, NonFiniteLossOnBf16LeavesTheBits) {
  Bf16Model m(42);
  const auto w0 = m.w;
  const auto deferred =
      std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f}, deferred);
  int calls = 0;
  const auto r = mezo::step(
      m.params, opt, [&] { return calls++ == 1 ? std::numeric_limits<float>::infinity() : 1.0f; },
      3);
  EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
  EXPECT_TRUE(deferred->probe().empty());
  EXPECT_EQ(m.w, w0);
}

TEST(DeferredStep, ThrowingLossPropagatesAndLeavesWeightsAndProbeClean) {
  for (int throw_call : {0, 1}) {
    SCOPED_TRACE(throw_call);
    Model m(43);
    const auto deferred =
        std::make_shared<const mezo::DeferredPerturbation>(mezo::gaussian_perturbation());
    mezo::ZoSgd opt({.lr = 1e-4f, .eps = 1e-3f}, deferred);
    const auto before = m.all();
    int calls = 0;
    bool probed_when_thrown = false;
    EXPECT_THROW(mezo::step(
                     m.params, opt,
                     [&] {
                       if (calls++ == throw_call) {
                         probed_when_thrown = !deferred->probe().empty();
                         throw std::runtime_error("loss failed");
                       }
                       return objective(gather_materialized(m.params, *deferred));
                     },
                     88),
                 std::runtime_error);
    EXPECT_TRUE(probed_when_thrown);
    EXPECT_TRUE(deferred->probe().empty());
    EXPECT_TRUE(same_f32(m.all(), before));
    EXPECT_EQ(opt.step_count(), 0);
  }
}

// --- direct use and errors ---------------------------------------------------

TEST(DeferredPerturbation, NullBaseIsRejected) {
  EXPECT_CONTAINS(
      error_of([] { mezo::DeferredPerturbation d(nullptr); }, mezo::ErrorCode::invalid_argument),
      "null");
}

TEST(DeferredPerturbation, ForwardsNameAndGenerateToTheBase) {
  const auto base = mezo::rademacher_perturbation();
  const mezo::DeferredPerturbation d(base);
  EXPECT_EQ(d.name(), "rademacher");
  EXPECT_EQ(&d.base(), base.get());
  std::vector<float> a(100), b(100);
  d.generate(9, 12345, a);
  base->generate(9, 12345, b);
  EXPECT_TRUE(same_f32(a, b));
}

TEST(DeferredPerturbation, ProbePassesOnlyChangeTheProbe) {
  Model m(51);
  const auto before = m.all();
  const mezo::DeferredPerturbation d(mezo::gaussian_perturbation());
  const mezo::ZTerm plus{7, 1e-3f}, minus{7, -1e-3f}, other{8, 2e-3f};
  mezo::ParamPass probe;
  probe.probe = true;
  probe.terms = {&plus, 1};
  mezo::RestoreJournal journal;
  journal.mutable_entries().push_back(mezo::RestoreJournal::Entry::make(3, 1.0f));
  probe.record = &journal;
  d.apply(m.params, probe);
  EXPECT_EQ(journal.size(), 0u) << "record must be left empty";
  EXPECT_TRUE(same_f32(m.all(), before));
  auto p = d.probe();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].seed, 7u);
  EXPECT_EQ(p[0].coef, 1e-3f);

  // A second probe pass with another seed adds a term.
  mezo::ParamPass probe2;
  probe2.probe = true;
  probe2.terms = {&other, 1};
  d.apply(m.params, probe2);
  p = d.probe();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].seed, 8u);

  // A restore of the first cancels it exactly (a non-probe pass with no terms
  // is no update, so it is allowed while the other term remains).
  mezo::ParamPass restore;
  restore.restore = minus;
  d.apply(m.params, restore);
  p = d.probe();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].seed, 8u);
  EXPECT_TRUE(same_f32(m.all(), before));

  d.clear_probe();
  EXPECT_TRUE(d.probe().empty());
}

TEST(DeferredPerturbation, UpdateWhileProbedIsRejected) {
  Model m(52);
  const auto before = m.all();
  const mezo::DeferredPerturbation d(mezo::gaussian_perturbation());
  const mezo::ZTerm plus{7, 1e-3f}, update{9, -5e-3f};
  mezo::ParamPass probe;
  probe.probe = true;
  probe.terms = {&plus, 1};
  d.apply(m.params, probe);

  mezo::ParamPass upd;
  upd.terms = {&update, 1};
  const std::string message =
      error_of([&] { d.apply(m.params, upd); }, mezo::ErrorCode::invalid_argument);
  EXPECT_CONTAINS(message, "probe");
  EXPECT_TRUE(same_f32(m.all(), before));
  EXPECT_EQ(d.probe().size(), 1u);

  // A decay-only update is an update too.
  mezo::ParamPass decay;
  decay.decay = 0.1f;
  error_of([&] { d.apply(m.params, decay); }, mezo::ErrorCode::invalid_argument);
  EXPECT_TRUE(same_f32(m.all(), before));

  // After clear_probe the update goes through, exactly as the base applies it.
  d.clear_probe();
  d.apply(m.params, upd);
  Model ref(52);
  mezo::gaussian_perturbation()->apply(ref.params, upd);
  EXPECT_FALSE(same_f32(m.all(), before));
  EXPECT_TRUE(same_f32(m.all(), ref.all()));
}

TEST(DeferredPerturbation, UpdateDropsItsRestoreAndJournal) {
  // The last pass of a step: restore (cancels the probe) + decay + terms. The
  // restore must not be written to memory.
  Model m(53), ref(53);
  const mezo::DeferredPerturbation d(mezo::gaussian_perturbation());
  const mezo::ZTerm minus{7, -1e-3f}, plus{7, 1e-3f}, upd{7, -3e-3f};
  mezo::ParamPass probe;
  probe.probe = true;
  probe.terms = {&minus, 1};
  d.apply(m.params, probe);
  mezo::RestoreJournal journal;
  mezo::ParamPass last;
  last.restore = plus;
  last.journal = &journal;
  last.decay = 0.25f;
  last.terms = {&upd, 1};
  d.apply(m.params, last);
  EXPECT_TRUE(d.probe().empty());

  mezo::ParamPass ref_pass;
  ref_pass.decay = 0.25f;
  ref_pass.terms = {&upd, 1};
  mezo::gaussian_perturbation()->apply(ref.params, ref_pass);
  EXPECT_TRUE(same_f32(m.all(), ref.all()));
}

TEST(DeferredPerturbation, ProbePassWithDecayIsRejected) {
  Model m(54);
  const auto before = m.all();
  const mezo::DeferredPerturbation d(mezo::gaussian_perturbation());
  const mezo::ZTerm plus{7, 1e-3f};
  mezo::ParamPass probe;
  probe.probe = true;
  probe.decay = 0.1f;
  probe.terms = {&plus, 1};
  EXPECT_CONTAINS(error_of([&] { d.apply(m.params, probe); }, mezo::ErrorCode::invalid_argument),
                  "decay");
  EXPECT_TRUE(d.probe().empty());
  EXPECT_TRUE(same_f32(m.all(), before));
}

TEST(DeferredPerturbation, MaterializeOutOfRangeIsRejected) {
  Model m(55);
  const mezo::DeferredPerturbation d(mezo::gaussian_perturbation());
  const mezo::ParamView& head = m.params.views()[2];
  std::vector<float> out(10);
  EXPECT_CONTAINS(
      error_of([&] { d.materialize(head, head.size - 9, out); }, mezo::ErrorCode::invalid_argument),
      "head.weight");
  error_of([&] { d.materialize(head, head.size + 1, std::span<float>()); },
           mezo::ErrorCode::invalid_argument);
  error_of([&] { d.materialize(head, std::uint64_t{1} << 63, out); },
           mezo::ErrorCode::invalid_argument);
  std::vector<float> big(head.size + 1);
  error_of([&] { d.materialize(head, 0, big); }, mezo::ErrorCode::invalid_argument);
  // In range: the last 10 elements, and an empty read at the end.
  d.materialize(head, head.size - 10, out);
  EXPECT_EQ(out[9], m.head.back());
  d.materialize(head, head.size, std::span<float>());

  // Views in device memory cannot be materialized on the host.
  float fake = 0.0f;
  mezo::ParamSet cuda_set;
  cuda_set.add("gpu.weight", &fake, 1, mezo::Device::cuda);
  std::vector<float> one(1);
  error_of([&] { d.materialize(cuda_set.views()[0], 0, one); }, mezo::ErrorCode::invalid_argument);
}

// materialize: x = widen(θ); x = fl(x + fl(coef · z)) per probe term; round to
// bf16 for bf16 views — recomputed here from generate().
TEST(DeferredPerturbation, MaterializeMatchesAnElementwiseComputation) {
  std::vector<float> f(1000);
  std::vector<std::uint16_t> b = random_bf16(5003, 61, 0.02f);
  f = random_f32(1000, 62, 0.02f);
  mezo::ParamSet set;
  set.add("first.weight", f.data(), f.size());
  set.add_bf16("second.weight", b.data(), b.size());
  const auto base = mezo::gaussian_perturbation();
  const mezo::DeferredPerturbation d(base);
  const mezo::ZTerm t1{17, 1e-3f}, t2{23, -4e-3f};
  mezo::ParamPass p1, p2;
  p1.probe = p2.probe = true;
  p1.terms = {&t1, 1};
  p2.terms = {&t2, 1};
  d.apply(set, p1);
  d.apply(set, p2);
  ASSERT_EQ(d.probe().size(), 2u);

  const mezo::ParamView& bv = set.views()[1];
  ASSERT_EQ(bv.offset, 1000u);
  const std::uint64_t first = 37;
  const std::size_t n = 4500;
  std::vector<float> got(n), z1(n), z2(n);
  d.materialize(bv, first, got);
  base->generate(t1.seed, bv.offset + first, z1);
  base->generate(t2.seed, bv.offset + first, z2);
  std::size_t moved = 0, rounded = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const float x0 = widen(b[first + j]);
    float x = x0;
    const float d1 = t1.coef * z1[j];
    x = x + d1;
    const float d2 = t2.coef * z2[j];
    x = x + d2;
    const float want = mezo::round_to_bf16(x);
    ASSERT_EQ(bits_of(got[j]), bits_of(want)) << "element " << j;
    EXPECT_EQ(bits_of(got[j]) & 0xFFFFu, 0u);
    moved += got[j] != x0;
    rounded += got[j] != x;
  }
  EXPECT_GT(moved, n / 2);
  EXPECT_GT(rounded, n / 2) << "the bf16 rounding is not exercised";
  EXPECT_EQ(b, random_bf16(5003, 61, 0.02f)) << "materialize wrote to the weights";

  // fp32 view: the same without the final rounding.
  const mezo::ParamView& fv = set.views()[0];
  std::vector<float> fgot(fv.size), fz1(fv.size), fz2(fv.size);
  d.materialize(fv, 0, fgot);
  base->generate(t1.seed, 0, fz1);
  base->generate(t2.seed, 0, fz2);
  for (std::size_t j = 0; j < fv.size; ++j) {
    float x = f[j];
    const float d1 = t1.coef * fz1[j];
    x = x + d1;
    const float d2 = t2.coef * fz2[j];
    x = x + d2;
    ASSERT_EQ(bits_of(fgot[j]), bits_of(x)) << "element " << j;
  }

  // Without a probe, materialize is the stored values.
  d.clear_probe();
  d.materialize(bv, first, got);
  for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(bits_of(got[j]), bits_of(widen(b[first + j])));
}

}  // namespace
