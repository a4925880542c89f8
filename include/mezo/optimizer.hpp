// Zeroth-order optimizers. An Optimizer owns the hyperparameters and the step
// counter; mezo::step() owns the perturb/evaluate/restore sequence and asks the
// optimizer only how large ε is, how many directions to probe and how
// (probe_kind), and how to turn the probed losses into an update.
// More optimizers: mezo/fzoo.hpp (one-sided probes), mezo/ada_mezo.hpp
// (momentum replayed from past seeds).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE

struct MEZO_API LrSchedule {
  enum class Kind { constant, linear };
  Kind kind = Kind::constant;
  // linear: lr falls from the base rate at step 0 to base · final_fraction at
  // total_steps and stays there.
  std::int64_t total_steps = 0;
  float final_fraction = 0.0f;

  static LrSchedule constant() { return {}; }
  static LrSchedule linear(std::int64_t total_steps, float final_fraction = 0.0f) {
    return {Kind::linear, total_steps, final_fraction};
  }
  float at(float base_lr, std::int64_t step) const;
};

// How a step probes its directions z_1..z_n (seeds from direction_seed()):
//   two_sided  ℓ(θ + εz_i) and ℓ(θ − εz_i) for each i: 2n forwards (MeZO, n-SPSA);
//   one_sided  ℓ0 = ℓ(θ) once, then ℓ(θ + εz_i) for each i: n + 1 forwards (FZOO).
enum class ProbeKind { two_sided, one_sided };

// What one probed direction measured.
//   two_sided: loss_plus = ℓ(θ + εz), loss_minus = ℓ(θ − εz),
//              projected_grad = (loss_plus − loss_minus) / (2ε);
//   one_sided: loss_plus = ℓ(θ + εz), loss_minus = ℓ0 = ℓ(θ) (the same for
//              every direction of the step), projected_grad = (loss_plus − ℓ0) / ε.
struct SeedEstimate {
  std::uint64_t seed = 0;
  float loss_plus = 0.0f;
  float loss_minus = 0.0f;
  float projected_grad = 0.0f;
};

// The parameter update as a ParamPass: θ −= decay · θ (decaying groups), then
// θ += coef_i · z(seed_i) for each term, in order. Term i < the number of
// estimates is estimate i's direction (its seed); terms after those move θ
// along directions of earlier steps (momentum replayed from their seeds) and
// are logged as update-only records of the trajectory.
struct UpdatePlan {
  float lr = 0.0f;
  float decay = 0.0f;
  std::vector<ZTerm> terms;
};

class MEZO_API Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual float eps() const = 0;
  virtual int directions_per_step() const = 0;
  virtual ProbeKind probe_kind() const { return ProbeKind::two_sided; }
  virtual const Perturbation& perturbation() const = 0;
  // Called once per completed step with one estimate per direction; advances
  // the step counter (and whatever else the optimizer keeps: it must be a
  // function of the sequence of estimates it was given, so that
  // mezo::resume_optimizer can rebuild it from a trajectory log). Not called
  // for a step that was rejected. If the plan is refused (not finite), the
  // caller puts the step count back with set_step_count and the optimizer
  // must then behave as if this call never happened.
  virtual UpdatePlan plan_update(std::span<const SeedEstimate> estimates) = 0;
  virtual std::int64_t step_count() const = 0;
  // The next plan_update is for step `step`.
  virtual void set_step_count(std::int64_t step) = 0;
};

// Forward passes (loss evaluations) one completed step of `optimizer` costs.
MEZO_API int forwards_per_step(const Optimizer& optimizer);

struct ZoSgdConfig {
  float lr = 1e-6f;  // the paper's RoBERTa-large default
  float eps = 1e-3f;
  float weight_decay = 0.0f;  // λ; applied only to groups with weight_decay
  LrSchedule schedule = {};
};

// ZO-SGD (MeZO): θ ← θ − η_t (g z + λ θ), g = (ℓ+ − ℓ−) / 2ε.
class MEZO_API ZoSgd : public Optimizer {
 public:
  // Throws mezo::Error for eps <= 0, lr < 0, weight_decay < 0, a non-finite
  // value, or a linear schedule without total_steps.
  explicit ZoSgd(ZoSgdConfig config, std::shared_ptr<const Perturbation> perturbation = nullptr);

  float eps() const override { return config_.eps; }
  int directions_per_step() const override { return 1; }
  const Perturbation& perturbation() const override { return *perturbation_; }
  UpdatePlan plan_update(std::span<const SeedEstimate> estimates) override;
  std::int64_t step_count() const override { return step_; }
  void set_step_count(std::int64_t step) override;
  const ZoSgdConfig& config() const { return config_; }

 protected:
  // The factor each direction's z is moved by, before −lr and averaging.
  virtual float direction_scale(float projected_grad) const { return projected_grad; }

 private:
  ZoSgdConfig config_;
  std::shared_ptr<const Perturbation> perturbation_;
  std::int64_t step_ = 0;
};

// n-SPSA: n directions per step, θ ← θ − η_t ((1/n) Σ g_i z_i + λ θ). The
// paper scales η with n; that choice is left to the caller's config.
class MEZO_API NSpsa final : public ZoSgd {
 public:
  NSpsa(ZoSgdConfig config, int directions,
        std::shared_ptr<const Perturbation> perturbation = nullptr);
  int directions_per_step() const override { return directions_; }

 private:
  int directions_;
};

// ZO-SGD-sign: θ ← θ − η_t (sign(g) z + λ θ); a zero g moves nothing.
class MEZO_API ZoSgdSign final : public ZoSgd {
 public:
  using ZoSgd::ZoSgd;

 protected:
  float direction_scale(float projected_grad) const override;
};

MEZO_END_NAMESPACE
