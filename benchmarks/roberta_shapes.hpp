// RoBERTa-shaped model configurations for the benchmarks (random weights are
// made from them with MaskedLM::random): the real vocabulary, positions and
// LayerNorm epsilon of roberta-base, with the size given.
#pragma once

#include "mezo/model/config.hpp"

namespace bench {

inline mezo::TransformerConfig roberta_shape(int hidden, int layers, int heads, int intermediate) {
  mezo::TransformerConfig c;
  c.model_type = mezo::ModelType::roberta;
  c.vocab_size = 50265;
  c.max_position_embeddings = 514;
  c.type_vocab_size = 1;
  c.layer_norm_eps = 1e-5f;
  c.pad_token_id = 1;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.intermediate_size = intermediate;
  return c;
}

inline mezo::TransformerConfig roberta_base() { return roberta_shape(768, 12, 12, 3072); }
inline mezo::TransformerConfig roberta_large() { return roberta_shape(1024, 24, 16, 4096); }

}  // namespace bench
