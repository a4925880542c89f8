// Perturbations: how z is drawn, and the in-place passes that move θ along it.
//
// Every parameter update in libmezo is a ParamPass: one read-modify-write of
// each trainable element, so a MeZO step costs three passes over memory
// (+εz | restore then −εz | restore + update) and never holds z.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/counter_rng.hpp"  // ZDistribution
#include "mezo/params.hpp"

MEZO_BEGIN_NAMESPACE

// θ += coef · z(seed)
struct ZTerm {
  std::uint64_t seed = 0;
  float coef = 0.0f;
};

// Exact values of the elements whose ±ε round trip is lossy in fp32.
//
// fl(fl(θ + d) − d) differs from θ when |θ + d| lands in a larger binade than θ
// (tiny weights, weights just below a power of two), on a rounding tie, or in
// its sign bit (θ = −0 comes back +0); no in-place scheme can undo that without
// keeping something. The journal keeps only those elements, 12 bytes each, so
// restoring is bit-exact and a step whose loss is NaN leaves θ bit-identical.
// How many that is depends on |θ| against ε|z|: measured 11% of the elements
// for θ ~ N(0, 0.02²) at ε = 1e-3 (about a third of the weights' own memory),
// 6% at θ ~ N(0, 0.05²). StepResult::journal_entries reports it per step;
// StepOptions::exact_restore = false trades the guarantee for zero extra
// memory. (The CPU passes record into per-thread buffers that they keep from
// one pass to the next, and mezo::step keeps its journals from one step to the
// next on each calling thread: growing fresh buffers every pass cost more than
// the pass, and faulting in a fresh journal's pages every step about a sixth
// of the passes' time. So after a step a thread holds up to about three
// journals' worth of memory.)
class MEZO_API RestoreJournal {
 public:
  // 12 bytes, 4-byte aligned: the index is split so no padding is added.
  struct Entry {
    std::uint32_t index_low, index_high;  // global element index
    float value;                          // θ before the step
    std::uint64_t index() const { return (std::uint64_t{index_high} << 32) | index_low; }
    static Entry make(std::uint64_t index, float value) {
      return {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), value};
    }
  };
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }
  std::span<const Entry> entries() const { return entries_; }
  std::vector<Entry>& mutable_entries() { return entries_; }  // sorted by index

 private:
  std::vector<Entry> entries_;
};

// One fused pass over every element x of a ParamSet, in this order:
//   1. x += restore->coef · z(restore->seed)                 if restore is set
//   2. x = journal value                                      if x's index is in `journal`
//   3. x −= decay · x                                         if x's group has weight decay
//   4. x += term.coef · z(term.seed) for each term, in order
// Each operation rounds to fp32 separately (no FMA), so a fused pass equals the
// same operations done as separate passes, bit for bit.
// If `record` is set, the pass must be exactly one term and no decay; it then
// records in `record` every element whose round trips fl(fl(x + d) − d) or
// fl(fl(x − d) + d), with d = term.coef · z and x the value after steps 1–2,
// differ from x in their bits (so a −0 that would come back +0 is recorded).
// (A one-sided step moves from one probe to the next in one pass: restore the
// last with its journal, record the next one's.)
//
// bf16 views: each element is loaded, put through steps 1–4 in fp32 and
// rounded to bf16 once when stored (so a fused pass and separate passes may
// differ there). Journals hold fp32 values, so journaled passes (record or
// journal set) over bf16 views throw mezo::Error(unsupported): keep bf16
// weights exact with DeferredPerturbation instead.
struct ParamPass {
  std::optional<ZTerm> restore;
  const RestoreJournal* journal = nullptr;
  float decay = 0.0f;
  std::span<const ZTerm> terms;
  RestoreJournal* record = nullptr;
  // The terms move θ to a probe point (θ ± εz) that a later pass's `restore`
  // will undo, rather than update it (and `restore` always undoes a probe).
  // mezo::step and probe_direction set it; CounterPerturbation ignores it,
  // DeferredPerturbation keeps such terms virtual instead of writing them.
  bool probe = false;
};

class GpuContext;  // mezo/gpu.hpp

