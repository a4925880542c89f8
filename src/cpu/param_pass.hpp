// The CPU implementation of ParamPass (see mezo/perturbation.hpp).
#pragma once

#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace cpu {

void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution,
                      const ExecutionOptions& exec);

}  // namespace cpu
MEZO_END_NAMESPACE
