// The option checks every optimizer shares, worded the same way for each
// ("<name>: lr must be ..."), so a user sees one message per mistake.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "mezo/error.hpp"
#include "mezo/optimizer.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

inline void require(bool ok, const std::string& message) {
  if (!ok) throw Error(ErrorCode::invalid_argument, message);
}

// ε > 0, lr ≥ 0, λ ≥ 0, all finite, and a linear schedule with total_steps.
inline void check_common_options(const char* name, float lr, float eps, float weight_decay,
                                 const LrSchedule& schedule) {
  require(std::isfinite(eps) && eps > 0.0f,
          fmt::format("{}: eps must be a positive finite number, got {}", name, eps));
  require(std::isfinite(lr) && lr >= 0.0f,
          fmt::format("{}: lr must be finite and >= 0, got {}", name, lr));
  require(std::isfinite(weight_decay) && weight_decay >= 0.0f,
          fmt::format("{}: weight_decay must be finite and >= 0, got {}", name, weight_decay));
  if (schedule.kind == LrSchedule::Kind::linear) {
    require(schedule.total_steps > 0,
            fmt::format("{}: a linear lr schedule needs total_steps > 0, got {}", name,
                        schedule.total_steps));
    require(schedule.final_fraction >= 0.0f && schedule.final_fraction <= 1.0f,
            fmt::format("{}: linear schedule final_fraction must be in [0, 1], got {}", name,
                        schedule.final_fraction));
  }
}

inline void check_step_count(const char* name, std::int64_t step) {
  require(step >= 0, fmt::format("{}: step count must be >= 0, got {}", name, step));
}

}  // namespace detail
MEZO_END_NAMESPACE
