// The architecture of a RoBERTa or BERT masked language model, read from a
// Hugging Face config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class ModelType { roberta, bert };

MEZO_API const char* to_string(ModelType type) noexcept;

struct TransformerConfig {
  ModelType model_type = ModelType::roberta;
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t max_position_embeddings = 0;
  std::int64_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  std::int64_t pad_token_id = 0;
  std::string hidden_act = "gelu";  // only exact-erf GELU is supported
  bool tie_word_embeddings = true;  // decoder weight shared with the word embeddings

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// Parses config.json text. `source` names the file in error messages. Throws
// mezo::Error naming the field for invalid JSON, a missing or mistyped field,
// a non-positive size, hidden_size not divisible by num_attention_heads, an
// unknown model_type or an unsupported hidden_act.
MEZO_API TransformerConfig parse_transformer_config(std::string_view json, std::string_view source);

// The config as Hugging Face config.json text (the fields above, plus
// "architectures"), which parse_transformer_config reads back unchanged.
MEZO_API std::string transformer_config_to_json(const TransformerConfig& config);

// Reads and parses a config.json file.
MEZO_API TransformerConfig load_transformer_config(const std::filesystem::path& path);

MEZO_END_NAMESPACE
