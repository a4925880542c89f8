#include "model/bert/tensor_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::bert {

std::int64_t TensorSpec::num_elements() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

// The decoder's own bias is what the reference forward adds; older exports
// store it only as the head's bias (the two are tied there).
Naming naming_for(const TransformerConfig& config, const HasTensor& has_tensor) {
  const auto has = [&](const std::string& name) { return has_tensor && has_tensor(name); };
  Naming n;
  if (config.model_type == ModelType::roberta) {
    n.encoder = "roberta.";
    n.head_dense = "lm_head.dense";
    n.head_ln = "lm_head.layer_norm";
    n.decoder_w = "lm_head.decoder.weight";
    n.decoder_b = has("lm_head.decoder.bias") ? "lm_head.decoder.bias" : "lm_head.bias";
  } else {
    n.encoder = "bert.";
    n.head_dense = "cls.predictions.transform.dense";
    n.head_ln = "cls.predictions.transform.LayerNorm";
    n.decoder_w = "cls.predictions.decoder.weight";
    n.decoder_b = has("cls.predictions.decoder.bias") ? "cls.predictions.decoder.bias"
                                                      : "cls.predictions.bias";
  }
  // Some exports drop the encoder prefix.
  if (!has(n.encoder + "embeddings.word_embeddings.weight") &&
      has("embeddings.word_embeddings.weight")) {
    n.encoder.clear();
  }
  return n;
}

bool has_head_tensor(const Naming& n, const HasTensor& has) {
  return has && (has(n.head_dense + ".weight") || has(n.head_ln + ".weight") ||
                 has(n.decoder_b) || has(n.decoder_w));
}

std::vector<TensorSpec> tensor_table(const TransformerConfig& c, const Naming& n, bool tied,
                                     bool with_head) {
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  std::vector<TensorSpec> table;
  // Matrices decay; LayerNorms and biases (every 1-D tensor) do not: the same
  // split as default_weight_decay_for's name rule.
  const auto add = [&](Slot slot, std::int64_t layer, std::string name,
                       std::vector<std::int64_t> shape, std::optional<LoraTarget> lora = {},
                       bool is_head = false) {
    const bool decay = shape.size() == 2;
    table.push_back({slot, layer, std::move(name), std::move(shape), decay, lora, is_head});
  };
  const std::string emb = n.encoder + "embeddings.";
  add(Slot::word_embeddings, -1, emb + "word_embeddings.weight", {V, H});
  add(Slot::position_embeddings, -1, emb + "position_embeddings.weight",
      {c.max_position_embeddings, H});
  add(Slot::token_type_embeddings, -1, emb + "token_type_embeddings.weight",
      {c.type_vocab_size, H});
  add(Slot::embeddings_ln_w, -1, emb + "LayerNorm.weight", {H});
  add(Slot::embeddings_ln_b, -1, emb + "LayerNorm.bias", {H});
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = fmt::format("{}encoder.layer.{}.", n.encoder, l);
    const auto projection = [&](Slot w, Slot b, const std::string& module, std::int64_t out,
                                std::int64_t in, std::optional<LoraTarget> lora) {
      add(w, l, p + module + ".weight", {out, in}, lora);
      add(b, l, p + module + ".bias", {out});
    };
    const auto layer_norm = [&](Slot w, Slot b, const std::string& module) {
      add(w, l, p + module + ".weight", {H});
      add(b, l, p + module + ".bias", {H});
    };
    projection(Slot::query_w, Slot::query_b, "attention.self.query", H, H, LoraTarget::query);
    projection(Slot::key_w, Slot::key_b, "attention.self.key", H, H, LoraTarget::key);
    projection(Slot::value_w, Slot::value_b, "attention.self.value", H, H, LoraTarget::value);
    projection(Slot::attn_out_w, Slot::attn_out_b, "attention.output.dense", H, H,
               LoraTarget::attention_output);
    layer_norm(Slot::attn_ln_w, Slot::attn_ln_b, "attention.output.LayerNorm");
    projection(Slot::inter_w, Slot::inter_b, "intermediate.dense", I, H,
               LoraTarget::intermediate);
    projection(Slot::out_w, Slot::out_b, "output.dense", H, I, LoraTarget::output);
    layer_norm(Slot::out_ln_w, Slot::out_ln_b, "output.LayerNorm");
  }
  if (with_head) {
    add(Slot::head_dense_w, -1, n.head_dense + ".weight", {H, H}, {}, true);
    add(Slot::head_dense_b, -1, n.head_dense + ".bias", {H}, {}, true);
    add(Slot::head_ln_w, -1, n.head_ln + ".weight", {H}, {}, true);
    add(Slot::head_ln_b, -1, n.head_ln + ".bias", {H}, {}, true);
    if (!tied) add(Slot::decoder_w, -1, n.decoder_w, {V, H}, {}, true);
    add(Slot::decoder_b, -1, n.decoder_b, {V}, {}, true);
  }
  return table;
}

std::vector<TensorSpec> table_of(const TransformerConfig& config, const ParamSet& params) {
  const auto views = params.views();
  const HasTensor has = [&](const std::string& name) {
    return std::any_of(views.begin(), views.end(),
                       [&](const ParamView& v) { return v.name == name; });
  };
  const Naming n = naming_for(config, has);
  std::vector<TensorSpec> table =
      tensor_table(config, n, /*tied=*/!has(n.decoder_w), has_head_tensor(n, has));
  for (std::size_t i = 0; i < std::max(table.size(), views.size()); ++i) {
    const bool same = i < table.size() && i < views.size() && table[i].hf_name == views[i].name &&
                      static_cast<std::uint64_t>(table[i].num_elements()) == views[i].size;
    if (!same) {
      throw Error(ErrorCode::internal,
                  fmt::format("model layout: tensor {} is '{}' but the {} table has '{}'", i,
                              i < views.size() ? views[i].name : "(none)",
                              to_string(config.model_type),
                              i < table.size() ? table[i].hf_name : "(none)"));
    }
  }
  return table;
}

std::string lora_module(const TensorSpec& spec, const Naming& naming) {
  constexpr std::string_view kSuffix = ".weight";
  const std::size_t start = spec.hf_name.starts_with(naming.encoder) ? naming.encoder.size() : 0;
  return spec.hf_name.substr(start, spec.hf_name.size() - start - kSuffix.size());
}

bool is_norm_gain(Slot slot) {
  return slot == Slot::embeddings_ln_w || slot == Slot::attn_ln_w || slot == Slot::out_ln_w ||
         slot == Slot::head_ln_w;
}

}  // namespace model::bert
MEZO_END_NAMESPACE
