// mezo::step(): one MeZO step on the caller's parameters with the caller's loss.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/params.hpp"

MEZO_BEGIN_NAMESPACE

enum class StepStatus {
  ok,                // losses finite, update applied
  nonfinite_loss,    // a loss was NaN or ±inf: no update, θ restored
  nonfinite_update,  // the losses were finite but the update was not: no update, θ restored
};

struct StepOptions {
  // Keep a RestoreJournal so θ is restored bit-exactly (see perturbation.hpp).
  // Off: no extra memory at all, θ restored to within fp32 rounding.
  bool exact_restore = true;
};

struct StepResult {
  StepStatus status = StepStatus::ok;
  ProbeKind probe_kind = ProbeKind::two_sided;  // the optimizer's
  float loss_plus = 0.0f;   // of the first direction (the paper logs ℓ+)
  float loss_minus = 0.0f;  // of the first direction; one-sided: ℓ0 = ℓ(θ)
  float projected_grad = 0.0f;          // mean over the directions
  std::uint64_t seed = 0;               // the step's seed as passed in
  float eps = 0.0f;                     // the perturbation scale used
  std::vector<SeedEstimate> estimates;  // one per direction, with its own seed
  UpdatePlan update;                    // what was applied (empty terms if rejected)
  bool exact_restore = true;
  std::uint64_t journal_entries = 0;  // elements kept exactly by the journal
  std::string message;                // why a step was rejected
};

using LossFunction = std::function<float()>;

// The seed of direction i of a step: the step seed itself for i = 0, so that
// ZO-SGD is n-SPSA with n = 1.
MEZO_API std::uint64_t direction_seed(std::uint64_t step_seed, int direction);

// One MeZO step, probing as optimizer.probe_kind() says, for each of
// optimizer.directions_per_step() directions z_i:
//   two_sided: θ += εz_i; ℓ+ = loss(); θ −= εz_i twice (restoring in
//              between); ℓ− = loss(); θ restored;
//   one_sided: ℓ0 = loss() once at θ; then θ += εz_i; ℓ_i = loss(); θ
//              restored (the restore and the next θ += εz_{i+1} are one pass).
// The last restore and the update are one fused pass. With one-sided probes
// a non-finite ℓ0 rejects the step before any pass (nothing to restore).
//
// - A non-finite loss stops the step at once: θ is restored (bit-identical to
//   before the step when exact_restore is on), the optimizer is not advanced,
//   and the result has status nonfinite_loss and a message saying which loss.
// - Finite losses whose update coefficients are not finite (an absurd lr)
//   are rejected the same way, with status nonfinite_update. An update that
//   is finite but pushes θ to ±inf is not detected here; the next step's loss
//   will be non-finite and rejected.
// - An exception thrown by `loss` restores θ the same way and is then
//   rethrown unchanged; the optimizer is not advanced.
// - Throws mezo::Error for an empty parameter set.
MEZO_API StepResult step(const ParamSet& params, Optimizer& optimizer, const LossFunction& loss,
                         std::uint64_t seed, const StepOptions& options = {});

// The two halves of a step, for schemes that probe directions in one place
// and update in another (mezo::SeedParallel probes one direction per rank).
//
// probe_direction measures direction `seed` without updating: θ += εz;
// ℓ+ = loss(); θ −= εz twice (restoring in between); ℓ− = loss(); θ restored
// (bit-exactly with exact_restore). A non-finite ℓ+ stops it before ℓ−: the
// estimate then has loss_minus and projected_grad 0; a non-finite ℓ− gives
// projected_grad 0. An exception from `loss` restores θ and is rethrown.
MEZO_API SeedEstimate probe_direction(const ParamSet& params, const Perturbation& perturbation,
                                      float eps, const LossFunction& loss, std::uint64_t seed,
                                      const StepOptions& options = {});

// θ ← θ − plan.decay · θ (decaying groups), then θ += coef · z(seed) for each
// term in order: one pass. On θ restored bit-exactly by probe_direction this is
// bit-identical to the fused last pass of mezo::step with the same plan.
MEZO_API void apply_update(const ParamSet& params, const Perturbation& perturbation,
                           const UpdatePlan& plan);

MEZO_END_NAMESPACE
