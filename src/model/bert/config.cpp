#include "mezo/model/config.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "file_io.hpp"
#include "model/config_fields.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

namespace {
using json = nlohmann::json;
using detail::ConfigFields;
}  // namespace

const char* to_string(ModelType type) noexcept {
  switch (type) {
    case ModelType::roberta:
      return "roberta";
    case ModelType::bert:
      return "bert";
  }
  return "?";
}

TransformerConfig parse_transformer_config(std::string_view text, std::string_view source) {
  const json root = detail::parse_config_json(text, source);
  const ConfigFields f(root, source);

  TransformerConfig c;
  const json& model_type = f.require("model_type");
  if (!model_type.is_string()) {
    f.fail("field 'model_type': expected a string, got {}", model_type.type_name());
  }
  const auto& type_name = model_type.get_ref<const std::string&>();
  if (type_name == "roberta") {
    c.model_type = ModelType::roberta;
  } else if (type_name == "bert") {
    c.model_type = ModelType::bert;
  } else {
    f.fail("field 'model_type': unsupported model type '{}' (supported: \"roberta\", \"bert\")",
           type_name);
  }
  const bool roberta = c.model_type == ModelType::roberta;

  c.vocab_size = f.required_integer("vocab_size", 1);
  c.hidden_size = f.required_integer("hidden_size", 1);
  c.num_hidden_layers = f.required_integer("num_hidden_layers", 1);
  c.num_attention_heads = f.required_integer("num_attention_heads", 1);
  c.intermediate_size = f.required_integer("intermediate_size", 1);
  c.max_position_embeddings = f.required_integer("max_position_embeddings", 1);
  c.type_vocab_size = f.optional_integer("type_vocab_size", 0, roberta ? 1 : 2);
  c.layer_norm_eps = f.optional_positive_float("layer_norm_eps", roberta ? 1e-5f : 1e-12f);
  c.pad_token_id = f.optional_integer("pad_token_id", 0, roberta ? 1 : 0);
  if (c.pad_token_id >= c.vocab_size) {
    f.fail("field 'pad_token_id': {} is not below vocab_size {}", c.pad_token_id, c.vocab_size);
  }
  c.hidden_act = f.optional_string("hidden_act").value_or("gelu");
  if (c.hidden_act != "gelu") {
    f.fail(
        "field 'hidden_act': '{}' is not supported; only \"gelu\" (exact, erf-based) is "
        "implemented",
        c.hidden_act);
  }
  c.tie_word_embeddings = f.optional_bool("tie_word_embeddings", true);
  if (c.hidden_size % c.num_attention_heads != 0) {
    f.fail("field 'hidden_size': {} is not divisible by num_attention_heads {}", c.hidden_size,
           c.num_attention_heads);
  }
  return c;
}

TransformerConfig load_transformer_config(const std::filesystem::path& path) {
  const std::string text = detail::read_file(path);
  return parse_transformer_config(text, path.string());
}

std::string transformer_config_to_json(const TransformerConfig& c) {
  const bool roberta = c.model_type == ModelType::roberta;
  nlohmann::ordered_json j;
  j["architectures"] = {roberta ? "RobertaForMaskedLM" : "BertForMaskedLM"};
  j["model_type"] = to_string(c.model_type);
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["type_vocab_size"] = c.type_vocab_size;
  j["layer_norm_eps"] = c.layer_norm_eps;
  j["pad_token_id"] = c.pad_token_id;
  j["hidden_act"] = c.hidden_act;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  return j.dump(2) + "\n";
}

MEZO_END_NAMESPACE
