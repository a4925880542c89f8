// RoPE's inverse frequencies for a decoder config, with Llama 3.1's scaling.
#pragma once

#include <vector>

#include "mezo/model/decoder_config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

// head_dim/2 entries: inv_freq[i] = theta^(−2i/head_dim), in fp32 as
// transformers computes it; rope_scaling.llama3 then divides the low
// frequencies by `factor` and blends the middle band (transformers'
// _compute_llama3_parameters).
// With rope_freq_factors (from a GGUF file), the base frequencies divided by them.
std::vector<float> rope_inv_freq(const DecoderConfig& config);

// Each kind of layer's inverse frequencies: `global` (rope_inv_freq), and for
// a config with sliding-window layers `local`, from rope_local_theta and
// unscaled (Gemma 3's local RoPE base).
struct RopeTables {
  std::vector<float> global, local;
  const std::vector<float>& of_layer(const DecoderConfig& config, std::int64_t layer) const {
    return is_sliding_layer(config, layer) ? local : global;
  }
};
RopeTables rope_tables(const DecoderConfig& config);

// The divisors llama.cpp stores as rope_freqs.weight for a scaled config:
// base inv_freq / scaled inv_freq.
std::vector<float> rope_freq_factors(const DecoderConfig& config);

}  // namespace model::llama
MEZO_END_NAMESPACE
