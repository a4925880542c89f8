// The CUDA implementation of ParamPass (see mezo/perturbation.hpp). Compiled
// only when the CUDA backend is enabled; plain C++ so host code can include it.
#pragma once

#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda {

// Runs `pass` over device memory on the default stream and waits for it.
// Journals (exact restore) are not implemented on the device yet: a pass that
// reads or records one throws mezo::Error(unsupported).
void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution);

}  // namespace cuda
MEZO_END_NAMESPACE
