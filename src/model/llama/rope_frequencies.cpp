#include "model/llama/rope_frequencies.hpp"

#include <cmath>
#include <numbers>

MEZO_BEGIN_NAMESPACE
namespace model::llama {

namespace {

// transformers: 1 / base ** (arange(0, dim, 2).float() / dim), in fp32.
std::vector<float> unscaled_inv_freq(float theta, std::int64_t head_dim) {
  const std::int64_t half = head_dim / 2;
  std::vector<float> inv_freq(static_cast<std::size_t>(half));
  for (std::int64_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[static_cast<std::size_t>(i)] = 1.0f / std::pow(theta, exponent);
  }
  return inv_freq;
}

}  // namespace

RopeTables rope_tables(const DecoderConfig& c) {
  RopeTables tables{.global = rope_inv_freq(c), .local = {}};
  if (c.sliding_window > 0) tables.local = unscaled_inv_freq(c.rope_local_theta, c.head_dim);
  return tables;
}

std::vector<float> rope_inv_freq(const DecoderConfig& c) {
  std::vector<float> inv_freq = unscaled_inv_freq(c.rope_theta, c.head_dim);
  if (!c.rope_freq_factors.empty()) {
    for (std::size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] /= c.rope_freq_factors[i];
    return inv_freq;
  }
  if (!c.rope_scaling.llama3) return inv_freq;
  const RopeScaling& s = c.rope_scaling;
  const auto old_context = static_cast<float>(s.original_max_position_embeddings);
  const float low_freq_wavelen = old_context / s.low_freq_factor;
  const float high_freq_wavelen = old_context / s.high_freq_factor;
  for (float& f : inv_freq) {
    const float wavelen = 2.0f * std::numbers::pi_v<float> / f;
    if (wavelen > low_freq_wavelen) {
      f = f / s.factor;  // long wavelengths: stretched by the factor
    } else if (wavelen >= high_freq_wavelen) {
      // The band between: a blend of the stretched and the original.
      const float smooth =
          (old_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      f = (1.0f - smooth) * f / s.factor + smooth * f;
    }
  }
  return inv_freq;
}

}  // namespace model::llama
MEZO_END_NAMESPACE

MEZO_BEGIN_NAMESPACE
namespace model::llama {

std::vector<float> rope_freq_factors(const DecoderConfig& config) {
  DecoderConfig plain = config;
  plain.rope_scaling = RopeScaling{};
  plain.rope_freq_factors.clear();
  const std::vector<float> base = rope_inv_freq(plain), scaled = rope_inv_freq(config);
  std::vector<float> factors(base.size());
  for (std::size_t i = 0; i < base.size(); ++i) factors[i] = base[i] / scaled[i];
  return factors;
}

}  // namespace model::llama
MEZO_END_NAMESPACE
