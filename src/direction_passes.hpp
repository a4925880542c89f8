// The parameter passes of one probed direction, shared by mezo::step and by
// trajectory replay (which must repeat the step's arithmetic exactly).
#pragma once

#include <span>

#include "mezo/optimizer.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// The passes of one direction. Every restore goes through the journal (when
// kept), so θ comes back bit-exactly whichever stage the step stops at.
class DirectionPasses final {
 public:
  DirectionPasses(const ParamSet& params, const Perturbation& perturbation, std::uint64_t seed,
                  float eps, RestoreJournal* journal)
      : params_(params),
        perturbation_(perturbation),
        plus_{seed, eps},
        minus_{seed, -eps},
        journal_(journal) {}

  // θ → θ + εz, journaling the elements whose round trip is lossy.
  void to_plus() {
    ParamPass pass;
    pass.terms = {&plus_, 1};
    pass.record = journal_;
    pass.probe = true;
    perturbation_.apply(params_, pass);
  }
  // θ + εz → θ → θ − εz
  void plus_to_minus() {
    ParamPass pass;
    pass.restore = minus_;
    pass.journal = journal_;
    pass.terms = {&minus_, 1};
    pass.probe = true;
    perturbation_.apply(params_, pass);
  }
  void restore_from_plus() { restore(minus_, {}, 0.0f); }
  void restore_from_minus() { restore(plus_, {}, 0.0f); }
  // θ − εz → θ → updated θ, in one pass.
  void restore_from_minus_and_update(const UpdatePlan& plan) {
    restore(plus_, plan.terms, plan.decay);
  }

 private:
  void restore(const ZTerm& undo, std::span<const ZTerm> terms, float decay) {
    ParamPass pass;
    pass.restore = undo;
    pass.journal = journal_;
    pass.decay = decay;
    pass.terms = terms;
    perturbation_.apply(params_, pass);
  }

  const ParamSet& params_;
  const Perturbation& perturbation_;
  ZTerm plus_, minus_;
  RestoreJournal* journal_;
};

}  // namespace detail
MEZO_END_NAMESPACE
