// The Perturbation extension point (mezo/perturbation.hpp) from the outside:
// a perturbation written here, as a user would, against the public headers
// only (its own z, its own pass), and mezo::step's guarantees with it: a
// rejected step or a loss that throws leaves θ bit-identical, an update is
// the documented arithmetic, replay() rebuilds a run. Two deliberately
// incomplete perturbations show what the contract is for: one that ignores
// the journal breaks the exact restore on these weights (so the tests above
// can fail), and one that refuses journals works with exact_restore off.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mezo/mezo.hpp>
#include <stdexcept>
#include <vector>

namespace {

// z uniform on [-√3, √3) (unit variance) from a SplitMix64 hash of (seed, i):
// nothing of libmezo's generator.
float hashed_z(std::uint64_t seed, std::uint64_t i) {
  auto mix = [](std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  const auto u = static_cast<float>(mix(seed ^ mix(i)) >> 40) * 0x1p-24f;  // [0, 1), exact
  return (2.0f * u - 1.0f) * 1.7320508f;
}

// Every field of ParamPass, as mezo/perturbation.hpp says, one element at a
// time (no FMA: this file is built with -ffp-contract=off, and each line
// rounds on its own anyway).
class HashedPerturbation : public mezo::Perturbation {
 public:
  std::string_view name() const override { return "hashed-uniform"; }
  void generate(std::uint64_t seed, std::uint64_t first, std::span<float> out) const override {
    for (std::size_t j = 0; j < out.size(); ++j) out[j] = hashed_z(seed, first + j);
  }
  void apply(const mezo::ParamSet& params, const mezo::ParamPass& pass) const override {
    if (pass.record != nullptr && (pass.terms.size() != 1 || pass.decay != 0.0f)) {
      throw mezo::Error(mezo::ErrorCode::invalid_argument,
                        "a recording pass has one term and no decay");
    }
    std::vector<mezo::RestoreJournal::Entry> recorded;
    const mezo::RestoreJournal::Entry* next = nullptr;
    const mezo::RestoreJournal::Entry* end = nullptr;
    if (pass.journal != nullptr && honour_journal_) {
      next = pass.journal->entries().data();
      end = next + pass.journal->entries().size();
    }
    for (const mezo::ParamView& view : params.views()) {
      const bool decays = params.groups()[view.group].weight_decay;
      float* theta = view.f32();
      for (std::uint64_t j = 0; j < view.size; ++j) {
        const std::uint64_t i = view.offset + j;
        float x = theta[j];
        if (pass.restore) x = x + pass.restore->coef * hashed_z(pass.restore->seed, i);
        while (next != end && next->index() < i) ++next;
        if (next != end && next->index() == i) x = next->value;
        if (decays && pass.decay != 0.0f) x = x - pass.decay * x;
        if (pass.record != nullptr) {
          const float d = pass.terms[0].coef * hashed_z(pass.terms[0].seed, i);
          const float forward = x + d;
          const auto bits = std::bit_cast<std::uint32_t>(x);  // −0 comes back +0
          if (std::bit_cast<std::uint32_t>(forward - d) != bits ||
              std::bit_cast<std::uint32_t>((x - d) + d) != bits) {
            recorded.push_back(mezo::RestoreJournal::Entry::make(i, x));
          }
          x = forward;
        } else {
          for (const mezo::ZTerm& t : pass.terms) x = x + t.coef * hashed_z(t.seed, i);
        }
        theta[j] = x;
      }
    }
    if (pass.record != nullptr) pass.record->mutable_entries() = std::move(recorded);
  }

 protected:
  bool honour_journal_ = true;
};

// Breaks the contract: reads no journal (records one all the same).
class JournalIgnoringPerturbation final : public HashedPerturbation {
 public:
  JournalIgnoringPerturbation() { honour_journal_ = false; }
};

// Keeps the contract the other way: no journal support, said up front.
class JournalFreePerturbation final : public HashedPerturbation {
 public:
  void apply(const mezo::ParamSet& params, const mezo::ParamPass& pass) const override {
    if (pass.record != nullptr || pass.journal != nullptr) {
      throw mezo::Error(mezo::ErrorCode::unsupported, "hashed-uniform keeps no journal");
    }
    HashedPerturbation::apply(params, pass);
  }
};

// Weights whose ±εz round trips lose bits: tiny values, values just below a
// power of two, zeros, and ordinary ones, in a decaying and a bias view.
struct Weights {
  std::vector<float> w, b;
  mezo::ParamSet params;
  Weights() : w(3000), b(1000) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      switch (i % 5) {
        case 0:
          w[i] = 1e-30f * static_cast<float>(i + 1);
          break;
        case 1:
          w[i] = std::nextafter(1.0f, 0.0f);
          break;
        case 2:
          w[i] = 0.0f;
          break;
        case 3:
          w[i] = -std::nextafter(0.5f, 0.0f);
          break;
        default:
          w[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
      }
    }
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::nextafter(2.0f, 0.0f) - 1e-3f * i;
    params.add("layer.weight", w.data(), w.size());
    params.add("layer.bias", b.data(), b.size());  // no weight decay by default
  }
  std::vector<float> all() const {
    std::vector<float> v(w);
    v.insert(v.end(), b.begin(), b.end());
    return v;
  }
  // A smooth loss with a minimum away from θ.
  float loss() const {
    double s = 0;
    for (float x : w) s += (x - 0.1) * (x - 0.1);
    for (float x : b) s += (x - 1.0) * (x - 1.0);
    return static_cast<float>(s / 4000.0);
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const float kNan = std::numeric_limits<float>::quiet_NaN();

// Runs one step whose loss is NaN or throws at call `bad_call` (0: ℓ+ of the
// first direction, 1: its ℓ−, ...), and returns θ afterwards.
struct BadStep {
  int bad_call;
  bool throws;
};

std::vector<float> after_bad_step(const std::shared_ptr<const mezo::Perturbation>& perturbation,
                                  int directions, BadStep bad, mezo::StepResult* result = nullptr) {
  Weights m;
  mezo::NSpsa opt({.lr = 1e-2f, .eps = 1e-3f, .weight_decay = 0.1f}, directions, perturbation);
  int calls = 0;
  const auto loss = [&] {
    if (calls++ == bad.bad_call) {
      if (bad.throws) throw std::runtime_error("the user's loss failed");
      return kNan;
    }
    return m.loss();
  };
  if (bad.throws) {
    EXPECT_THROW(mezo::step(m.params, opt, loss, 7), std::runtime_error);
  } else {
    const mezo::StepResult r = mezo::step(m.params, opt, loss, 7);
    EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss) << r.message;
    EXPECT_GT(r.journal_entries, 0u) << "these weights need the journal";
    if (result != nullptr) *result = r;
  }
  EXPECT_EQ(opt.step_count(), 0) << "a rejected step must not advance the optimizer";
  return m.all();
}

TEST(PerturbationExtension, RejectedStepsLeaveThetaBitIdentical) {
  const auto p = std::make_shared<HashedPerturbation>();
  const std::vector<float> before = Weights().all();
  for (const int directions : {1, 3}) {
    for (int bad_call = 0; bad_call < 2 * directions; ++bad_call) {
      for (const bool throws : {false, true}) {
        SCOPED_TRACE(testing::Message() << directions << " direction(s), bad call " << bad_call
                                        << (throws ? ", throws" : ", NaN"));
        EXPECT_TRUE(same_bits(after_bad_step(p, directions, {bad_call, throws}), before));
      }
    }
  }
}

TEST(PerturbationExtension, NonFiniteUpdateLeavesThetaBitIdentical) {
  Weights m;
  const std::vector<float> before = m.all();
  // The decay lr · λ overflows to inf.
  mezo::ZoSgd opt({.lr = 3e38f, .eps = 1e-3f, .weight_decay = 10.0f},
                  std::make_shared<HashedPerturbation>());
  const mezo::StepResult r = mezo::step(
      m.params, opt, [&] { return m.loss(); }, 11);
  EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_update) << r.message;
  EXPECT_TRUE(same_bits(m.all(), before));
}

// The update is θ ← fl(fl(θ − fl(decay·θ)) + fl(coef·z)) on exactly the
// pre-step θ, decay only in the decaying view.
TEST(PerturbationExtension, UpdateIsTheDocumentedArithmetic) {
  Weights m;
  const std::vector<float> before = m.all();
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f, .weight_decay = 0.1f},
                  std::make_shared<HashedPerturbation>());
  const mezo::StepResult r = mezo::step(
      m.params, opt, [&] { return m.loss(); }, 5);
  ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
  ASSERT_EQ(r.update.terms.size(), 1u);
  ASSERT_NE(r.update.decay, 0.0f);
  const std::vector<float> after = m.all();
  for (std::size_t i = 0; i < before.size(); ++i) {
    float x = before[i];
    if (i < m.w.size()) x = x - r.update.decay * x;
    x = x + r.update.terms[0].coef * hashed_z(r.update.terms[0].seed, i);
    ASSERT_EQ(std::bit_cast<std::uint32_t>(after[i]), std::bit_cast<std::uint32_t>(x))
        << "element " << i;
  }
}

