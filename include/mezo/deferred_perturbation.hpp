// DeferredPerturbation: probes that never touch the stored weights.
//
// In-place MeZO moves θ to θ + εz and back, and in finite precision the way
// back is not exact: fp32 needs a RestoreJournal (about a third of the
// weights' memory at ε = 1e-3), and bf16 drifts (1,000 in-place steps with
// lr = 0 change ~98% of the weights' bits in tests/deferred_perturbation_test).
// A DeferredPerturbation keeps the probe virtual instead: passes marked
// ParamPass::probe (+εz; −εz after a restore) and every restore only change
// probe(), the offset from the stored θ to the θ being evaluated, and the
// model applies that offset as it reads each weight (GpuMaskedLM does). Only
// updates are written, through the base perturbation. So
//   - θ comes back bit-exactly by construction, for fp32 and bf16 alike, with
//     no journal and no memory beyond inference;
//   - for fp32 views the whole step is bit-identical to mezo::step with the
//     base perturbation and exact_restore (the evaluated weights are
//     fl(θ + fl(coef·z)) either way), which tests/deferred_perturbation_test
//     checks on the CPU.
//
// The forward must read weights through probe() — materialize() is the
// reference of what it must see. A loss that reads the stored buffers
// directly sees the unperturbed model, and every projected gradient is 0.
//
// Stateful: one DeferredPerturbation per model and training loop. Its
// methods may be called from any thread but a step is one sequence of passes.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE

class MEZO_API DeferredPerturbation final : public Perturbation {
 public:
  // `base` draws z and writes updates (CounterPerturbation for CPU or CUDA
  // memory). Throws mezo::Error(invalid_argument) for a null base.
  explicit DeferredPerturbation(std::shared_ptr<const Perturbation> base);

  std::string_view name() const override { return base_->name(); }
  void generate(std::uint64_t seed, std::uint64_t first, std::span<float> out) const override {
    base_->generate(seed, first, out);
  }

  // Probe passes and restores change probe() only: a restore adds its term
  // (a coefficient that sums to exactly 0 with the probe's drops it), a
  // probe pass then adds its terms. Any other pass is an update: it needs
  // the probe undone by then (else invalid_argument: the update would land
  // on weights the loss never saw) and is applied in place by the base,
  // without its restore or journal. record/journal are accepted and left
  // empty: nothing needs journaling. A probe pass with decay is
  // invalid_argument. A refused pass leaves probe() unchanged. Terms with
  // the same seed are kept as one term, coefficients summed.
  void apply(const ParamSet& params, const ParamPass& pass) const override;

  // The offset of the evaluated weights from the stored ones, as terms to add
  // in order: θ_eval = θ + Σ coef·z(seed). Empty between steps.
  std::vector<ZTerm> probe() const;
  // Drops the probe (θ_eval = θ again), e.g. after a loss threw outside mezo::step.
  void clear_probe() const;

  // The evaluated values of `view`'s elements [first, first + out.size()),
  // for views in host memory: x = θ (bf16 views: widened), then
  // x = fl(x + fl(coef·z)) for each probe term in order, then rounded to
  // bf16 for bf16 views. The GPU forward computes exactly this per element.
  void materialize(const ParamView& view, std::uint64_t first, std::span<float> out) const;

  const Perturbation& base() const { return *base_; }
  std::shared_ptr<const Perturbation> base_ptr() const { return base_; }

 private:
  std::shared_ptr<const Perturbation> base_;
  mutable std::mutex mutex_;
  mutable std::vector<ZTerm> probe_;
};

MEZO_END_NAMESPACE
