#include "mezo/step.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "direction_passes.hpp"
#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "step_outcome.hpp"

MEZO_BEGIN_NAMESPACE

std::uint64_t direction_seed(std::uint64_t step_seed, int direction) {
  if (direction == 0) return step_seed;
  return rng::mix64(step_seed ^ rng::mix64(static_cast<std::uint64_t>(direction)));
}

namespace {

// The two journals a step may keep, lent from ones this thread keeps from
// step to step: for a real model a journal is hundreds of MB, and a fresh one
// every step cost its page faults, about a sixth of what the passes cost
// (perturbation_benchmark, step_passes). A step run from inside another's loss
// on the same thread (nothing in libmezo does) gets fresh ones.
class LentJournals {
 public:
  LentJournals() {
    if (!kept_in_use_) {
      kept_in_use_ = true;
      journals_ = kept_;
      journals_[0].clear();
      journals_[1].clear();
    } else {
      fresh_ = std::make_unique<RestoreJournal[]>(2);
      journals_ = fresh_.get();
    }
  }
  ~LentJournals() {
    if (!fresh_) kept_in_use_ = false;
  }
  LentJournals(const LentJournals&) = delete;
  LentJournals& operator=(const LentJournals&) = delete;

  RestoreJournal* get() { return journals_; }

 private:
  static thread_local RestoreJournal kept_[2];
  static thread_local bool kept_in_use_;
  std::unique_ptr<RestoreJournal[]> fresh_;
  RestoreJournal* journals_;
};
thread_local RestoreJournal LentJournals::kept_[2];
thread_local bool LentJournals::kept_in_use_ = false;

template <typename Undo>
float evaluate(const LossFunction& loss, Undo&& undo) {
  try {
    return loss();
  } catch (...) {
    undo();
    throw;
  }
}

// ℓ0 = ℓ(θ), then ℓ_i = ℓ(θ + εz_i) for each direction (mezo/step.hpp).
StepResult one_sided_step(const ParamSet& params, Optimizer& optimizer, const LossFunction& loss,
                          StepResult result) {
  const float eps = result.eps;
  const float base = loss();  // θ untouched: an exception has nothing to undo
  if (!std::isfinite(base)) return detail::rejected_at_base(std::move(result), base);
  LentJournals journals;
  detail::OneSidedPasses passes(params, optimizer.perturbation(), eps,
                                result.exact_restore ? journals.get() : nullptr);
  for (int d = 0; d < optimizer.directions_per_step(); ++d) {
    const std::uint64_t s = direction_seed(result.seed, d);
    passes.to_probe(s);
    result.journal_entries = std::max<std::uint64_t>(result.journal_entries, passes.journal_size());
    const float probed = evaluate(loss, [&] { passes.restore(); });
    if (!std::isfinite(probed)) {
      passes.restore();
      result.estimates.push_back({s, probed, base, 0.0f});
      return detail::rejected_for_loss(std::move(result), d, "loss_plus", probed);
    }
    result.estimates.push_back({s, probed, base, (probed - base) / eps});
  }
  if (!detail::plan_update(optimizer, result, [&] { passes.restore(); })) return result;
  passes.restore_and_update(result.update);
  return detail::completed(std::move(result));
}

}  // namespace

StepResult step(const ParamSet& params, Optimizer& optimizer, const LossFunction& loss,
                std::uint64_t seed, const StepOptions& options) {
  if (params.empty()) {
    throw Error(ErrorCode::invalid_argument, "mezo::step: the parameter set has no elements");
  }
  if (!loss) throw Error(ErrorCode::invalid_argument, "mezo::step: empty loss function");
  const float eps = optimizer.eps();
  const int directions = optimizer.directions_per_step();

  StepResult result;
  result.seed = seed;
  result.eps = eps;
  result.exact_restore = options.exact_restore;
  result.probe_kind = optimizer.probe_kind();
  if (result.probe_kind == ProbeKind::one_sided) {
    return one_sided_step(params, optimizer, loss, std::move(result));
  }
  LentJournals journals;
  RestoreJournal* journal_or_null = options.exact_restore ? journals.get() : nullptr;

  for (int d = 0; d < directions; ++d) {
    const std::uint64_t s = direction_seed(seed, d);
    detail::DirectionPasses passes(params, optimizer.perturbation(), s, eps, journal_or_null);

    passes.to_plus();
    if (journal_or_null != nullptr) {
      result.journal_entries =
          std::max<std::uint64_t>(result.journal_entries, journal_or_null->size());
    }
    const float loss_plus = evaluate(loss, [&] { passes.restore_from_plus(); });
    if (!std::isfinite(loss_plus)) {
      passes.restore_from_plus();
      result.estimates.push_back({s, loss_plus, 0.0f, 0.0f});
      return detail::rejected_for_loss(std::move(result), d, "loss_plus", loss_plus);
    }

    passes.plus_to_minus();
    const float loss_minus = evaluate(loss, [&] { passes.restore_from_minus(); });
    if (!std::isfinite(loss_minus)) {
      passes.restore_from_minus();
      result.estimates.push_back({s, loss_plus, loss_minus, 0.0f});
      return detail::rejected_for_loss(std::move(result), d, "loss_minus", loss_minus);
    }

    result.estimates.push_back({s, loss_plus, loss_minus, (loss_plus - loss_minus) / (2.0f * eps)});
    if (d + 1 < directions) {
      passes.restore_from_minus();
    } else {
      if (!detail::plan_update(optimizer, result, [&] { passes.restore_from_minus(); })) {
        return result;
      }
      passes.restore_from_minus_and_update(result.update);
    }
  }
  return detail::completed(std::move(result));
}

SeedEstimate probe_direction(const ParamSet& params, const Perturbation& perturbation, float eps,
                             const LossFunction& loss, std::uint64_t seed,
                             const StepOptions& options) {
  if (params.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "mezo::probe_direction: the parameter set has no elements");
  }
  if (!loss) throw Error(ErrorCode::invalid_argument, "mezo::probe_direction: empty loss function");
  if (!(std::isfinite(eps) && eps > 0.0f)) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("mezo::probe_direction: eps must be a positive finite number, got {}", eps));
  }
  LentJournals journals;
  detail::DirectionPasses passes(params, perturbation, seed, eps,
                                 options.exact_restore ? journals.get() : nullptr);
  SeedEstimate estimate{seed, 0.0f, 0.0f, 0.0f};
  passes.to_plus();
  estimate.loss_plus = evaluate(loss, [&] { passes.restore_from_plus(); });
  if (!std::isfinite(estimate.loss_plus)) {
    passes.restore_from_plus();
    return estimate;
  }
  passes.plus_to_minus();
  estimate.loss_minus = evaluate(loss, [&] { passes.restore_from_minus(); });
  passes.restore_from_minus();
  if (std::isfinite(estimate.loss_minus)) {
    estimate.projected_grad = (estimate.loss_plus - estimate.loss_minus) / (2.0f * eps);
  }
  return estimate;
}

void apply_update(const ParamSet& params, const Perturbation& perturbation,
                  const UpdatePlan& plan) {
  ParamPass pass;
  pass.decay = plan.decay;
  pass.terms = plan.terms;
  perturbation.apply(params, pass);
}

MEZO_END_NAMESPACE
