#include "mezo/model/decoder_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "file_io.hpp"
#include "mezo/error.hpp"
#include "mezo/io/gguf.hpp"
#include "model/config_fields.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using json = nlohmann::json;
using detail::ConfigFields;

// An optional token id: an integer, null, or a list of integers (the first,
// as in Llama 3's eos list); -1 when absent or null.
std::int64_t token_id(const ConfigFields& f, const char* name) {
  const json* value = f.find(name);
  if (value == nullptr || value->is_null()) return -1;
  if (value->is_array()) {
    if (value->empty()) return -1;
    return f.integer(name, value->front(), 0);
  }
  return f.integer(name, *value, 0);
}

// transformers 5 keeps rope_theta and the scaling in "rope_parameters";
// earlier versions in "rope_theta" and "rope_scaling". Both are read.
void read_rope(const ConfigFields& f, DecoderConfig& c) {
  const json* parameters = f.find("rope_parameters");
  const json* scaling = f.find("rope_scaling");
  if (parameters != nullptr && !parameters->is_null()) {
    if (!parameters->is_object()) f.fail("field 'rope_parameters': expected an object");
    scaling = parameters;
  }
  c.rope_theta = f.optional_positive_float("rope_theta", 10000.0f);
  if (scaling == nullptr || scaling->is_null()) return;
  if (!scaling->is_object()) f.fail("field 'rope_scaling': expected an object or null");
  const ConfigFields s(*scaling, "rope_scaling");
  const auto type =
      s.optional_string("rope_type").value_or(s.optional_string("type").value_or("default"));
  if (parameters == scaling && scaling->contains("rope_theta"))
    c.rope_theta = s.optional_positive_float("rope_theta", c.rope_theta);
  if (type == "default") return;
  if (type != "llama3") {
    f.fail("rope scaling of type '{}' is not supported (supported: \"llama3\", or none)", type);
  }
  c.rope_scaling.llama3 = true;
  c.rope_scaling.factor = s.optional_positive_float("factor", c.rope_scaling.factor);
  c.rope_scaling.low_freq_factor =
      s.optional_positive_float("low_freq_factor", c.rope_scaling.low_freq_factor);
  c.rope_scaling.high_freq_factor =
      s.optional_positive_float("high_freq_factor", c.rope_scaling.high_freq_factor);
  c.rope_scaling.original_max_position_embeddings = s.optional_integer(
      "original_max_position_embeddings", 1, c.rope_scaling.original_max_position_embeddings);
  if (!(c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor)) {
    f.fail("rope scaling: high_freq_factor {} must exceed low_freq_factor {}",
           c.rope_scaling.high_freq_factor, c.rope_scaling.low_freq_factor);
  }
}

// Gemma 3's fields (transformers 5's rope_parameters per layer type, or the
// older rope_theta / rope_local_base_freq / sliding_window_pattern).
void read_gemma3(const ConfigFields& f, DecoderConfig& c) {
  const std::string act =
      f.optional_string("hidden_activation")
          .value_or(f.optional_string("hidden_act").value_or("gelu_pytorch_tanh"));
  if (act != "gelu_pytorch_tanh")
    f.fail("field 'hidden_activation': '{}' is not supported (only \"gelu_pytorch_tanh\")", act);
  for (const char* capping : {"final_logit_softcapping", "attn_logit_softcapping"}) {
    const json* v = f.find(capping);
    if (v != nullptr && !v->is_null())
      f.fail("field '{}': logit soft-capping is not supported", capping);
  }
  c.query_pre_attn_scalar = f.optional_positive_float("query_pre_attn_scalar", 256.0f);
  c.sliding_window = f.optional_integer("sliding_window", 1, 4096);
  c.sliding_window_pattern = f.optional_integer("sliding_window_pattern", 1, 6);
  if (const json* types = f.find("layer_types"); types != nullptr && !types->is_null()) {
    if (!types->is_array() || static_cast<std::int64_t>(types->size()) != c.num_hidden_layers)
      f.fail("field 'layer_types': expected one entry per layer ({})", c.num_hidden_layers);
    // The first global layer gives the pattern; every layer must then follow it.
    const auto global = std::find(types->begin(), types->end(), "full_attention");
    c.sliding_window_pattern =
        global == types->end() ? c.num_hidden_layers + 1 : (global - types->begin()) + 1;
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
      const json& t = (*types)[static_cast<std::size_t>(l)];
      if (t != "full_attention" && t != "sliding_attention")
        f.fail("field 'layer_types'[{}]: {} is not a layer type", l, t.dump());
      if ((t == "sliding_attention") != is_sliding_layer(c, l))
        f.fail("field 'layer_types': layer {} breaks the pattern of a global layer every {}", l,
               c.sliding_window_pattern);
    }
  }
  c.rope_local_theta = f.optional_positive_float("rope_local_base_freq", 10000.0f);
  c.rope_theta = f.optional_positive_float("rope_theta", 1000000.0f);
  const auto plain_rope = [&](const json& p, const char* where) {
    if (!p.is_object()) f.fail("field '{}': expected an object", where);
    const ConfigFields r(p, where);
    const auto type =
        r.optional_string("rope_type").value_or(r.optional_string("type").value_or("default"));
    if (type != "default")
      f.fail("field '{}': RoPE scaling '{}' is not supported for gemma3", where, type);
    return r.optional_positive_float("rope_theta", 0.0f);
  };
  if (const json* scaling = f.find("rope_scaling"); scaling != nullptr && !scaling->is_null())
    plain_rope(*scaling, "rope_scaling");
  if (const json* p = f.find("rope_parameters"); p != nullptr && !p->is_null()) {
    if (!p->is_object()) f.fail("field 'rope_parameters': expected an object");
    if (const auto it = p->find("full_attention"); it != p->end()) {
      if (const float theta = plain_rope(*it, "rope_parameters.full_attention"); theta > 0)
        c.rope_theta = theta;
    }
    if (const auto it = p->find("sliding_attention"); it != p->end()) {
      if (const float theta = plain_rope(*it, "rope_parameters.sliding_attention"); theta > 0)
        c.rope_local_theta = theta;
    }
  }
}

