// Reading weights at a probe point without writing them: the device half of
// DeferredPerturbation (mezo/deferred_perturbation.hpp). Each function
// produces fp32 values equal, bit for bit, to DeferredPerturbation::materialize
// on the same stored elements: x widened from its dtype, then
// x = fl(x + fl(coef·z(seed, global index))) per probe term in order, then
// rounded to bf16 for bf16 storage.
//
// Host-callable, enqueued on ctx.stream(); throws mezo::Error like the layers.
#pragma once

#include <cstdint>
#include <span>

#include "cuda_context.hpp"
#include "mezo/device.hpp"
#include "mezo/perturbation.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda::probed {

// A probe travels to the kernels by value; mezo::step's probes have one term.
constexpr int kMaxProbeTerms = 4;

struct Probe {
  ZDistribution distribution = ZDistribution::gaussian;
  int count = 0;
  ZTerm terms[kMaxProbeTerms] = {};
};

// Throws mezo::Error(unsupported) for more than kMaxProbeTerms terms.
Probe make_probe(std::span<const ZTerm> terms, ZDistribution distribution);

// Stored elements in device memory: element j has global index offset + j.
struct StoredTensor {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// out[j] = the evaluated value of element j, for j < t.size.
void materialize(Context& ctx, const StoredTensor& t, const Probe& probe, float* out);

// out (count, width) = evaluated rows indices[i] of t viewed as (rows, width)
// (indices: device int32, the caller's to validate).
void gather_rows(Context& ctx, const StoredTensor& t, std::int64_t width,
                 const std::int32_t* indices, std::int64_t count, const Probe& probe, float* out);

}  // namespace cuda::probed
MEZO_END_NAMESPACE
