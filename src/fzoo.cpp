#include "mezo/fzoo.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "optimizer_checks.hpp"

MEZO_BEGIN_NAMESPACE

Fzoo::Fzoo(FzooConfig config, std::shared_ptr<const Perturbation> perturbation)
    : config_(config),
      perturbation_(perturbation ? std::move(perturbation) : rademacher_perturbation()) {
  detail::check_common_options("FZOO", config_.lr, config_.eps, config_.weight_decay,
                               config_.schedule);
  detail::require(config_.directions >= 2 && config_.directions <= 65535,
                  fmt::format("FZOO: directions per step must be in [2, 65535] (σ is the "
                              "spread of their losses), got {}",
                              config_.directions));
}

void Fzoo::set_step_count(std::int64_t step) {
  detail::check_step_count("FZOO", step);
  step_ = step;
}

UpdatePlan Fzoo::plan_update(std::span<const SeedEstimate> estimates) {
  detail::require(estimates.size() == static_cast<std::size_t>(config_.directions),
                  fmt::format("FZOO: plan_update needs {} estimates, got {}", config_.directions,
                              estimates.size()));
  // In double: the losses agree to ~ε‖∇ℓ‖, a few digits below their size.
  const double n = static_cast<double>(estimates.size());
  const double base = estimates.front().loss_minus;  // ℓ0, the same in every estimate
  double mean = 0.0;
  for (const SeedEstimate& e : estimates) mean += e.loss_plus;
  mean /= n;
  double variance = 0.0;
  for (const SeedEstimate& e : estimates) variance += (e.loss_plus - mean) * (e.loss_plus - mean);
  const double sigma = std::sqrt(variance / n);  // biased, as the authors' torch.std(unbiased=False)

  UpdatePlan plan;
  plan.lr = config_.schedule.at(config_.lr, step_);
  plan.decay = plan.lr * config_.weight_decay;
  plan.terms.reserve(estimates.size());
  for (const SeedEstimate& e : estimates) {
    const double scaled = sigma > 0.0 ? (e.loss_plus - base) / (n * sigma) : 0.0;
    plan.terms.push_back({e.seed, static_cast<float>(-plan.lr * scaled)});
  }
  ++step_;
  return plan;
}

MEZO_END_NAMESPACE
