// The parameter layout of a RoBERTa/BERT masked LM: every trainable tensor,
// under its Hugging Face name, in one contiguous fp32 buffer, so a single
// perturbation pass covers the whole model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mezo/io/safetensors.hpp"
#include "mezo/model/config.hpp"
#include "mezo/params.hpp"

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

// Where each tensor lies in a masked LM's params() (MaskedLM::params(), the
// WeightStore's order), from the order of the views alone: the embeddings,
// 16 tensors per layer, then, with an MLM head, 5 tensors (tied decoder) or 6.
// So other forwards (GpuMaskedLM) need nothing but the public params().
// Throws mezo::Error(internal) for a view count that layout does not allow.
ModelWeights layout_of(const ParamSet& params, std::int64_t layers, bool has_mlm_head);

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
  // The index in params() of the MLM head's first tensor (= params().views()
  // .size() without a head): the head's tensors are the views from there on.
  std::size_t first_head_view() const { return first_head_view_; }

 private:
  struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t offset;  // into buffer_
  };
  struct Naming {
    std::string encoder;  // "roberta." or "bert." ("" for prefix-less checkpoints)
    std::string head_dense, head_ln, decoder_w, decoder_b;
  };
  static Naming naming_for(const TransformerConfig& config, const SafetensorsFile* file);
  void add(std::string name, std::vector<std::int64_t> shape);
  // Lays out every tensor for `config` and allocates the buffer (zeros).
  void lay_out(const TransformerConfig& config, const Naming& naming, bool tied, bool with_head);
  // Builds params_ and weights_ once the buffer holds its values.
  void index(const TransformerConfig& config);

  std::vector<Entry> entries_;
  std::vector<float> buffer_;
  ParamSet params_;
  ModelWeights weights_{};
  bool has_mlm_head_ = true;
  std::size_t first_head_view_ = 0;
};

}  // namespace model
MEZO_END_NAMESPACE
