// RoBERTa-shaped model configurations for the benchmarks (random weights are
// made from them with MaskedLM::random): the real vocabulary, positions and
// LayerNorm epsilon of roberta-base, with the size given; the batches and the
// FLOP count the model benchmarks share.
#pragma once

#include <cstdint>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/model/masked_lm.hpp"

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

inline double non_embedding_params(const mezo::TransformerConfig& c) {
  const double H = double(c.hidden_size), I = double(c.intermediate_size);
  return double(c.num_hidden_layers) * (4 * H * H + 2 * H * I + 9 * H + I);
}

// FLOPs of one forward by ../shared/guide/PERFORMANCE.md: 2 × non-embedding
// parameters × tokens + 4 × layers × tokens × sequence × hidden (the MLM head
// at a few positions is negligible and not counted).
inline double forward_flops(const mezo::TransformerConfig& c, double rows, double seq) {
  const double tokens = rows * seq;
  return 2 * non_embedding_params(c) * tokens +
         4.0 * double(c.num_hidden_layers) * tokens * seq * double(c.hidden_size);
}

// Every row full length (no padding): <s>, pseudo-random ids, </s>.
inline mezo::TokenBatch random_batch(std::int64_t rows, std::int64_t seq) {
  std::vector<std::vector<std::int32_t>> sequences(rows);
  std::uint32_t x = 12345;
  for (auto& s : sequences) {
    s.push_back(0);
    for (std::int64_t t = 1; t + 1 < seq; ++t)
      s.push_back(static_cast<std::int32_t>(4 + (x = x * 1664525u + 1013904223u) % 50000));
    s.push_back(2);
  }
  return mezo::TokenBatch::pad(sequences, 1);
}

// random_batch with a prompt's query one before the end of each row and the
// label alternating between the two words.
struct PromptBatch {
  mezo::TokenBatch tokens;
  std::vector<mezo::MaskQuery> queries;
  std::vector<std::int32_t> labels;
};

inline PromptBatch prompt_batch(std::int64_t rows, std::int64_t seq) {
  PromptBatch b;
  b.tokens = random_batch(rows, seq);
  for (std::int64_t r = 0; r < rows; ++r)
    b.queries.push_back({r, seq - 2}), b.labels.push_back(std::int32_t(r % 2));
  return b;
}

}  // namespace bench
