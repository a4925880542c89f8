// The parameters of a RoBERTa/BERT masked LM: every tensor of the family's
// table (model/bert/tensor_table.hpp), under its Hugging Face name, in one
// contiguous fp32 buffer, so a single perturbation pass covers the whole model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mezo/io/safetensors.hpp"
#include "mezo/model/config.hpp"
#include "mezo/params.hpp"
#include "model/bert/tensor_table.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

struct LayerWeights {
  const float *query_w, *query_b, *key_w, *key_b, *value_w, *value_b;  // (H, H), (H)
  const float *attn_out_w, *attn_out_b, *attn_ln_w, *attn_ln_b;        // (H, H), (H), (H), (H)
  const float *inter_w, *inter_b;                                      // (I, H), (I)
  const float *out_w, *out_b, *out_ln_w, *out_ln_b;                    // (H, I), (H), (H), (H)
};

struct ModelWeights {
  const float *word_embeddings, *position_embeddings, *token_type_embeddings;  // (V|P|T, H)
  const float *embeddings_ln_w, *embeddings_ln_b;                              // (H)
  std::vector<LayerWeights> layers;
  const float *head_dense_w, *head_dense_b, *head_ln_w, *head_ln_b;  // (H, H), (H), (H), (H)
  const float* decoder_w;  // (V, H), maybe = word embeddings
  const float* decoder_b;  // (V)
  // All head pointers are null for an encoder-only checkpoint.
};

// The forward's pointers, filled by slot from `table`: data(i) is where
// table entry i lies. A tied decoder is the word embeddings.
ModelWeights weights_from(const std::vector<bert::TensorSpec>& table,
                          const std::function<const float*(std::size_t)>& data);

// Owns the buffer and knows where each tensor lives in it.
class WeightStore {
 public:
  // Allocates the layout for `config` and fills it from `file`. Throws
  // mezo::Error naming the file and tensor for a missing tensor or a shape
  // that disagrees with the config.
  WeightStore(const TransformerConfig& config, const SafetensorsFile& file, bool untie_decoder);
  // Random weights (N(0, 0.02²) matrices and embeddings, zero biases, unit
  // LayerNorm gains, as BERT initialises), for benchmarks and tests.
  WeightStore(const TransformerConfig& config, std::uint64_t seed, bool untie_decoder);

  const ParamSet& params() const { return params_; }
  // Every stored tensor under its name and shape, for saving.
  std::vector<TensorF32View> tensors() const;
  // False for an encoder-only checkpoint (e.g. a sentence encoder): no MLM head.
  bool has_mlm_head() const { return has_mlm_head_; }
  const ModelWeights& weights() const { return weights_; }
  // The tensors in buffer order (the MLM head's are marked is_head).
  const std::vector<bert::TensorSpec>& table() const { return table_; }
  const bert::Naming& naming() const { return naming_; }
  float* data(std::size_t table_index) { return buffer_.data() + offsets_[table_index]; }
  const float* data(std::size_t table_index) const {
    return buffer_.data() + offsets_[table_index];
  }

 private:
  // Lays out `table_` and allocates the buffer (zeros).
  void lay_out(const TransformerConfig& config, bool tied);
  // Builds params_ and weights_ once the buffer holds its values.
  void index();

  bert::Naming naming_;
  std::vector<bert::TensorSpec> table_;
  std::vector<std::uint64_t> offsets_;  // into buffer_, per table entry
  std::vector<float> buffer_;
  ParamSet params_;
  ModelWeights weights_{};
  bool has_mlm_head_ = true;
};

}  // namespace model
MEZO_END_NAMESPACE
