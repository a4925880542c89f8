// add_layer_norm: the residual sum and LayerNorm of BERT-style encoders.
#include <cmath>

#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// One row per iteration, each row's sums in a fixed order: the bits do not
// depend on how rows are spread over threads.
void add_layer_norm(float* x, const float* residual, std::int64_t n, std::int64_t h, const float* g,
                    const float* b, float eps) {
#pragma omp parallel for schedule(static) if (n * h > 1 << 15)
  for (std::int64_t r = 0; r < n; ++r) {
    float* row = x + r * h;
    if (residual != nullptr) {
      const float* res = residual + r * h;
      for (std::int64_t j = 0; j < h; ++j) row[j] += res[j];
    }
    float mean = 0.0f;
    for (std::int64_t j = 0; j < h; ++j) mean += row[j];
    mean /= static_cast<float>(h);
    float var = 0.0f;
    for (std::int64_t j = 0; j < h; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= static_cast<float>(h);
    const float inv_std = 1.0f / std::sqrt(var + eps);
    for (std::int64_t j = 0; j < h; ++j) row[j] = (row[j] - mean) * inv_std * g[j] + b[j];
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