struct ExecutionOptions {
  int num_threads = 0;  // CPU threads for parameter passes; 0 = all hardware threads
  // Runs passes over CUDA memory on this context's stream (required for
  // them; not owned, must outlive the perturbation's use).
  GpuContext* gpu = nullptr;
};

// The interface a z distribution implements, and the extension point for
// your own (another z, other storage). libmezo ships Gaussian and Rademacher
// (CounterPerturbation) and DeferredPerturbation. mezo::step, probe_direction,
// apply_update and replay use a perturbation only through apply(); with one
// that keeps the contract below they keep their guarantees: a rejected step,
// or a loss that throws, leaves θ bit-identical (StepOptions::exact_restore),
// and replay() rebuilds a run's weights from its log (proved with a
// perturbation written outside libmezo in tests/perturbation_extension_test.cpp).
//
// - z is a pure function of (seed, global element index): the same on every
//   call, thread count and device. Restores regenerate z; nothing stores it.
// - apply(params, pass) does, to every element x of every view, the steps of
//   ParamPass in its order, each operation rounded to fp32 on its own:
//     restore  x += restore->coef · z(restore->seed, i);
//     journal  then x = the journal's value where it holds index i (entries
//              sorted by index): this is what makes restores bit-exact;
//     decay    x −= decay · x, only in groups whose weight_decay is true;
//     terms    x += coef · z(seed, i) for each, in order (coef 0 may be skipped);
//     record   set only with exactly one term and no decay (throw
//              mezo::Error(invalid_argument) otherwise), never the same
//              object as journal: *record is cleared, then holds, sorted by
//              index, every element whose round trips fl(fl(x + d) − d) and
//              fl(fl(x − d) + d), d = coef · z, x the value after restore and
//              journal, would not give x back in this implementation's passes
//              (none for one that never rounds θ, like DeferredPerturbation);
//     probe    may be ignored (DeferredPerturbation keeps such terms virtual).
//   An implementation that cannot keep a journal throws
//   mezo::Error(unsupported) for a pass with `record` or `journal` set; it
//   then trains with StepOptions{.exact_restore = false}, and θ comes back
//   to within fp32 rounding.
// - A pass that throws should do so before it changes anything.
// - name() identifies z in trajectory logs ("gaussian" and "rademacher" are
//   libmezo's); generate() writes z itself on the host, for wrappers such as
//   DeferredPerturbation.
class MEZO_API Perturbation {
 public:
  virtual ~Perturbation() = default;
  virtual std::string_view name() const = 0;
  // z(seed, i) for i in [first, first + out.size()), written on the host.
  virtual void generate(std::uint64_t seed, std::uint64_t first, std::span<float> out) const = 0;
  // Applies `pass` to every element of `params`, in place (see above).
  virtual void apply(const ParamSet& params, const ParamPass& pass) const = 0;
};

// The built-in counter-based perturbations (see counter_rng.hpp for the
// element-to-counter mapping). Results are identical for any thread count.
class MEZO_API CounterPerturbation : public Perturbation {
 public:
  explicit CounterPerturbation(ZDistribution distribution, ExecutionOptions exec = {});
  std::string_view name() const override;
  void generate(std::uint64_t seed, std::uint64_t first, std::span<float> out) const override;
  void apply(const ParamSet& params, const ParamPass& pass) const override;
  ZDistribution distribution() const { return distribution_; }
  const ExecutionOptions& execution() const { return exec_; }

 private:
  ZDistribution distribution_;
  ExecutionOptions exec_;
};

// z ~ N(0, I) by Philox4x32-10 and Box-Muller: the MeZO paper's choice.
MEZO_API std::shared_ptr<const Perturbation> gaussian_perturbation(ExecutionOptions exec = {});
// z uniform in {−1, +1}: cheaper to generate, same first two moments.
MEZO_API std::shared_ptr<const Perturbation> rademacher_perturbation(ExecutionOptions exec = {});

// θ += alpha · z(seed) over the whole set, in one pass.
MEZO_API void perturb_inplace(const ParamSet& params, const Perturbation& perturbation,
                              std::uint64_t seed, float alpha);

MEZO_END_NAMESPACE