TEST(PerturbationExtension, ReplayRebuildsTheRun) {
  const auto p = std::make_shared<HashedPerturbation>();
  Weights m;
  Weights initial;
  mezo::NSpsa opt({.lr = 1e-2f, .eps = 1e-3f, .weight_decay = 0.1f}, 2, p);
  mezo::Trajectory log;
  log.header = mezo::make_trajectory_header(opt, {}, 1);
  int calls = 0;
  for (std::int64_t t = 0; t < 12; ++t) {
    const auto loss = [&] { return ++calls % 9 == 0 ? kNan : m.loss(); };  // some steps rejected
    const mezo::StepResult r = mezo::step(m.params, opt, loss, 100 + t);
    const auto records = mezo::records_for_step(t, r);
    log.records.insert(log.records.end(), records.begin(), records.end());
  }
  ASSERT_GT(calls, 9);
  mezo::replay(initial.params, *p, log);
  EXPECT_TRUE(same_bits(initial.all(), m.all()));
  EXPECT_FALSE(same_bits(initial.all(), Weights().all())) << "the run must have moved θ";
}

// Without the journal, the same rejected steps do not restore these weights:
// the tests above exercise what the journal is for.
TEST(PerturbationExtension, IgnoringTheJournalBreaksTheExactRestore) {
  const std::vector<float> before = Weights().all();
  const auto broken = std::make_shared<JournalIgnoringPerturbation>();
  EXPECT_FALSE(same_bits(after_bad_step(broken, 1, {1, false}), before));
}

