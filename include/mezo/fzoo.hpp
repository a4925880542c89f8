// FZOO (Dang et al., "FZOO: Fast Zeroth-Order Optimizer for Fine-Tuning Large
// Language Models towards Adam-Scale Speed", ICLR 2026, arXiv 2506.09034).
//
// One step on one batch: ℓ0 = ℓ(θ), then ℓi = ℓ(θ + ε u_i) for N Rademacher
// directions u_i (one-sided probes: N + 1 forwards), σ = the standard
// deviation of ℓ1..ℓN, and
//   θ ← θ − η_t ( Σ_i (ℓi − ℓ0) / (N σ) · u_i + λ θ ).
// What we follow, from the authors' code (DKmiyan/FZOO, trainer.py zo_step /
// zo_update) where the paper leaves a choice:
//   - σ is the biased standard deviation (divide by N) of ℓ1..ℓN, ℓ0 excluded;
//   - 1/ε is folded into η (the paper writes g = Σ (ℓi − ℓ0) u_i / (εN) and
//     θ −= η g / σ): since ℓi − ℓ0 ≈ ε⟨∇ℓ, u_i⟩ and σ ≈ ε‖∇ℓ‖, the step is a
//     normalised SGD step, the same size whatever ε and the loss's scale;
//   - u_i ∈ {±1}^d (their torch.randint · 2 − 1), here libmezo's Rademacher z;
//   - all N probes run every step (the code's N/2 branch never runs).
// Our additions: λ (decoupled, as ZO-SGD's), and a step whose N losses are all
// equal (σ = 0: no direction information) moves θ by the decay only.
// SeedEstimate::projected_grad is (ℓi − ℓ0) / ε, comparable with MeZO's.
#pragma once

#include <memory>

#include "mezo/config.hpp"
#include "mezo/optimizer.hpp"

MEZO_BEGIN_NAMESPACE

struct FzooConfig {
  float lr = 5e-5f;   // the authors' (OPT-13B, full parameters)
  float eps = 1e-3f;  // MeZO's (the authors' 1e-4 is for fp16 OPT-13B)
  int directions = 8;         // N, the authors' default
  float weight_decay = 0.0f;  // λ; applied only to groups with weight_decay
  LrSchedule schedule = {};
};

class MEZO_API Fzoo final : public Optimizer {
 public:
  // Throws mezo::Error for eps <= 0, lr < 0, weight_decay < 0, a non-finite
  // value, directions outside [2, 65535] (σ needs two losses), or a bad
  // schedule. The default perturbation is Rademacher, as the paper's.
  explicit Fzoo(FzooConfig config, std::shared_ptr<const Perturbation> perturbation = nullptr);

  float eps() const override { return config_.eps; }
  int directions_per_step() const override { return config_.directions; }
  ProbeKind probe_kind() const override { return ProbeKind::one_sided; }
  const Perturbation& perturbation() const override { return *perturbation_; }
  UpdatePlan plan_update(std::span<const SeedEstimate> estimates) override;
  std::int64_t step_count() const override { return step_; }
  void set_step_count(std::int64_t step) override;
  const FzooConfig& config() const { return config_; }

 private:
  FzooConfig config_;
  std::shared_ptr<const Perturbation> perturbation_;
  std::int64_t step_ = 0;
};

MEZO_END_NAMESPACE