// The fields every decoder's config.json has: its shape and norm epsilon.
void add_shape_fields(const DecoderConfig& c, nlohmann::ordered_json& j) {
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
}

// Gemma3ForCausalLM's config.json, in transformers 5's form (rope_parameters
// per layer type, layer_types) with the older keys beside it.
std::string gemma3_config_json(const DecoderConfig& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {"Gemma3ForCausalLM"};
  j["model_type"] = "gemma3_text";
  add_shape_fields(c, j);
  j["hidden_activation"] = "gelu_pytorch_tanh";
  j["query_pre_attn_scalar"] =
      c.query_pre_attn_scalar > 0.0f ? c.query_pre_attn_scalar : static_cast<float>(c.head_dim);
  j["sliding_window"] = c.sliding_window;
  j["sliding_window_pattern"] = c.sliding_window_pattern;
  nlohmann::ordered_json types = nlohmann::ordered_json::array();
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l)
    types.push_back(is_sliding_layer(c, l) ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  j["rope_theta"] = c.rope_theta;
  j["rope_local_base_freq"] = c.rope_local_theta;
  j["rope_parameters"] = {
      {"full_attention", {{"rope_type", "default"}, {"rope_theta", c.rope_theta}}},
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", c.rope_local_theta}}}};
  j["final_logit_softcapping"] = nullptr;
  j["attn_logit_softcapping"] = nullptr;
  j["attention_bias"] = false;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  j["torch_dtype"] = "float32";
  return j.dump(2) + "\n";
}

// The checks both sources share; `fail` names the source.
template <typename Fail>
void check_shape(const DecoderConfig& c, Fail&& fail) {
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    fail(fmt::format("{} attention heads are not a multiple of {} key/value heads",
                     c.num_attention_heads, c.num_key_value_heads));
  }
  if (c.head_dim % 2 != 0) fail(fmt::format("head_dim {} is odd (RoPE needs pairs)", c.head_dim));
}

}  // namespace

const char* to_string(DecoderArch arch) noexcept {
  switch (arch) {
    case DecoderArch::llama:
      return "llama";
    case DecoderArch::qwen2:
      return "qwen2";
    case DecoderArch::gemma3:
      return "gemma3";
  }
  return "?";
}

bool is_sliding_layer(const DecoderConfig& c, std::int64_t layer) noexcept {
  return c.sliding_window > 0 && c.sliding_window_pattern > 0 &&
         (layer + 1) % c.sliding_window_pattern != 0;
}

