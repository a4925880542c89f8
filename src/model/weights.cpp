#include "model/weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {
namespace {

std::int64_t product(const std::vector<std::int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

}  // namespace

// HF names: "roberta." / "bert." prefix on the encoder; lm_head.* / cls.predictions.* heads.
// The decoder's own bias is what the reference forward adds; older exports
// store it only as the head's bias (the two are tied there).
WeightStore::Naming WeightStore::naming_for(const TransformerConfig& config,
                                            const SafetensorsFile* file) {
  const auto has = [&](const std::string& name) { return file && file->find(name); };
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
  if (file && !has(n.encoder + "embeddings.word_embeddings.weight") &&
      has("embeddings.word_embeddings.weight")) {
    n.encoder.clear();
  }
  return n;
}

// Records where a tensor goes; the buffer is allocated once all are known.
void WeightStore::add(std::string name, std::vector<std::int64_t> shape) {
  const std::uint64_t offset =
      entries_.empty()
          ? 0
          : entries_.back().offset + static_cast<std::uint64_t>(product(entries_.back().shape));
  entries_.push_back({std::move(name), std::move(shape), offset});
}

void WeightStore::lay_out(const TransformerConfig& c, const Naming& n, bool tied, bool with_head) {
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const std::string emb = n.encoder + "embeddings.";
  add(emb + "word_embeddings.weight", {V, H});
  add(emb + "position_embeddings.weight", {c.max_position_embeddings, H});
  add(emb + "token_type_embeddings.weight", {c.type_vocab_size, H});
  add(emb + "LayerNorm.weight", {H});
  add(emb + "LayerNorm.bias", {H});
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = fmt::format("{}encoder.layer.{}.", n.encoder, l);
    for (const char* proj : {"query", "key", "value"}) {
      add(p + "attention.self." + proj + ".weight", {H, H});
      add(p + "attention.self." + proj + ".bias", {H});
    }
    add(p + "attention.output.dense.weight", {H, H});
    add(p + "attention.output.dense.bias", {H});
    add(p + "attention.output.LayerNorm.weight", {H});
    add(p + "attention.output.LayerNorm.bias", {H});
    add(p + "intermediate.dense.weight", {I, H});
    add(p + "intermediate.dense.bias", {I});
    add(p + "output.dense.weight", {H, I});
    add(p + "output.dense.bias", {H});
    add(p + "output.LayerNorm.weight", {H});
    add(p + "output.LayerNorm.bias", {H});
  }
  first_head_view_ = entries_.size();
  if (with_head) {
    add(n.head_dense + ".weight", {H, H});
    add(n.head_dense + ".bias", {H});
    add(n.head_ln + ".weight", {H});
    add(n.head_ln + ".bias", {H});
    if (!tied) add(n.decoder_w, {V, H});
    add(n.decoder_b, {V});
  }
  buffer_.assign(
      entries_.back().offset + static_cast<std::uint64_t>(product(entries_.back().shape)), 0.0f);
}

WeightStore::WeightStore(const TransformerConfig& c, const SafetensorsFile& file,
                         bool untie_decoder) {
  const Naming n = naming_for(c, &file);
  // A checkpoint with none of the head's tensors is an encoder (a sentence
  // encoder such as all-MiniLM-L6-v2); one with only some of them is broken,
  // and the loop below names the first missing tensor.
  has_mlm_head_ = file.find(n.head_dense + ".weight") || file.find(n.head_ln + ".weight") ||
                  file.find(n.decoder_b) || file.find(n.decoder_w);
  if (has_mlm_head_ && !c.tie_word_embeddings && !file.find(n.decoder_w)) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: config has tie_word_embeddings = false but tensor '{}' is missing",
                            file.path().string(), n.decoder_w));
  }
  const bool tied = c.tie_word_embeddings && !untie_decoder;
  lay_out(c, n, tied, has_mlm_head_);
  for (const Entry& e : entries_) {
    float* data = buffer_.data() + e.offset;
    const auto count = static_cast<std::uint64_t>(product(e.shape));
    if (e.name == n.decoder_w && !file.find(e.name)) {
      // An untied decoder starts as a copy of the tied one the file implies.
      std::copy_n(buffer_.data() + entries_.front().offset, count, data);
      continue;
    }
    const TensorInfo& info = file.get(e.name);
    if (info.shape != e.shape) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' has shape [{}] but the config implies [{}]",
                              file.path().string(), e.name, fmt::join(info.shape, ", "),
                              fmt::join(e.shape, ", ")));
    }
    file.read_f32(info, {data, count});
    // A NaN or ±inf weight would make every loss non-finite and every MeZO
    // step a rejected one: refuse the checkpoint instead, saying where.
    const float* bad = std::find_if(data, data + count, [](float v) { return !std::isfinite(v); });
    if (bad != data + count) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' holds {} at element {}: the checkpoint is damaged",
                              file.path().string(), e.name, *bad, bad - data));
    }
  }
  index(c);
}

