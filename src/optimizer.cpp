#include "mezo/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mezo/error.hpp"
#include "optimizer_checks.hpp"

MEZO_BEGIN_NAMESPACE

float LrSchedule::at(float base_lr, std::int64_t step) const {
  if (kind == Kind::constant || total_steps <= 0) return base_lr;
  const double progress =
      std::clamp(static_cast<double>(step) / static_cast<double>(total_steps), 0.0, 1.0);
  return static_cast<float>(base_lr * (1.0 - progress * (1.0 - final_fraction)));
}

using detail::require;

ZoSgd::ZoSgd(ZoSgdConfig config, std::shared_ptr<const Perturbation> perturbation)
    : config_(config),
      perturbation_(perturbation ? std::move(perturbation) : gaussian_perturbation()) {
  detail::check_common_options("ZO-SGD", config_.lr, config_.eps, config_.weight_decay,
                               config_.schedule);
}

void ZoSgd::set_step_count(std::int64_t step) {
  detail::check_step_count("ZO-SGD", step);
  step_ = step;
}

int forwards_per_step(const Optimizer& optimizer) {
  const int n = optimizer.directions_per_step();
  return optimizer.probe_kind() == ProbeKind::one_sided ? n + 1 : 2 * n;
}

UpdatePlan ZoSgd::plan_update(std::span<const SeedEstimate> estimates) {
  require(!estimates.empty(), "ZO-SGD: plan_update needs at least one estimate");
  UpdatePlan plan;
  plan.lr = config_.schedule.at(config_.lr, step_);
  plan.decay = plan.lr * config_.weight_decay;
  const float directions = static_cast<float>(estimates.size());
  plan.terms.reserve(estimates.size());
  for (const SeedEstimate& e : estimates) {
    plan.terms.push_back({e.seed, -(plan.lr * direction_scale(e.projected_grad)) / directions});
  }
  ++step_;
  return plan;
}

NSpsa::NSpsa(ZoSgdConfig config, int directions, std::shared_ptr<const Perturbation> perturbation)
    : ZoSgd(config, std::move(perturbation)), directions_(directions) {
  require(directions >= 1 && directions <= 65535,
          fmt::format("n-SPSA: directions per step must be in [1, 65535], got {}", directions));
}

float ZoSgdSign::direction_scale(float projected_grad) const {
  return static_cast<float>((projected_grad > 0.0f) - (projected_grad < 0.0f));
}

MEZO_END_NAMESPACE
