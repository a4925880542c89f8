// Small random decoders and batches for the CausalLM tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/decoder_config.hpp>
#include <vector>

namespace mezo_test {

// The same tensors, by name and order, with the same bits (a save and load
// round trip, an export at f32).
inline void expect_same_params(const mezo::CausalLM& a, const mezo::CausalLM& b) {
  ASSERT_EQ(a.params().views().size(), b.params().views().size());
  for (std::size_t v = 0; v < a.params().views().size(); ++v) {
    const auto& x = a.params().views()[v];
    const auto& y = b.params().views()[v];
    ASSERT_EQ(x.name, y.name);
    ASSERT_EQ(0, std::memcmp(x.data, y.data, x.bytes())) << x.name;
  }
}

// A tiny Llama: grouped-query attention (4 heads, 2 key/value heads).
inline mezo::DecoderConfig tiny_llama_config(bool tied = true) {
  mezo::DecoderConfig c;
  c.arch = mezo::DecoderArch::llama;
  c.vocab_size = 300;
  c.hidden_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 96;
  c.max_position_embeddings = 128;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.tie_word_embeddings = tied;
  return c;
}

// SmolLM2-135M's layer shape (hidden 576, 9 heads, 3 key/value heads, head
// size 64, MLP 1536) with 2 layers and a 2,048-entry vocabulary: real width,
// every projection cut into several pieces, the embedding 1.2M elements.
inline mezo::DecoderConfig smollm2_width_config() {
  mezo::DecoderConfig c = tiny_llama_config();
  c.vocab_size = 2048;
  c.hidden_size = 576;
  c.num_attention_heads = 9;
  c.num_key_value_heads = 3;
  c.head_dim = 64;
  c.intermediate_size = 1536;
  c.max_position_embeddings = 256;
  c.rope_theta = 100000.0f;
  return c;
}

// `rows` rows of lengths from `shortest` up, ids spread over the vocabulary.
inline mezo::TokenBatch decoder_batch(int rows, int shortest, int step, std::int64_t vocab) {
  std::vector<std::vector<std::int32_t>> sequences;
  for (int r = 0; r < rows; ++r) {
    sequences.emplace_back();
    for (int t = 0; t < shortest + step * r; ++t)
      sequences.back().push_back(static_cast<std::int32_t>((r * 131 + t * 17 + 3) % vocab));
  }
  return mezo::TokenBatch::pad(sequences, 0);
}

// Every real position of every row.
inline std::vector<mezo::TokenQuery> every_position(const mezo::TokenBatch& batch) {
  std::vector<mezo::TokenQuery> queries;
  for (std::int64_t r = 0; r < batch.rows; ++r)
    for (std::int64_t t = 0; t < batch.lengths[r]; ++t) queries.push_back({r, t});
  return queries;
}

}  // namespace mezo_test
