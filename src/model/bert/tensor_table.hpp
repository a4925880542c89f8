// The ONE list of a RoBERTa/BERT masked LM's tensors: Hugging Face names,
// shapes, order, weight-decay group, the LoRA role of each projection and
// which tensors are the MLM head. The parameter buffer's layout (hence z's
// element numbering), loading, saving, the forward's pointers (CPU and GPU),
// LoRA and LoraOptions::train_head are all read from it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/model/peft.hpp"
#include "mezo/params.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::bert {

// Where a tensor goes in the forward.
enum class Slot {
  // Global (layer -1):
  word_embeddings,        // (V, H)
  position_embeddings,    // (max_position_embeddings, H)
  token_type_embeddings,  // (type_vocab_size, H)
  embeddings_ln_w,        // (H)
  embeddings_ln_b,        // (H)
  // Per layer:
  query_w, query_b,        // (H, H), (H)
  key_w, key_b,            // (H, H), (H)
  value_w, value_b,        // (H, H), (H)
  attn_out_w, attn_out_b,  // (H, H), (H)
  attn_ln_w, attn_ln_b,    // (H), (H)
  inter_w, inter_b,        // (I, H), (I)
  out_w, out_b,            // (H, I), (H)
  out_ln_w, out_ln_b,      // (H), (H)
  // The MLM head (global; absent for an encoder-only checkpoint):
  head_dense_w, head_dense_b,  // (H, H), (H)
  head_ln_w, head_ln_b,        // (H), (H)
  decoder_w,                   // (V, H); absent when tied to word_embeddings
  decoder_b,                   // (V)
};

// The names a checkpoint uses: they differ between families, between exports
// (some drop the encoder prefix) and in the decoder bias's name.
struct Naming {
  std::string encoder;  // "roberta." or "bert." ("" for prefix-less checkpoints)
  std::string head_dense, head_ln, decoder_w, decoder_b;
};

// Whether a source (a safetensors file, a ParamSet) holds a tensor.
using HasTensor = std::function<bool(const std::string& name)>;

// The naming of `config`'s family as `has` shows it; an empty `has` (random
// weights) gives the standard names.
Naming naming_for(const TransformerConfig& config, const HasTensor& has);
// True if `has` holds any of the MLM head's tensors (none: an encoder-only
// checkpoint such as a sentence encoder).
bool has_head_tensor(const Naming& naming, const HasTensor& has);

struct TensorSpec {
  Slot slot;
  std::int64_t layer;  // -1 for the global tensors
  std::string hf_name;
  std::vector<std::int64_t> shape;  // PyTorch order: (out, in) for a projection
  bool weight_decay;                // the BERT/OPT rule: none for LayerNorms and biases
  std::optional<LoraTarget> lora;   // the projection LoRA adapts in this role
  bool is_head;                     // part of the MLM head (LoraOptions::train_head)

  std::int64_t num_elements() const;
};

// Every tensor in buffer order: the 5 embedding tensors, then per layer
// query (w, b), key, value, attention output dense and LayerNorm,
// intermediate, output dense and LayerNorm, then, with_head, the head's
// dense and LayerNorm, the decoder matrix unless tied, and the decoder bias.
std::vector<TensorSpec> tensor_table(const TransformerConfig& config, const Naming& naming,
                                     bool tied, bool with_head);

// The table a MaskedLM's params() were laid out from, for forwards that see
// only params() (GpuMaskedLM): naming, head and tying read from the names,
// then every name and size checked against the views. Throws
// mezo::Error(internal) where they disagree.
std::vector<TensorSpec> table_of(const TransformerConfig& config, const ParamSet& params);

// The LoRA factors' module name: the HF name without the encoder prefix and
// ".weight" ("encoder.layer.3.attention.self.query"), so PEFT tensors have
// the same names whichever prefix the checkpoint used.
std::string lora_module(const TensorSpec& spec, const Naming& naming);

// A LayerNorm gain (initialised to 1 in a random model).
bool is_norm_gain(Slot slot);

}  // namespace model::bert
MEZO_END_NAMESPACE
