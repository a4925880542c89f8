// rms_norm: Llama's RMSNorm, y = x · g / sqrt(mean(x²) + eps).
#include <cmath>

#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// As Hugging Face's LlamaRMSNorm in fp32: x · rsqrt(mean(x²) + eps), then the
// gain. One row per iteration, its sum in a fixed order (thread-count
// independent bits).
void rms_norm(const float* x, std::int64_t n, std::int64_t h, const float* g, float eps, float* y) {
#pragma omp parallel for schedule(static) if (n * h > 1 << 15)
  for (std::int64_t r = 0; r < n; ++r) {
    const float* in = x + r * h;
    float* out = y + r * h;
    float sum_sq = 0.0f;
    for (std::int64_t j = 0; j < h; ++j) sum_sq += in[j] * in[j];
    const float inv_rms = 1.0f / std::sqrt(sum_sq / static_cast<float>(h) + eps);
    for (std::int64_t j = 0; j < h; ++j) out[j] = g[j] * (in[j] * inv_rms);
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