TEST(PerturbationExtension, APerturbationWithoutJournalTrainsWithExactRestoreOff) {
  const auto p = std::make_shared<JournalFreePerturbation>();
  Weights m;
  const std::vector<float> before = m.all();
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f}, p);
  try {
    mezo::step(
        m.params, opt, [&] { return m.loss(); }, 3);
    ADD_FAILURE() << "exact_restore needs a journal this perturbation refuses";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported) << e.what();
  }
  EXPECT_TRUE(same_bits(m.all(), before)) << "it refused before changing anything";

  // exact_restore off: a rejected step restores θ to within rounding (a few
  // ulps of the larger of |θ| and ε|z|), an accepted one updates.
  int calls = 0;
  const auto nan_at_minus = [&] { return calls++ == 1 ? kNan : m.loss(); };
  const mezo::StepResult rejected =
      mezo::step(m.params, opt, nan_at_minus, 3, {.exact_restore = false});
  EXPECT_EQ(rejected.status, mezo::StepStatus::nonfinite_loss);
  const std::vector<float> restored = m.all();
  for (std::size_t i = 0; i < before.size(); ++i) {
    const float scale = std::max(std::fabs(before[i]), 2e-3f);
    ASSERT_LE(std::fabs(restored[i] - before[i]), 4 * std::numeric_limits<float>::epsilon() * scale)
        << "element " << i;
  }
  const mezo::StepResult ok =
      mezo::step(m.params, opt, [&] { return m.loss(); }, 4, {.exact_restore = false});
  EXPECT_EQ(ok.status, mezo::StepStatus::ok) << ok.message;
  EXPECT_FALSE(same_bits(m.all(), restored));
}

}  // namespace
