#include "mezo/ada_mezo.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "optimizer_checks.hpp"

MEZO_BEGIN_NAMESPACE

AdaMezo::AdaMezo(AdaMezoConfig config, std::shared_ptr<const Perturbation> perturbation)
    : config_(config),
      perturbation_(perturbation ? std::move(perturbation) : rademacher_perturbation()) {
  using detail::require;
  detail::check_common_options("AdaMeZO", config_.lr, config_.eps, config_.weight_decay,
                               config_.schedule);
  for (const auto& [name, beta] : {std::pair{"beta1", config_.beta1}, {"beta2", config_.beta2}}) {
    require(beta >= 0.0f && beta < 1.0f,
            fmt::format("AdaMeZO: {} must be in [0, 1), got {}", name, beta));
  }
  require(std::isfinite(config_.delta) && config_.delta > 0.0f,
          fmt::format("AdaMeZO: delta must be a positive finite number, got {}", config_.delta));
  require(config_.history >= 1 && config_.history <= 1024,
          fmt::format("AdaMeZO: history must be in [1, 1024] steps, got {}", config_.history));
  require(perturbation_->name() == "rademacher",
          fmt::format("AdaMeZO: needs the Rademacher perturbation (its second moment is one "
                      "number only when z² = 1), got '{}'",
                      perturbation_->name()));
}

void AdaMezo::set_step_count(std::int64_t step) {
  detail::check_step_count("AdaMeZO", step);
  step_ = step;
  while (!history_.empty() && history_.back().step >= step) history_.pop_back();
}

UpdatePlan AdaMezo::plan_update(std::span<const SeedEstimate> estimates) {
  detail::require(estimates.size() == 1,
                  fmt::format("AdaMeZO: plan_update needs 1 estimate, got {}", estimates.size()));
  history_.push_back({step_, estimates.front().seed, estimates.front().projected_grad});
  if (history_.size() > static_cast<std::size_t>(config_.history)) history_.pop_front();

  // Newest first: term 0 is this step's direction (UpdatePlan's rule).
  double v = 0.0, beta2_power = 1.0;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    v += beta2_power * static_cast<double>(it->projected_grad) * it->projected_grad;
    beta2_power *= config_.beta2;
  }
  UpdatePlan plan;
  plan.lr = config_.schedule.at(config_.lr, step_);
  plan.decay = plan.lr * config_.weight_decay;
  const double scale = -static_cast<double>(plan.lr) / (std::sqrt(v) + config_.delta);
  double beta1_power = 1.0;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    plan.terms.push_back({it->seed, static_cast<float>(scale * beta1_power * it->projected_grad)});
    beta1_power *= config_.beta1;
  }
  ++step_;
  return plan;
}

MEZO_END_NAMESPACE
