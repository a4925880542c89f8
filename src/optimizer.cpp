#include "mezo/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

float LrSchedule::at(float base_lr, std::int64_t step) const {
  if (kind == Kind::constant || total_steps <= 0) return base_lr;
  const double progress =
      std::clamp(static_cast<double>(step) / static_cast<double>(total_steps), 0.0, 1.0);
  return static_cast<float>(base_lr * (1.0 - progress * (1.0 - final_fraction)));
}

namespace {
void require(bool ok, const std::string& message) {
  if (!ok) throw Error(ErrorCode::invalid_argument, message);
}
}  // namespace

ZoSgd::ZoSgd(ZoSgdConfig config, std::shared_ptr<const Perturbation> perturbation)
    : config_(config),
      perturbation_(perturbation ? std::move(perturbation) : gaussian_perturbation()) {
  require(std::isfinite(config_.eps) && config_.eps > 0.0f,
          fmt::format("ZO-SGD: eps must be a positive finite number, got {}", config_.eps));
  require(std::isfinite(config_.lr) && config_.lr >= 0.0f,
          fmt::format("ZO-SGD: lr must be finite and >= 0, got {}", config_.lr));
  require(
      std::isfinite(config_.weight_decay) && config_.weight_decay >= 0.0f,
      fmt::format("ZO-SGD: weight_decay must be finite and >= 0, got {}", config_.weight_decay));
  if (config_.schedule.kind == LrSchedule::Kind::linear) {
    require(config_.schedule.total_steps > 0,
            fmt::format("ZO-SGD: a linear lr schedule needs total_steps > 0, got {}",
                        config_.schedule.total_steps));
    require(config_.schedule.final_fraction >= 0.0f && config_.schedule.final_fraction <= 1.0f,
            fmt::format("ZO-SGD: linear schedule final_fraction must be in [0, 1], got {}",
                        config_.schedule.final_fraction));
  }
}

void ZoSgd::set_step_count(std::int64_t step) {
  require(step >= 0, fmt::format("ZO-SGD: step count must be >= 0, got {}", step));
  step_ = step;
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
