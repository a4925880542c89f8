// rope: rotary position embeddings, Hugging Face's rotate-half convention.
#include <cmath>

#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// HF computes cos/sin of the fp32 angle position · inv_freq[i] and then
// x·cos + rotate_half(x)·sin, pairing element i with i + head_dim/2 (llama.cpp's
// GGUF converter permutes Q/K rows so that its adjacent-pair rotation is the
// same map; the loader undoes that permutation). The angle is formed in fp32
// as HF does; cos and sin are taken in double and rounded once.
void rope(float* x, std::int64_t n, std::int64_t heads, std::int64_t head_dim,
          const std::int32_t* positions, const float* inv_freq) {
  const std::int64_t half = head_dim / 2;
  const std::int64_t width = heads * head_dim;
#pragma omp parallel for schedule(static) if (n * width > 1 << 15)
  for (std::int64_t t = 0; t < n; ++t) {
    const auto position = static_cast<float>(positions[t]);
    float* row = x + t * width;
    for (std::int64_t i = 0; i < half; ++i) {
      const float angle = position * inv_freq[i];
      const auto c = static_cast<float>(std::cos(static_cast<double>(angle)));
      const auto s = static_cast<float>(std::sin(static_cast<double>(angle)));
      for (std::int64_t h = 0; h < heads; ++h) {
        float* head = row + h * head_dim;
        const float a = head[i], b = head[i + half];
        head[i] = a * c - b * s;
        head[i + half] = b * c + a * s;
      }
    }
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
