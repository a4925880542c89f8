// The CUDA implementation of ParamPass (see mezo/perturbation.hpp). Compiled
// only when the CUDA backend is enabled; plain C++ so host code can include it.
#pragma once

#include "cuda_context.hpp"
#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda {

// Runs `pass` over device memory (fp32 and bf16 views) on ctx's stream and
// waits for it, so the caller's next loss sees the new weights whatever
// stream it uses. Journals (exact in-place restore) are not implemented on
// the device: a pass that reads or records one throws mezo::Error(unsupported)
// — DeferredPerturbation restores exactly without one.
void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution,
                      Context& ctx);

}  // namespace cuda
MEZO_END_NAMESPACE
