// In-place parameter passes on the GPU: the device twin of
// src/cpu/param_pass.cpp, producing the same bits (same Philox counters, the
// same correctly-rounded operations in the same order, no FMA contraction).
//
// Why not cuRAND's Philox: its device API maps (seed, subsequence, offset) to
// counters in its own way and keeps a per-thread state, while the CPU twin
// needs z as a pure function of (seed, element index); one shared header
// (mezo/counter_rng.hpp) gives both sides the same function.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_param_pass.hpp"
#include "mezo/bf16.hpp"
#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda {
namespace {

// Terms travel by value in the kernel's parameters; passes with more are split
// into several launches, which applies them in the same order.
constexpr int kMaxTermsPerLaunch = 32;

struct DevicePass {
  bool has_restore;
  ZTerm restore;
  float decay;  // already 0 for views without weight decay
  int num_terms;
  ZTerm terms[kMaxTermsPerLaunch];
};

__device__ float load(const float* p) { return *p; }
__device__ float load(const std::uint16_t* p) { return bf16_to_float(*p); }
__device__ void store(float* p, float x) { *p = x; }
__device__ void store(std::uint16_t* p, float x) { *p = float_to_bf16(x); }

// One thread per element, grid-stride: the result of an element depends only
// on its global index, never on the launch shape. bf16 elements are widened,
// put through the pass in fp32 and rounded once, as on the CPU.
template <typename T>
__global__ void param_pass_kernel(T* theta, std::uint64_t count, std::uint64_t global_offset,
                                  ZDistribution distribution, DevicePass pass) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t j = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
       j < count; j += stride) {
    const std::uint64_t index = global_offset + j;
    float x = load(theta + j);
    if (pass.has_restore) {
      x = rng::add_rn(
          x, rng::mul_rn(pass.restore.coef, rng::z(distribution, pass.restore.seed, index)));
    }
    if (pass.decay != 0.0f) x = rng::sub_rn(x, rng::mul_rn(pass.decay, x));
    for (int t = 0; t < pass.num_terms; ++t) {
      x = rng::add_rn(
          x, rng::mul_rn(pass.terms[t].coef, rng::z(distribution, pass.terms[t].seed, index)));
    }
    store(theta + j, x);
  }
}

}  // namespace

void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution,
                      Context& ctx) {
  if (pass.journal != nullptr || pass.record != nullptr) {
    throw Error(ErrorCode::unsupported,
                "exact in-place restore (RestoreJournal) is not implemented for CUDA memory: "
                "train through a DeferredPerturbation (GpuMaskedLM::perturbation(), exact by "
                "construction) or use StepOptions{.exact_restore = false}");
  }
  ctx.make_current();
  // Zero-coefficient terms move nothing; the CPU pass skips them too.
  std::vector<ZTerm> terms;
  for (const ZTerm& t : pass.terms) {
    if (t.coef != 0.0f) terms.push_back(t);
  }
  for (const ParamView& view : params.views()) {
    if (view.size == 0) continue;
    const bool decays = params.groups()[view.group].weight_decay;
    std::size_t next_term = 0;
    bool first_launch = true;
    do {
      DevicePass device_pass{};
      device_pass.has_restore = first_launch && pass.restore && pass.restore->coef != 0.0f;
      if (device_pass.has_restore) device_pass.restore = *pass.restore;
      device_pass.decay = first_launch && decays ? pass.decay : 0.0f;
      const std::size_t n = std::min<std::size_t>(kMaxTermsPerLaunch, terms.size() - next_term);
      device_pass.num_terms = static_cast<int>(n);
      std::copy_n(terms.begin() + static_cast<std::ptrdiff_t>(next_term), n, device_pass.terms);
      next_term += n;
      first_launch = false;

      constexpr int kThreads = 256;
      const std::uint64_t blocks_needed = (view.size + kThreads - 1) / kThreads;
      const unsigned blocks =
          static_cast<unsigned>(std::min<std::uint64_t>(blocks_needed, 65535u * 8));
      if (view.dtype == DType::bf16) {
        param_pass_kernel<<<blocks, kThreads, 0, ctx.stream()>>>(
            view.bf16(), view.size, view.offset, distribution, device_pass);
      } else {
        param_pass_kernel<<<blocks, kThreads, 0, ctx.stream()>>>(
            view.f32(), view.size, view.offset, distribution, device_pass);
      }
      check_cuda(cudaGetLastError(), "param_pass_kernel launch");
    } while (next_term < terms.size());
  }
  ctx.synchronize();
}

}  // namespace cuda
MEZO_END_NAMESPACE
