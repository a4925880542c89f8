#include "mezo/model/config.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "file_io.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using json = nlohmann::json;

// The fields of one config.json, each read with a check that names it.
class Fields {
 public:
  Fields(const json& root, std::string_view source) : root_(root), source_(source) {}

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: {}", source_, fmt::format(format, std::forward<Args>(args)...)));
  }

  const json* find(const char* name) const {
    const auto it = root_.find(name);
    return it == root_.end() ? nullptr : &*it;
  }

  const json& require(const char* name) const {
    const json* value = find(name);
    if (value == nullptr) fail("missing required field '{}'", name);
    return *value;
  }

  // An integer >= min.
  std::int64_t integer(const char* name, const json& value, std::int64_t min) const {
    const char* what = min > 0 ? "a positive integer" : "a non-negative integer";
    if (!value.is_number_integer()) fail("field '{}': expected {}, got {}", name, what, got(value));
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail("field '{}': {} is out of range", name, value.dump());
    }
    const auto v = value.get<std::int64_t>();
    if (v < min) fail("field '{}': expected {}, got {}", name, what, v);
    return v;
  }
  std::int64_t required_integer(const char* name, std::int64_t min) const {
    return integer(name, require(name), min);
  }
  std::int64_t optional_integer(const char* name, std::int64_t min, std::int64_t fallback) const {
    const json* value = find(name);
    return value == nullptr ? fallback : integer(name, *value, min);
  }

  std::optional<std::string> optional_string(const char* name) const {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail("field '{}': expected a string, got {}", name, got(*value));
    return value->get<std::string>();
  }

  bool optional_bool(const char* name, bool fallback) const {
    const json* value = find(name);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail("field '{}': expected true or false, got {}", name, got(*value));
    return value->get<bool>();
  }

  // A finite number > 0 that stays > 0 as a float.
  float optional_positive_float(const char* name, float fallback) const {
    const json* value = find(name);
    if (value == nullptr) return fallback;
    if (!value->is_number())
      fail("field '{}': expected a positive number, got {}", name, got(*value));
    const double v = value->get<double>();
    const auto f = static_cast<float>(v);
    if (!(v > 0) || !std::isfinite(f) || !(f > 0)) {
      fail("field '{}': expected a positive number representable as fp32, got {}", name,
           value->dump());
    }
    return f;
  }

 private:
  static std::string got(const json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return fmt::format("{} {}", value.type_name(), text);
  }

  const json& root_;
  std::string_view source_;
};

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
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw Error(ErrorCode::invalid_format, fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  const Fields f(root, source);
  if (!root.is_object()) f.fail("expected a JSON object, got {}", root.type_name());

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
