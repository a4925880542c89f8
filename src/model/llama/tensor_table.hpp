// The ONE list of a Llama-family decoder's tensors: Hugging Face and GGUF
// names, shapes, order, weight-decay group, the LoRA role of each projection
// and whether llama.cpp permuted its rows for RoPE. The parameter buffer's
// layout (hence z's element numbering), loading from safetensors and GGUF,
// saving to both and the forward's weight pointers are all read from it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mezo/model/decoder_config.hpp"
#include "mezo/model/peft.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

// Where a tensor goes in the forward.
enum class Slot {
  // Per layer:
  attn_norm,  // (H)
  q_w,        // (heads·d, H)
  q_b,        // (heads·d)
  k_w,        // (kv_heads·d, H)
  k_b,        // (kv_heads·d)
  v_w,        // (kv_heads·d, H)
  v_b,        // (kv_heads·d)
  o_w,        // (H, heads·d)
  o_b,        // (H)
  mlp_norm,   // (H)
  gate_w,     // (I, H)
  up_w,       // (I, H)
  down_w,     // (H, I)
  // Gemma 3's own, per layer:
  q_norm,          // (d): RMSNorm of each query head
  k_norm,          // (d): and of each key head
  post_attn_norm,  // (H): RMSNorm of the attention's output
  post_mlp_norm,   // (H): and of the MLP's
  // Global:
  embed,       // (V, H)
  final_norm,  // (H)
  lm_head,     // (V, H); absent when tied to embed
};
constexpr std::size_t kNumSlots = static_cast<std::size_t>(Slot::lm_head) + 1;

struct TensorSpec {
  Slot slot;
  std::int64_t layer;  // -1 for the global tensors
  std::string hf_name;
  std::string gguf_name;
  std::vector<std::int64_t> shape;  // PyTorch order: (out, in) for a projection
  bool weight_decay;                // the OPT rule: none for norms and biases
  std::optional<LoraTarget> lora;   // the projection LoRA adapts in this role
  // > 0: llama.cpp's converter reordered this tensor's rows (q/k of the llama
  // architecture) for its adjacent-pair RoPE; the rows hold this many heads.
  std::int64_t rope_permuted_heads;
  // A Gemma RMSNorm gain: Hugging Face stores w and applies 1 + w; the buffer
  // holds 1 + w, as llama.cpp's converter writes it into GGUF.
  bool plus_one = false;

  std::int64_t num_elements() const;
};

// Every tensor of `config` in buffer order: embed, then per layer
// attn_norm, q (w, b), k, v, o, mlp_norm, gate, up, down (Gemma 3: attn_norm,
// q, k, v, q_norm, k_norm, o, post_attn_norm, mlp_norm, gate, up, down,
// post_mlp_norm), then final_norm and, unless tied
// (config.tie_word_embeddings && !untie_head), lm_head.
std::vector<TensorSpec> tensor_table(const DecoderConfig& config, bool untie_head);

// Row order conversion for llama.cpp's RoPE permutation, in place on a
// (heads·head_dim, cols) row-major tensor: GGUF row h·d + 2i + j holds HF row
// h·d + j·d/2 + i (i < d/2, j ∈ {0, 1}). to_hf undoes the converter's
// permutation; !to_hf applies it (for export).
void permute_rope_rows(float* data, std::int64_t heads, std::int64_t head_dim, std::int64_t cols,
                       bool to_hf);

// The forward's pointers, filled from the table.
struct LayerPointers {
  std::array<const float*, kNumSlots> at{};
  const float* operator[](Slot s) const { return at[static_cast<std::size_t>(s)]; }
};

}  // namespace model::llama
MEZO_END_NAMESPACE
