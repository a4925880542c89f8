// What happens once a step's directions are probed, shared by mezo::step
// (src/step.cpp) and mezo::SeedParallel::step (src/mpi/seed_parallel.cpp), so
// that the two reject, word their messages and aggregate identically (the
// seed-parallel step must equal one process's step bit for bit, message
// included). Inline: libmezo_mpi compiles them too, and a shared libmezo
// exports nothing of src/.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "mezo/error.hpp"
#include "mezo/log.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/step.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

inline const char* restored_how(const StepResult& result) {
  return result.exact_restore ? "bit-exactly" : "to within fp32 rounding";
}

// The step stopped at direction `direction`, whose `which` loss ("loss_plus"
// or "loss_minus", the estimate at result.estimates.back()) is the
// non-finite `value`; θ is already restored. Says so and logs it.
inline StepResult rejected_for_loss(StepResult result, int direction, const char* which,
                                    float value) {
  result.status = StepStatus::nonfinite_loss;
  result.message = fmt::format(
      "{} of direction {} (seed {}) is {}; weights restored {}, no update applied", which,
      direction, result.estimates.empty() ? result.seed : result.estimates.back().seed, value,
      restored_how(result));
  log(LogLevel::warning, result.message);
  return result;
}

// A one-sided step whose unperturbed loss ℓ0 is the non-finite `value`:
// stopped before any pass, θ untouched.
inline StepResult rejected_at_base(StepResult result, float value) {
  result.status = StepStatus::nonfinite_loss;
  result.loss_minus = value;  // ℓ0, as a one-sided estimate would hold it
  result.message = fmt::format(
      "loss at the unperturbed weights (step seed {}) is {}; weights untouched, no update applied",
      result.seed, value);
  log(LogLevel::warning, result.message);
  return result;
}

inline bool finite_plan(const UpdatePlan& plan) {
  if (!std::isfinite(plan.decay)) return false;
  for (const ZTerm& t : plan.terms) {
    if (!std::isfinite(t.coef)) return false;
  }
  return true;
}

// Asks the optimizer for the update of result.estimates and keeps it in
// result.update. A plan with a non-finite decay or coefficient (an absurd lr)
// is refused instead: the optimizer's step count is put back, `restore()`
// brings θ back, the result says nonfinite_update and why (logged), and
// false is returned.
//
// A plan that breaks UpdatePlan's rule (fewer terms than estimates, or term i
// not along estimate i's seed) is a bug in the optimizer: θ is restored, the
// step count put back, and mezo::Error(invalid_argument) thrown.
template <typename Restore>
bool plan_update(Optimizer& optimizer, StepResult& result, Restore&& restore) {
  const std::int64_t step_before = optimizer.step_count();
  UpdatePlan plan;
  try {
    plan = optimizer.plan_update(result.estimates);
  } catch (...) {
    restore();
    throw;
  }
  bool follows_rule = plan.terms.size() >= result.estimates.size() && plan.terms.size() < 65536;
  for (std::size_t i = 0; follows_rule && i < result.estimates.size(); ++i) {
    follows_rule = plan.terms[i].seed == result.estimates[i].seed;
  }
  if (!follows_rule) {
    optimizer.set_step_count(step_before);
    restore();
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the optimizer's update for step seed {} has {} terms for {} "
                            "directions; term i must be along direction i's seed (UpdatePlan), "
                            "at most 65535 terms; weights restored {}",
                            result.seed, plan.terms.size(), result.estimates.size(),
                            restored_how(result)));
  }
  if (finite_plan(plan)) {
    result.update = std::move(plan);
    return true;
  }
  optimizer.set_step_count(step_before);
  restore();
  result.status = StepStatus::nonfinite_update;
  result.message = fmt::format(
      "update of step seed {} is not finite (lr {}, projected_grad {}); weights restored {}, no "
      "update applied",
      result.seed, plan.lr, result.estimates.back().projected_grad, restored_how(result));
  log(LogLevel::warning, result.message);
  return false;
}

// A step whose update was applied: the losses of its first direction (the
// paper logs ℓ+) and the mean projected gradient over its directions.
inline StepResult completed(StepResult result) {
  result.loss_plus = result.estimates.front().loss_plus;
  result.loss_minus = result.estimates.front().loss_minus;
  double grad_sum = 0.0;
  for (const SeedEstimate& e : result.estimates) grad_sum += e.projected_grad;
  result.projected_grad =
      static_cast<float>(grad_sum / static_cast<double>(result.estimates.size()));
  return result;
}

}  // namespace detail
MEZO_END_NAMESPACE
