// A small random-model shape and batch for the forward's determinism tests
// (masked_lm_test, peft_test): large enough that every matrix product is cut
// into several pieces (src/model/ops/linear.cpp, linear()), both by rows
// (tokens ≥ outputs) and by columns (the LM head's vocabulary).
#pragma once

#include <cstdint>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/model/masked_lm.hpp"

namespace mezo_test {

inline mezo::TransformerConfig multi_piece_config() {
  mezo::TransformerConfig config;
  config.model_type = mezo::ModelType::roberta;
  config.vocab_size = 600;
  config.hidden_size = 64;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 4;
  config.intermediate_size = 256;
  config.max_position_embeddings = 80;
  return config;
}

// 8 rows of 30 to 65 tokens (520 rows of activations), padded with id 1.
inline mezo::TokenBatch multi_piece_batch() {
  std::vector<std::vector<std::int32_t>> rows;
  for (int r = 0; r < 8; ++r) {
    rows.emplace_back();
    for (int t = 0; t < 30 + 5 * r; ++t) rows.back().push_back(3 + (r * 37 + t * 11) % 590);
  }
  return mezo::TokenBatch::pad(rows, 1);
}

}  // namespace mezo_test