DecoderConfig parse_decoder_config(std::string_view text, std::string_view source) {
  const json root = detail::parse_config_json(text, source);
  const ConfigFields f(root, source);
  DecoderConfig c;
  const json& model_type = f.require("model_type");
  if (!model_type.is_string()) f.fail("field 'model_type': expected a string");
  const auto& type = model_type.get_ref<const std::string&>();
  if (type == "llama") {
    c.arch = DecoderArch::llama;
  } else if (type == "qwen2") {
    c.arch = DecoderArch::qwen2;
  } else if (type == "gemma3_text") {
    c.arch = DecoderArch::gemma3;
  } else if (type == "gemma3") {
    f.fail(
        "field 'model_type': 'gemma3' is Gemma 3's multimodal model; libmezo reads the text "
        "model (model_type \"gemma3_text\", Gemma3ForCausalLM)");
  } else {
    f.fail(
        "field 'model_type': '{}' is not a supported decoder (supported: \"llama\", \"qwen2\", "
        "\"gemma3_text\")",
        type);
  }
  c.vocab_size = f.required_integer("vocab_size", 1);
  c.hidden_size = f.required_integer("hidden_size", 1);
  c.num_hidden_layers = f.required_integer("num_hidden_layers", 1);
  c.num_attention_heads = f.required_integer("num_attention_heads", 1);
  const json* kv = f.find("num_key_value_heads");
  c.num_key_value_heads = kv == nullptr || kv->is_null() ? c.num_attention_heads
                                                         : f.integer("num_key_value_heads", *kv, 1);
  const json* head_dim = f.find("head_dim");
  if (head_dim == nullptr || head_dim->is_null()) {
    if (c.hidden_size % c.num_attention_heads != 0) {
      f.fail(
          "field 'hidden_size': {} is not divisible by num_attention_heads {} and no head_dim "
          "is given",
          c.hidden_size, c.num_attention_heads);
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  } else {
    c.head_dim = f.integer("head_dim", *head_dim, 1);
  }
  c.intermediate_size = f.required_integer("intermediate_size", 1);
  c.max_position_embeddings = f.required_integer("max_position_embeddings", 1);
  c.rms_norm_eps = f.optional_positive_float("rms_norm_eps", 1e-6f);
  const bool gemma3 = c.arch == DecoderArch::gemma3;
  if (gemma3) {
    read_gemma3(f, c);
  } else {
    read_rope(f, c);
    const std::string act = f.optional_string("hidden_act").value_or("silu");
    if (act != "silu") f.fail("field 'hidden_act': '{}' is not supported (only \"silu\")", act);
  }
  c.tie_word_embeddings = f.optional_bool("tie_word_embeddings", gemma3);
  if (f.optional_bool("mlp_bias", false)) f.fail("field 'mlp_bias': MLP biases are not supported");
  if (c.arch == DecoderArch::qwen2) {
    c.qkv_bias = true;
  } else {
    c.qkv_bias = c.o_bias = f.optional_bool("attention_bias", false);
  }
  c.bos_token_id = token_id(f, "bos_token_id");
  c.eos_token_id = token_id(f, "eos_token_id");
  check_shape(c, [&](const std::string& why) { f.fail("{}", why); });
  return c;
}

DecoderConfig load_decoder_config(const std::filesystem::path& path) {
  return parse_decoder_config(detail::read_file(path), path.string());
}

std::string decoder_config_to_json(const DecoderConfig& c) {
  if (!c.rope_freq_factors.empty()) {
    throw Error(ErrorCode::unsupported,
                "decoder config: RoPE frequency factors read from a GGUF rope_freqs tensor have "
                "no config.json form (save this model as GGUF)");
  }
  if (c.arch == DecoderArch::gemma3) return gemma3_config_json(c);
  const bool qwen2 = c.arch == DecoderArch::qwen2;
  nlohmann::ordered_json j;
  j["architectures"] = {qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
  j["model_type"] = to_string(c.arch);
  add_shape_fields(c, j);
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.llama3) {
    j["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", c.rope_scaling.factor},
        {"low_freq_factor", c.rope_scaling.low_freq_factor},
        {"high_freq_factor", c.rope_scaling.high_freq_factor},
        {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["hidden_act"] = "silu";
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (!qwen2) j["attention_bias"] = c.qkv_bias;
  j["mlp_bias"] = false;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  j["torch_dtype"] = "float32";
  return j.dump(2) + "\n";
}

DecoderConfig decoder_config_from_gguf(const GgufFile& file) {
  const auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_format, fmt::format("{}: {}", file.path().string(), why));
  };
  const std::string& arch = file.get_string("general.architecture");
  DecoderConfig c;
  if (arch == "llama") {
    c.arch = DecoderArch::llama;
  } else if (arch == "qwen2") {
    c.arch = DecoderArch::qwen2;
  } else if (arch == "gemma3") {
    c.arch = DecoderArch::gemma3;
  } else {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: general.architecture '{}' is not a supported decoder (supported: "
                            "llama, qwen2, gemma3)",
                            file.path().string(), arch));
  }
  const auto positive = [&](const std::string& key) {
    const std::uint64_t v = file.get_uint(arch + "." + key);
    if (v == 0 || v > (std::uint64_t{1} << 40))
      fail(fmt::format("{}.{} = {} is out of range", arch, key, v));
    return static_cast<std::int64_t>(v);
  };
  const auto optional = [&](const std::string& key, std::int64_t fallback) {
    return file.find(arch + "." + key) != nullptr ? positive(key) : fallback;
  };
  c.num_hidden_layers = positive("block_count");
  c.hidden_size = positive("embedding_length");
  c.intermediate_size = positive("feed_forward_length");
  c.num_attention_heads = positive("attention.head_count");
  c.num_key_value_heads = optional("attention.head_count_kv", c.num_attention_heads);
  c.max_position_embeddings = positive("context_length");
  if (c.hidden_size % c.num_attention_heads != 0 &&
      file.find(arch + ".attention.key_length") == nullptr) {
    fail(
        fmt::format("{}.embedding_length {} is not divisible by the {} heads and no key_length "
                    "is given",
                    arch, c.hidden_size, c.num_attention_heads));
  }
  c.head_dim = optional("attention.key_length", c.hidden_size / c.num_attention_heads);
  if (optional("attention.value_length", c.head_dim) != c.head_dim) {
    fail(fmt::format("{}.attention.value_length differs from key_length {}: not supported", arch,
                     c.head_dim));
  }
  if (optional("rope.dimension_count", c.head_dim) != c.head_dim) {
    fail(
        fmt::format("{}.rope.dimension_count differs from the head size {}: partial rotary "
                    "embeddings are not supported",
                    arch, c.head_dim));
  }
  const auto eps = file.get_float(arch + ".attention.layer_norm_rms_epsilon");
  if (!(eps > 0) || !(static_cast<float>(eps) > 0))
    fail(fmt::format("{}.attention.layer_norm_rms_epsilon = {} is not positive", arch, eps));
  c.rms_norm_eps = static_cast<float>(eps);
  if (file.find(arch + ".rope.freq_base") != nullptr) {
    const auto base = file.get_float(arch + ".rope.freq_base");
    if (!(base > 1)) fail(fmt::format("{}.rope.freq_base = {} must exceed 1", arch, base));
    c.rope_theta = static_cast<float>(base);
  }
  const GgufTensorInfo& embedding = file.get_tensor("token_embd.weight");
  if (embedding.dims.size() != 2 || embedding.dims[0] != c.hidden_size) {
    fail(fmt::format("tensor 'token_embd.weight' has {} dims, expected [{}, vocab]",
                     embedding.dims.size(), c.hidden_size));
  }
  c.vocab_size = embedding.dims[1];
  c.tie_word_embeddings = file.find_tensor("output.weight") == nullptr;
  c.qkv_bias = c.arch == DecoderArch::qwen2 || file.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.o_bias = file.find_tensor("blk.0.attn_output.bias") != nullptr;
  if (const GgufTensorInfo* freqs = file.find_tensor("rope_freqs.weight")) {
    // Llama 3.1's scaling, as llama.cpp stores it: one divisor per frequency.
    if (freqs->num_elements() != static_cast<std::uint64_t>(c.head_dim / 2)) {
      fail(fmt::format("tensor 'rope_freqs.weight' has {} elements, expected head_dim / 2 = {}",
                       freqs->num_elements(), c.head_dim / 2));
    }
    c.rope_freq_factors.resize(static_cast<std::size_t>(c.head_dim / 2));
    file.read_f32(*freqs, c.rope_freq_factors);
    for (const float f : c.rope_freq_factors)
      if (!(f > 0) || !std::isfinite(f))
        fail(fmt::format("rope_freqs.weight holds {}: not a positive divisor", f));
  }
  if (c.arch == DecoderArch::gemma3) {
    // What llama.cpp's gemma3 loader sets without reading it from the file.
    c.sliding_window = optional("attention.sliding_window", 0);
    c.sliding_window_pattern = 6;
    c.rope_local_theta = 10000.0f;
    c.query_pre_attn_scalar = static_cast<float>(
        c.num_hidden_layers == 62 ? c.hidden_size / c.num_attention_heads : c.head_dim);
    if (const GgufValue* scaling = file.find(arch + ".rope.scaling.type");
        scaling != nullptr && scaling->string != "none")
      fail(fmt::format("{}.rope.scaling.type '{}' is not supported for gemma3", arch,
                       scaling->string));
  }
  if (const GgufValue* bos = file.find("tokenizer.ggml.bos_token_id"))
    c.bos_token_id = bos->integer;
  if (const GgufValue* eos = file.find("tokenizer.ggml.eos_token_id"))
    c.eos_token_id = eos->integer;
  check_shape(c, fail);
  return c;
}

MEZO_END_NAMESPACE
