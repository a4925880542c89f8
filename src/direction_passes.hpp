// The parameter passes of a step's probes, shared by mezo::step and by
// trajectory replay (which must repeat the step's arithmetic exactly):
// DirectionPasses for one two-sided direction, OneSidedPasses for a step of
// one-sided probes.
#pragma once

#include <cstdint>
#include <optional>
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

// One-sided probes θ + εz_1, θ + εz_2, ...: one pass from θ to the first,
// one pass from each to the next (undo the last, journal, add the next), and
// one pass back that also updates. Two journals take turns: the pass that
// leaves probe i restores from i's journal and records the next one's.
class OneSidedPasses final {
 public:
  // `journals`: two journals to take turns with, or null (no exact restore).
  OneSidedPasses(const ParamSet& params, const Perturbation& perturbation, float eps,
                 RestoreJournal* journals)
      : params_(params), perturbation_(perturbation), eps_(eps), journals_(journals) {}

  // θ, or the current probe → θ + εz(seed).
  void to_probe(std::uint64_t seed) {
    const ZTerm next{seed, eps_};
    const int journal = current_ ? 1 - current_journal_ : 0;
    ParamPass pass;
    fill_restore(pass);
    pass.terms = {&next, 1};
    if (journals_ != nullptr) pass.record = &journals_[journal];
    pass.probe = true;
    perturbation_.apply(params_, pass);
    current_ = seed;
    current_journal_ = journal;
  }
  // The current probe → θ (nothing to do before the first probe).
  void restore() { restore_and_update({}); }
  // The current probe → θ → updated θ, in one pass.
  void restore_and_update(const UpdatePlan& plan) {
    ParamPass pass;
    fill_restore(pass);
    pass.decay = plan.decay;
    pass.terms = plan.terms;
    if (pass.restore || pass.decay != 0.0f || !pass.terms.empty()) {
      perturbation_.apply(params_, pass);
    }
    current_.reset();
  }
  // Elements the current probe's journal keeps.
  std::size_t journal_size() const {
    return journals_ != nullptr && current_ ? journals_[current_journal_].size() : 0;
  }

 private:
  void fill_restore(ParamPass& pass) const {
    if (!current_) return;
    pass.restore = ZTerm{*current_, -eps_};
    if (journals_ != nullptr) pass.journal = &journals_[current_journal_];
  }

  const ParamSet& params_;
  const Perturbation& perturbation_;
  float eps_;
  RestoreJournal* journals_;
  std::optional<std::uint64_t> current_;  // seed of the probe θ is at
  int current_journal_ = 0;
};

}  // namespace detail
MEZO_END_NAMESPACE