WeightStore::WeightStore(const TransformerConfig& c, std::uint64_t seed, bool untie_decoder) {
  const bool tied = c.tie_word_embeddings && !untie_decoder;
  lay_out(c, naming_for(c, nullptr), tied, true);
  // Counter-based normals (mezo/counter_rng.hpp), element i of the buffer
  // drawing z(key, i): the same weights under every standard library, which
  // std::normal_distribution does not promise.
  const std::uint64_t key = rng::stream_key(seed, rng::Stream::encoder_random_weights, 0);
  for (const Entry& e : entries_) {
    float* data = buffer_.data() + e.offset;
    const auto count = static_cast<std::size_t>(product(e.shape));
    const bool is_norm = e.name.find("LayerNorm") != std::string::npos ||
                         e.name.find("layer_norm") != std::string::npos;
    if (is_norm && e.name.ends_with(".weight")) {
      std::fill_n(data, count, 1.0f);
    } else if (e.shape.size() == 2) {
      for (std::size_t i = 0; i < count; ++i) data[i] = 0.02f * rng::gaussian_z(key, e.offset + i);
    }  // biases stay 0
  }
  index(c);
}

std::vector<TensorF32View> WeightStore::tensors() const {
  std::vector<TensorF32View> views;
  for (const Entry& e : entries_) {
    views.push_back(
        {e.name, e.shape, {buffer_.data() + e.offset, static_cast<std::size_t>(product(e.shape))}});
  }
  return views;
}

void WeightStore::index(const TransformerConfig& c) {
  for (const Entry& e : entries_) {
    params_.add(e.name, buffer_.data() + e.offset, static_cast<std::uint64_t>(product(e.shape)));
  }
  weights_ = layout_of(params_, c.num_hidden_layers, has_mlm_head_);
}

ModelWeights layout_of(const ParamSet& params, std::int64_t layers, bool has_mlm_head) {
  const auto views = params.views();
  constexpr std::size_t kEmbeddings = 5, kPerLayer = 16;
  const std::size_t body = kEmbeddings + kPerLayer * static_cast<std::size_t>(layers);
  // The head: dense (w, b), LayerNorm (w, b), then the decoder's own matrix
  // unless it is tied to the word embeddings, then its bias.
  const std::size_t head = views.size() >= body ? views.size() - body : 0;
  const bool tied = head == 5;
  if (views.size() < body || (has_mlm_head ? (head != 5 && head != 6) : head != 0)) {
    throw Error(ErrorCode::internal,
                fmt::format("model layout: {} tensors for {} layers {} an MLM head", views.size(),
                            layers, has_mlm_head ? "with" : "without"));
  }
  const auto at = [&](std::size_t& i) -> const float* { return views[i++].f32(); };
  ModelWeights w{};
  std::size_t i = 0;
  w.word_embeddings = at(i);
  w.position_embeddings = at(i);
  w.token_type_embeddings = at(i);
  w.embeddings_ln_w = at(i);
  w.embeddings_ln_b = at(i);
  for (std::int64_t l = 0; l < layers; ++l) {
    LayerWeights lw{};
    lw.query_w = at(i), lw.query_b = at(i), lw.key_w = at(i), lw.key_b = at(i);
    lw.value_w = at(i), lw.value_b = at(i);
    lw.attn_out_w = at(i), lw.attn_out_b = at(i), lw.attn_ln_w = at(i), lw.attn_ln_b = at(i);
    lw.inter_w = at(i), lw.inter_b = at(i);
    lw.out_w = at(i), lw.out_b = at(i), lw.out_ln_w = at(i), lw.out_ln_b = at(i);
    w.layers.push_back(lw);
  }
  if (!has_mlm_head) return w;
  w.head_dense_w = at(i);
  w.head_dense_b = at(i);
  w.head_ln_w = at(i);
  w.head_ln_b = at(i);
  w.decoder_w = tied ? w.word_embeddings : at(i);
  w.decoder_b = at(i);
  return w;
}

}  // namespace model
MEZO_END_NAMESPACE
