// Decoder shapes for the benchmarks (random weights via CausalLM::random):
// SmolLM2-135M, Qwen2.5-0.5B and Llama-3.2-1B as their config.json files give
// them, the batches the decoder benchmarks share, and the FLOP count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mezo/model/batch.hpp"
#include "mezo/model/decoder_config.hpp"

namespace bench {

inline mezo::DecoderConfig decoder_shape(const std::string& name) {
  mezo::DecoderConfig c;
  c.arch = mezo::DecoderArch::llama;
  c.tie_word_embeddings = true;
  c.head_dim = 64;
  c.max_position_embeddings = 8192;
  c.rms_norm_eps = 1e-5f;
  if (name == "smollm2-135m") {
    c.vocab_size = 49152, c.hidden_size = 576, c.num_hidden_layers = 30;
    c.num_attention_heads = 9, c.num_key_value_heads = 3, c.intermediate_size = 1536;
    c.rope_theta = 100000.0f;
  } else if (name == "qwen2.5-0.5b") {
    c.arch = mezo::DecoderArch::qwen2, c.qkv_bias = true;
    c.vocab_size = 151936, c.hidden_size = 896, c.num_hidden_layers = 24;
    c.num_attention_heads = 14, c.num_key_value_heads = 2, c.intermediate_size = 4864;
    c.rope_theta = 1000000.0f, c.rms_norm_eps = 1e-6f;
  } else {  // llama-3.2-1b
    c.vocab_size = 128256, c.hidden_size = 2048, c.num_hidden_layers = 16;
    c.num_attention_heads = 32, c.num_key_value_heads = 8, c.intermediate_size = 8192;
    c.rope_theta = 500000.0f;
    c.rope_scaling = {.llama3 = true,
                      .factor = 32.0f,
                      .low_freq_factor = 1.0f,
                      .high_freq_factor = 4.0f,
                      .original_max_position_embeddings = 8192};
  }
  return c;
}

inline const char* kDecoderShapes[] = {"smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b"};

// Parameters outside the token embedding (and a tied head): what the
// projections multiply by per token.
inline double decoder_non_embedding_params(const mezo::DecoderConfig& c) {
  const double H = double(c.hidden_size), I = double(c.intermediate_size);
  const double q = double(c.num_attention_heads * c.head_dim);
  const double kv = double(c.num_key_value_heads * c.head_dim);
  return double(c.num_hidden_layers) * (H * q + 2 * H * kv + q * H + 3 * H * I + 2 * H);
}

// ../shared/guide/PERFORMANCE.md's count: 2 × non-embedding parameters ×
// tokens + 4 × layers × tokens × sequence × attention width (the scores and
// the weighted sum over every key; the causal half is not subtracted). The LM
// head at one position per row for two ids is negligible.
inline double decoder_forward_flops(const mezo::DecoderConfig& c, double rows, double seq) {
  const double tokens = rows * seq;
  return 2 * decoder_non_embedding_params(c) * tokens +
         4.0 * double(c.num_hidden_layers) * tokens * seq *
             double(c.num_attention_heads * c.head_dim);
}

// Every row full length, pseudo-random ids below `vocab`.
inline mezo::TokenBatch decoder_random_batch(std::int64_t rows, std::int64_t seq,
                                             std::int64_t vocab) {
  std::vector<std::vector<std::int32_t>> sequences(static_cast<std::size_t>(rows));
  std::uint32_t x = 12345;
  for (auto& s : sequences)
    for (std::int64_t t = 0; t < seq; ++t)
      s.push_back(static_cast<std::int32_t>(17 + (x = x * 1664525u + 1013904223u) % (vocab - 17)));
  return mezo::TokenBatch::pad(sequences, 0);
}

// SmolLM2's ids of the SST-2 label words " terrible" and " great".
inline const std::vector<std::int32_t> kDecoderLabelWords = {13321, 1109};

}  // namespace bench
