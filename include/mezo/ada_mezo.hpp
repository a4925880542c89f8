// AdaMeZO (Cai, Chen, Zhu, ICML 2026, arXiv 2605.00650): Adam-style moments
// rebuilt every step from the last h steps' (seed, projected gradient) pairs,
// so no per-parameter state is kept.
//
// The probe is MeZO's: c_t = (ℓ(θ + εz_t) − ℓ(θ − εz_t)) / 2ε. The update
// replays the last h completed steps (t − h < j ≤ t, fewer at the start):
//   m = Σ_j β1^(t−j) c_j z_j,   v = Σ_j β2^(t−j) c_j² z_j²,
//   θ ← θ − η_t ( m / (√v + δ) + λ θ ).
// The authors' code (shawnnn3di/AdaMeZO, MeZO/medium_models/src/trainer.py)
// draws Gaussian z, so their v is a per-element field, and the update a
// nonlinear function of h regenerated z's that no sum of seeded terms can
// express. We use Rademacher z instead (as FZOO does): z² = 1 makes v one
// number for every element, and the update a sum of h seeded directions, one
// pass regenerating h z's per element — the variant with no per-parameter
// state that fits libmezo's passes. So this class requires the Rademacher
// perturbation. What we follow from that code: the truncated sums above (no
// bias correction), δ = 1e-5, weight decay as MeZO's (added to the step), and
// their update's factor 100 folded into η (their lr 1e-7 is our 1e-5). Their
// β2 = 0 switches v off (v = 1); ours keeps v = c_t², the last step's only.
//
// State: the (step, seed, c) of the last h steps — a few hundred bytes. It is
// a function of the estimates given to plan_update, so resume_optimizer()
// rebuilds it from a trajectory log, and set_step_count(s) forgets the
// entries of steps ≥ s (a refused plan leaves no trace).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "mezo/config.hpp"
#include "mezo/optimizer.hpp"

MEZO_BEGIN_NAMESPACE

struct AdaMezoConfig {
  float lr = 1e-5f;
  float eps = 1e-3f;
  float beta1 = 0.7f;  // the authors' README settings
  float beta2 = 0.9f;
  int history = 10;  // h, steps replayed per update
  float delta = 1e-5f;
  float weight_decay = 0.0f;  // λ; applied only to groups with weight_decay
  LrSchedule schedule = {};
};

class MEZO_API AdaMezo final : public Optimizer {
 public:
  // Throws mezo::Error for eps <= 0, lr < 0, weight_decay < 0, delta <= 0,
  // betas outside [0, 1), history outside [1, 1024], a non-finite value, a bad
  // schedule, or a perturbation other than Rademacher (the default).
  explicit AdaMezo(AdaMezoConfig config,
                   std::shared_ptr<const Perturbation> perturbation = nullptr);

  float eps() const override { return config_.eps; }
  int directions_per_step() const override { return 1; }
  const Perturbation& perturbation() const override { return *perturbation_; }
  // Exactly one estimate (one direction per step).
  UpdatePlan plan_update(std::span<const SeedEstimate> estimates) override;
  std::int64_t step_count() const override { return step_; }
  void set_step_count(std::int64_t step) override;
  const AdaMezoConfig& config() const { return config_; }

 private:
  struct Past {
    std::int64_t step;
    std::uint64_t seed;
    float projected_grad;
  };
  AdaMezoConfig config_;
  std::shared_ptr<const Perturbation> perturbation_;
  std::int64_t step_ = 0;
  std::deque<Past> history_;  // oldest first, at most config_.history
};

MEZO_END_NAMESPACE
