#include "model/llama/tensor_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

MEZO_BEGIN_NAMESPACE
namespace model::llama {

std::int64_t TensorSpec::num_elements() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

namespace {

// One Gemma 3 layer: its norms are Gemma RMSNorms (plus_one), and its
// post_attention_layernorm normalises the attention's output, where Llama's
// normalises the MLP's input (Gemma's pre_feedforward_layernorm).
template <typename Add>
void add_gemma3_layer(const DecoderConfig& c, const Add& add, std::vector<TensorSpec>& table) {
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, d = c.head_dim;
  const std::int64_t q_rows = c.num_attention_heads * d, kv_rows = c.num_key_value_heads * d;
  const auto norm = [&](Slot slot, const char* hf_name, const char* gguf_name, std::int64_t size) {
    add(slot, hf_name, gguf_name, {size}, false);
    table.back().plus_one = true;
  };
  norm(Slot::attn_norm, "input_layernorm.weight", "attn_norm.weight", H);
  add(Slot::q_w, "self_attn.q_proj.weight", "attn_q.weight", {q_rows, H}, true, LoraTarget::query);
  add(Slot::k_w, "self_attn.k_proj.weight", "attn_k.weight", {kv_rows, H}, true, LoraTarget::key);
  add(Slot::v_w, "self_attn.v_proj.weight", "attn_v.weight", {kv_rows, H}, true, LoraTarget::value);
  norm(Slot::q_norm, "self_attn.q_norm.weight", "attn_q_norm.weight", d);
  norm(Slot::k_norm, "self_attn.k_norm.weight", "attn_k_norm.weight", d);
  add(Slot::o_w, "self_attn.o_proj.weight", "attn_output.weight", {H, q_rows}, true,
      LoraTarget::attention_output);
  norm(Slot::post_attn_norm, "post_attention_layernorm.weight", "post_attention_norm.weight", H);
  norm(Slot::mlp_norm, "pre_feedforward_layernorm.weight", "ffn_norm.weight", H);
  add(Slot::gate_w, "mlp.gate_proj.weight", "ffn_gate.weight", {I, H}, true, LoraTarget::gate);
  add(Slot::up_w, "mlp.up_proj.weight", "ffn_up.weight", {I, H}, true, LoraTarget::intermediate);
  add(Slot::down_w, "mlp.down_proj.weight", "ffn_down.weight", {H, I}, true, LoraTarget::output);
  norm(Slot::post_mlp_norm, "post_feedforward_layernorm.weight", "post_ffw_norm.weight", H);
}

}  // namespace

std::vector<TensorSpec> tensor_table(const DecoderConfig& c, bool untie_head) {
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const std::int64_t q_rows = c.num_attention_heads * c.head_dim;
  const std::int64_t kv_rows = c.num_key_value_heads * c.head_dim;
  // llama.cpp permutes q/k rows for the llama architecture only (qwen2 GGUFs
  // keep Hugging Face's order and are rotated NEOX-style).
  const bool permuted = c.arch == DecoderArch::llama;
  const std::int64_t q_heads = permuted ? c.num_attention_heads : 0;
  const std::int64_t k_heads = permuted ? c.num_key_value_heads : 0;

  std::vector<TensorSpec> table;
  table.push_back({Slot::embed,
                   -1,
                   "model.embed_tokens.weight",
                   "token_embd.weight",
                   {V, H},
                   true,
                   std::nullopt,
                   0});
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string hf = fmt::format("model.layers.{}.", l);
    const std::string gg = fmt::format("blk.{}.", l);
    const auto add = [&](Slot slot, const std::string& hf_name, const std::string& gguf_name,
                         std::vector<std::int64_t> shape, bool decay,
                         std::optional<LoraTarget> lora = std::nullopt,
                         std::int64_t rope_heads = 0) {
      table.push_back(
          {slot, l, hf + hf_name, gg + gguf_name, std::move(shape), decay, lora, rope_heads});
    };
    if (c.arch == DecoderArch::gemma3) {
      add_gemma3_layer(c, add, table);
      continue;
    }
    add(Slot::attn_norm, "input_layernorm.weight", "attn_norm.weight", {H}, false);
    add(Slot::q_w, "self_attn.q_proj.weight", "attn_q.weight", {q_rows, H}, true, LoraTarget::query,
        q_heads);
    if (c.qkv_bias)
      add(Slot::q_b, "self_attn.q_proj.bias", "attn_q.bias", {q_rows}, false, {}, q_heads);
    add(Slot::k_w, "self_attn.k_proj.weight", "attn_k.weight", {kv_rows, H}, true, LoraTarget::key,
        k_heads);
    if (c.qkv_bias)
      add(Slot::k_b, "self_attn.k_proj.bias", "attn_k.bias", {kv_rows}, false, {}, k_heads);
    add(Slot::v_w, "self_attn.v_proj.weight", "attn_v.weight", {kv_rows, H}, true,
        LoraTarget::value);
    if (c.qkv_bias) add(Slot::v_b, "self_attn.v_proj.bias", "attn_v.bias", {kv_rows}, false);
    add(Slot::o_w, "self_attn.o_proj.weight", "attn_output.weight", {H, q_rows}, true,
        LoraTarget::attention_output);
    if (c.o_bias) add(Slot::o_b, "self_attn.o_proj.bias", "attn_output.bias", {H}, false);
    add(Slot::mlp_norm, "post_attention_layernorm.weight", "ffn_norm.weight", {H}, false);
    add(Slot::gate_w, "mlp.gate_proj.weight", "ffn_gate.weight", {I, H}, true, LoraTarget::gate);
    add(Slot::up_w, "mlp.up_proj.weight", "ffn_up.weight", {I, H}, true, LoraTarget::intermediate);
    add(Slot::down_w, "mlp.down_proj.weight", "ffn_down.weight", {H, I}, true, LoraTarget::output);
  }
  table.push_back({Slot::final_norm,
                   -1,
                   "model.norm.weight",
                   "output_norm.weight",
                   {H},
                   false,
                   std::nullopt,
                   0,
                   c.arch == DecoderArch::gemma3});
  if (!c.tie_word_embeddings || untie_head) {
    table.push_back(
        {Slot::lm_head, -1, "lm_head.weight", "output.weight", {V, H}, true, std::nullopt, 0});
  }
  return table;
}

void permute_rope_rows(float* data, std::int64_t heads, std::int64_t head_dim, std::int64_t cols,
                       bool to_hf) {
  const std::int64_t half = head_dim / 2;
  std::vector<float> head(static_cast<std::size_t>(head_dim * cols));
  for (std::int64_t h = 0; h < heads; ++h) {
    float* base = data + h * head_dim * cols;
    std::copy_n(base, head_dim * cols, head.begin());
    for (std::int64_t i = 0; i < half; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t gguf_row = 2 * i + j, hf_row = j * half + i;
        const std::int64_t from = to_hf ? gguf_row : hf_row, to = to_hf ? hf_row : gguf_row;
        std::copy_n(head.begin() + from * cols, cols, base + to * cols);
      }
    }
  }
}

}  // namespace model::llama
MEZO_END_NAMESPACE
