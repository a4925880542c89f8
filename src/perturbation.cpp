#include "mezo/perturbation.hpp"

#include <fmt/format.h>

#include "cpu/param_pass.hpp"
#include "cpu/z_fill.hpp"
#include "mezo/error.hpp"

#if defined(MEZO_WITH_CUDA)
#include "cuda_param_pass.hpp"
#include "gpu_context_impl.hpp"
#endif

MEZO_BEGIN_NAMESPACE

namespace {
void validate(const ParamPass& pass) {
  if (pass.record != nullptr && (pass.terms.size() != 1 || pass.decay != 0.0f)) {
    throw Error(ErrorCode::invalid_argument,
                "ParamPass: a recording pass must be exactly one term with no decay");
  }
  if (pass.record != nullptr && pass.record == pass.journal) {
    throw Error(ErrorCode::invalid_argument,
                "ParamPass: cannot record into the journal the pass restores from");
  }
}
}  // namespace

CounterPerturbation::CounterPerturbation(ZDistribution distribution, ExecutionOptions exec)
    : distribution_(distribution), exec_(exec) {
  if (exec.num_threads < 0) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("ExecutionOptions: num_threads must be >= 0, got {}", exec.num_threads));
  }
}

std::string_view CounterPerturbation::name() const {
  return distribution_ == ZDistribution::gaussian ? "gaussian" : "rademacher";
}

void CounterPerturbation::generate(std::uint64_t seed, std::uint64_t first,
                                   std::span<float> out) const {
  cpu::fill_z(distribution_, seed, first, out.data(), out.size());
}

void CounterPerturbation::apply(const ParamSet& params, const ParamPass& pass) const {
  validate(pass);
  if (params.empty()) return;
  switch (params.device()) {
    case Device::cpu:
      cpu::apply_param_pass(params, pass, distribution_, exec_);
      return;
    case Device::cuda:
#if defined(MEZO_WITH_CUDA)
      if (exec_.gpu == nullptr) {
        throw Error(ErrorCode::invalid_argument,
                    "parameters are in CUDA memory: give the perturbation a GpuContext "
                    "(ExecutionOptions::gpu) whose stream the passes run on");
      }
      cuda::apply_param_pass(params, pass, distribution_, GpuContext::Impl::of(*exec_.gpu));
      return;
#else
      throw Error(ErrorCode::unsupported,
                  "parameters are in CUDA memory, but this libmezo was built without CUDA "
                  "(configure with -DMEZO_ENABLE_CUDA=ON)");
#endif
  }
  throw Error(ErrorCode::internal, "CounterPerturbation::apply: unknown device");
}

std::shared_ptr<const Perturbation> gaussian_perturbation(ExecutionOptions exec) {
  return std::make_shared<CounterPerturbation>(ZDistribution::gaussian, exec);
}

std::shared_ptr<const Perturbation> rademacher_perturbation(ExecutionOptions exec) {
  return std::make_shared<CounterPerturbation>(ZDistribution::rademacher, exec);
}

void perturb_inplace(const ParamSet& params, const Perturbation& perturbation, std::uint64_t seed,
                     float alpha) {
  const ZTerm term{seed, alpha};
  ParamPass pass;
  pass.terms = {&term, 1};
  perturbation.apply(params, pass);
}

MEZO_END_NAMESPACE
