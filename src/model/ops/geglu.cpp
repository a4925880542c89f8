// geglu_tanh: Gemma's gated MLP activation, GELU_tanh(gate) · up.
#include <cmath>

#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// As torch.nn.functional.gelu(g, approximate="tanh") in fp32. Elementwise, so
// any split over threads gives the same bits.
void geglu_tanh(float* gate, const float* up, std::int64_t count) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;  // √(2/π)
  constexpr float kCubic = 0.044715f;
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t i = 0; i < count; ++i) {
    const float g = gate[i];
    const float inner = kSqrt2OverPi * (g + kCubic * g * g * g);
    gate[i] = 0.5f * g * (1.0f + std::tanh(inner)) * up[i];
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
