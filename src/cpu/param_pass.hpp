// The CPU implementation of ParamPass (see mezo/perturbation.hpp).
#pragma once

#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace cpu {

// Throws mezo::Error(unsupported) when `pass` reads or records a journal and
// `params` has a bf16 view (shared by the CPU and CUDA passes).
void reject_journaled_bf16(const ParamSet& params, const ParamPass& pass);

void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution,
                      const ExecutionOptions& exec);

}  // namespace cpu
MEZO_END_NAMESPACE
