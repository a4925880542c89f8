// The architecture of a Llama-family decoder (Llama 1–3.x, SmolLM, Qwen2,
// Gemma 3), read from a Hugging Face config.json or from GGUF metadata.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

class GgufFile;

enum class DecoderArch {
  llama,  // RMSNorm, RoPE, grouped-query attention, SwiGLU MLP
  qwen2,  // llama with biases on the q, k and v projections
  // Gemma 3 (text): token embeddings scaled by √hidden; RMSNorm gains that
  // Hugging Face stores as w and applies as 1 + w (held here, as GGUF holds
  // them, as 1 + w); RMSNorm over each head of q and k before RoPE; RMSNorm
  // after attention and after the MLP too; GeGLU with tanh-approximated GELU;
  // attention scaled by query_pre_attn_scalar^−½; sliding-window (local)
  // layers with their own RoPE base between global ones.
  gemma3,
};

MEZO_API const char* to_string(DecoderArch arch) noexcept;  // "llama", "qwen2", "gemma3"

// Hugging Face rope_scaling. Only Llama 3.1's "llama3" frequency rescaling is
// implemented; any other type is refused at load with a clear error.
struct RopeScaling {
  bool llama3 = false;
  float factor = 8.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  std::int64_t original_max_position_embeddings = 8192;
};

struct DecoderConfig {
  DecoderArch arch = DecoderArch::llama;
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;  // < num_attention_heads: grouped-query attention
  std::int64_t head_dim = 0;             // often hidden / heads, but explicit in Llama 3.2 etc.
  std::int64_t intermediate_size = 0;
  std::int64_t max_position_embeddings = 0;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;  // the LM head is the token embedding matrix
  // Biases on q, k, v (qwen2 always; llama when attention_bias, which also
  // gives o_proj one, as in transformers).
  bool qkv_bias = false;
  bool o_bias = false;
  // Per-frequency divisors of the RoPE frequencies from a GGUF file's
  // rope_freqs.weight (how llama.cpp stores Llama 3.1's scaling); empty:
  // none. When set, inv_freq[i] = theta^(−2i/head_dim) / rope_freq_factors[i]
  // and rope_scaling is not used.
  std::vector<float> rope_freq_factors;
  std::int64_t bos_token_id = -1;  // -1: none given
  std::int64_t eos_token_id = -1;
  // Gemma 3's local layers: all but every sliding_window_pattern-th layer
  // (layers p−1, 2p−1, ... are global) let a query see only the last
  // sliding_window positions (itself included), and rotate with
  // rope_local_theta instead of rope_theta. sliding_window 0: all global.
  std::int64_t sliding_window = 0;
  std::int64_t sliding_window_pattern = 0;
  float rope_local_theta = 10000.0f;
  // Attention scores are scaled by query_pre_attn_scalar^−½; 0: head_dim^−½.
  float query_pre_attn_scalar = 0.0f;
};

// Whether `layer` of `config` is a local (sliding-window) layer.
MEZO_API bool is_sliding_layer(const DecoderConfig& config, std::int64_t layer) noexcept;

// Parses config.json text (model_type "llama", "qwen2" or "gemma3_text").
// `source` names the file in errors. Throws mezo::Error naming the field for
// invalid JSON, a missing or mistyped field, inconsistent head counts, an
// activation other than the architecture's (silu; Gemma 3: gelu_pytorch_tanh),
// mlp_bias, a rope_scaling type other than llama3 (Gemma 3: none), logit
// soft-capping, or Gemma 3 layer types that follow no sliding-window pattern.
MEZO_API DecoderConfig parse_decoder_config(std::string_view json, std::string_view source);
MEZO_API DecoderConfig load_decoder_config(const std::filesystem::path& path);

// The config as config.json text that transformers and parse_decoder_config read.
MEZO_API std::string decoder_config_to_json(const DecoderConfig& config);

// Reads the config from GGUF metadata (general.architecture "llama", "qwen2"
// or "gemma3"; {arch}.block_count, .embedding_length, ...); the vocabulary
// size and tied head come from the token_embd / output tensors. What a gemma3
// file leaves out, llama.cpp fills in, and so does this: every sixth layer
// global, local RoPE base 10,000, query_pre_attn_scalar = head_dim (hidden /
// heads for the 62-layer 27B). Throws mezo::Error naming the file and key.
MEZO_API DecoderConfig decoder_config_from_gguf(const GgufFile& file);

MEZO_END_NAMESPACE
