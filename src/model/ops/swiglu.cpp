// swiglu: Llama's gated MLP activation, SiLU(gate) · up.
#include <cmath>

#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// SiLU(g) = g · sigmoid(g) = g / (1 + e^−g), as torch.nn.functional.silu.
// Elementwise, so any split over threads gives the same bits.
void swiglu(float* gate, const float* up, std::int64_t count) {
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t i = 0; i < count; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
