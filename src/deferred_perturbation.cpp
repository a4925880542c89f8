#include "mezo/deferred_perturbation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "mezo/bf16.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

DeferredPerturbation::DeferredPerturbation(std::shared_ptr<const Perturbation> base)
    : base_(std::move(base)) {
  if (!base_) {
    throw Error(ErrorCode::invalid_argument, "DeferredPerturbation: the base perturbation is null");
  }
}

namespace {

void add_to_probe(std::vector<ZTerm>& probe, const ZTerm& term) {
  if (term.coef == 0.0f) return;
  const auto same_seed = std::find_if(probe.begin(), probe.end(),
                                      [&](const ZTerm& t) { return t.seed == term.seed; });
  if (same_seed == probe.end()) {
    probe.push_back(term);
    return;
  }
  // −ε after +ε sums to exactly 0 in fp32: the probe is gone, bit for bit.
  same_seed->coef += term.coef;
  if (same_seed->coef == 0.0f) probe.erase(same_seed);
}

}  // namespace

void DeferredPerturbation::apply(const ParamSet& params, const ParamPass& pass) const {
  if (pass.probe && pass.decay != 0.0f) {
    throw Error(ErrorCode::invalid_argument,
                "DeferredPerturbation: a probe pass cannot carry weight decay");
  }
  if (pass.record != nullptr) pass.record->clear();  // nothing is ever lossy
  std::lock_guard<std::mutex> lock(mutex_);
  // Worked on a copy: a refused pass leaves the probe as it was.
  std::vector<ZTerm> probe = probe_;
  if (pass.restore) add_to_probe(probe, *pass.restore);
  if (pass.probe) {
    for (const ZTerm& term : pass.terms) add_to_probe(probe, term);
    probe_ = std::move(probe);
    return;
  }
  const bool updates = pass.decay != 0.0f ||
                       std::any_of(pass.terms.begin(), pass.terms.end(),
                                   [](const ZTerm& t) { return t.coef != 0.0f; });
  if (updates && !probe.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("DeferredPerturbation: an update while the weights are probed at "
                            "seed {} (coefficient {}); restore the probe first, or the update "
                            "lands on weights no loss was measured at",
                            probe.front().seed, probe.front().coef));
  }
  probe_ = std::move(probe);
  if (!updates) return;
  ParamPass update;
  update.decay = pass.decay;
  update.terms = pass.terms;
  base_->apply(params, update);
}

std::vector<ZTerm> DeferredPerturbation::probe() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return probe_;
}

void DeferredPerturbation::clear_probe() const {
  std::lock_guard<std::mutex> lock(mutex_);
  probe_.clear();
}

void DeferredPerturbation::materialize(const ParamView& view, std::uint64_t first,
                                       std::span<float> out) const {
  if (view.device != Device::cpu) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("DeferredPerturbation::materialize: view '{}' is in {} memory; only "
                            "host views can be read here",
                            view.name, to_string(view.device)));
  }
  if (first > view.size || out.size() > view.size - first) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("DeferredPerturbation::materialize: elements [{}, {}) are outside "
                            "view '{}' of {} elements",
                            first, first + out.size(), view.name, view.size));
  }
  for (std::size_t j = 0; j < out.size(); ++j) {
    out[j] = view.dtype == DType::bf16 ? bf16_to_float(view.bf16()[first + j])
                                       : view.f32()[first + j];
  }
  const std::vector<ZTerm> terms = probe();
  std::vector<float> z(out.size());
  for (const ZTerm& term : terms) {
    base_->generate(term.seed, view.offset + first, z);
    for (std::size_t j = 0; j < out.size(); ++j) out[j] = out[j] + term.coef * z[j];
  }
  if (view.dtype == DType::bf16) {
    for (float& x : out) x = round_to_bf16(x);
  }
}

MEZO_END_NAMESPACE
