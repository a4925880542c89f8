// Kernels of probed_params.hpp. Built with --fmad=false and the _rn
// intrinsics of counter_rng.hpp, so each element sees the operations of
// DeferredPerturbation::materialize one by one, as the CPU performs them.
#include <cuda_runtime.h>

#include <string>

#include "mezo/bf16.hpp"
#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "probed_params.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda::probed {
namespace {

constexpr int kThreads = 256;
constexpr std::uint64_t kMaxBlocks = 65535u * 8;

__device__ float evaluated(const void* data, DType dtype, std::uint64_t j, std::uint64_t index,
                           const Probe& probe) {
  float x = dtype == DType::bf16 ? bf16_to_float(static_cast<const std::uint16_t*>(data)[j])
                                 : static_cast<const float*>(data)[j];
  for (int t = 0; t < probe.count; ++t) {
    const float z = rng::z(probe.distribution, probe.terms[t].seed, index);
    x = rng::add_rn(x, rng::mul_rn(probe.terms[t].coef, z));
  }
  return dtype == DType::bf16 ? round_to_bf16(x) : x;
}

// Grid-stride over elements: the value of an element depends on its index only.
__global__ void materialize_kernel(const void* data, DType dtype, std::uint64_t offset,
                                   std::uint64_t size, Probe probe, float* out) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t j = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
       j < size; j += stride) {
    out[j] = evaluated(data, dtype, j, offset + j, probe);
  }
}

__global__ void gather_rows_kernel(const void* data, DType dtype, std::uint64_t offset,
                                   std::int64_t width, const std::int32_t* indices,
                                   std::int64_t count, Probe probe, float* out) {
  const std::uint64_t total = static_cast<std::uint64_t>(count) * width;
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t e = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
       e < total; e += stride) {
    const std::uint64_t i = e / width, c = e % width;
    const std::uint64_t j = static_cast<std::uint64_t>(indices[i]) * width + c;
    out[e] = evaluated(data, dtype, j, offset + j, probe);
  }
}

unsigned blocks_for(std::uint64_t elements) {
  const std::uint64_t needed = (elements + kThreads - 1) / kThreads;
  return static_cast<unsigned>(needed < kMaxBlocks ? needed : kMaxBlocks);
}

}  // namespace

Probe make_probe(std::span<const ZTerm> terms, ZDistribution distribution) {
  if (terms.size() > static_cast<std::size_t>(kMaxProbeTerms)) {
    throw Error(ErrorCode::unsupported,
                "mezo::cuda: a probe of " + std::to_string(terms.size()) +
                    " terms; the GPU forward applies at most " + std::to_string(kMaxProbeTerms));
  }
  Probe probe;
  probe.distribution = distribution;
  probe.count = static_cast<int>(terms.size());
  for (std::size_t t = 0; t < terms.size(); ++t) probe.terms[t] = terms[t];
  return probe;
}

void materialize(Context& ctx, const StoredTensor& t, const Probe& probe, float* out) {
  if (t.size == 0) return;
  ctx.make_current();
  materialize_kernel<<<blocks_for(t.size), kThreads, 0, ctx.stream()>>>(t.data, t.dtype, t.offset,
                                                                         t.size, probe, out);
  check_cuda(cudaGetLastError(), "materialize_kernel launch");
}

void gather_rows(Context& ctx, const StoredTensor& t, std::int64_t width,
                 const std::int32_t* indices, std::int64_t count, const Probe& probe, float* out) {
  if (width < 0 || count < 0) {
    throw Error(ErrorCode::invalid_argument, "mezo::cuda::probed::gather_rows: negative size");
  }
  if (width == 0 || count == 0) return;
  ctx.make_current();
  const std::uint64_t total = static_cast<std::uint64_t>(count) * width;
  gather_rows_kernel<<<blocks_for(total), kThreads, 0, ctx.stream()>>>(
      t.data, t.dtype, t.offset, width, indices, count, probe, out);
  check_cuda(cudaGetLastError(), "gather_rows_kernel launch");
}

}  // namespace cuda::probed
MEZO_END_NAMESPACE
