#include "model/bert/weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "model/bert/slot_field.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

using bert::Slot;
using bert::TensorSpec;

void WeightStore::lay_out(const TransformerConfig& c, bool tied) {
  table_ = bert::tensor_table(c, naming_, tied, has_mlm_head_);
  std::uint64_t offset = 0;
  for (const TensorSpec& spec : table_) {
    offsets_.push_back(offset);
    offset += static_cast<std::uint64_t>(spec.num_elements());
  }
  buffer_.assign(offset, 0.0f);
}

WeightStore::WeightStore(const TransformerConfig& c, const SafetensorsFile& file,
                         bool untie_decoder) {
  const bert::HasTensor has = [&](const std::string& name) { return file.find(name) != nullptr; };
  naming_ = bert::naming_for(c, has);
  const bert::Naming& n = naming_;
  // A checkpoint with none of the head's tensors is an encoder (a sentence
  // encoder such as all-MiniLM-L6-v2); one with only some of them is broken,
  // and the loop below names the first missing tensor.
  has_mlm_head_ = bert::has_head_tensor(n, has);
  if (has_mlm_head_ && !c.tie_word_embeddings && !file.find(n.decoder_w)) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: config has tie_word_embeddings = false but tensor '{}' is missing",
                            file.path().string(), n.decoder_w));
  }
  lay_out(c, c.tie_word_embeddings && !untie_decoder);
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    float* data = this->data(i);
    const auto count = static_cast<std::uint64_t>(spec.num_elements());
    if (spec.slot == Slot::decoder_w && !file.find(spec.hf_name)) {
      // An untied decoder starts as a copy of the tied one the file implies.
      std::copy_n(this->data(0), count, data);
      continue;
    }
    const TensorInfo& info = file.get(spec.hf_name);
    if (info.shape != spec.shape) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' has shape [{}] but the config implies [{}]",
                              file.path().string(), spec.hf_name, fmt::join(info.shape, ", "),
                              fmt::join(spec.shape, ", ")));
    }
    file.read_f32(info, {data, count});
    // A NaN or ±inf weight would make every loss non-finite and every MeZO
    // step a rejected one: refuse the checkpoint instead, saying where.
    const float* bad = std::find_if(data, data + count, [](float v) { return !std::isfinite(v); });
    if (bad != data + count) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' holds {} at element {}: the checkpoint is damaged",
                              file.path().string(), spec.hf_name, *bad, bad - data));
    }
  }
  index();
}

WeightStore::WeightStore(const TransformerConfig& c, std::uint64_t seed, bool untie_decoder) {
  naming_ = bert::naming_for(c, nullptr);
  lay_out(c, c.tie_word_embeddings && !untie_decoder);
  // Counter-based normals (mezo/counter_rng.hpp), element i of the buffer
  // drawing z(key, i): the same weights under every standard library, which
  // std::normal_distribution does not promise.
  const std::uint64_t key = rng::stream_key(seed, rng::Stream::encoder_random_weights, 0);
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    float* data = this->data(i);
    const auto count = static_cast<std::size_t>(spec.num_elements());
    if (bert::is_norm_gain(spec.slot)) {
      std::fill_n(data, count, 1.0f);
    } else if (spec.shape.size() == 2) {
      for (std::size_t j = 0; j < count; ++j)
        data[j] = 0.02f * rng::gaussian_z(key, offsets_[i] + j);
    }  // biases stay 0
  }
  index();
}

std::vector<TensorF32View> WeightStore::tensors() const {
  std::vector<TensorF32View> views;
  for (std::size_t i = 0; i < table_.size(); ++i) {
    views.push_back({table_[i].hf_name,
                     table_[i].shape,
                     {data(i), static_cast<std::size_t>(table_[i].num_elements())}});
  }
  return views;
}

void WeightStore::index() {
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    params_.add(spec.hf_name, data(i), static_cast<std::uint64_t>(spec.num_elements()),
                spec.weight_decay ? ParamSet::decay_group : ParamSet::no_decay_group);
  }
  weights_ = weights_from(table_, [&](std::size_t i) -> const float* { return data(i); });
}

ModelWeights weights_from(const std::vector<TensorSpec>& table,
                          const std::function<const float*(std::size_t)>& data) {
  ModelWeights w{};
  std::int64_t layers = 0;
  for (const TensorSpec& spec : table) layers = std::max(layers, spec.layer + 1);
  w.layers.assign(static_cast<std::size_t>(layers), LayerWeights{});
  for (std::size_t i = 0; i < table.size(); ++i) bert::slot_field(w, table[i]) = data(i);
  // A head without a decoder matrix of its own reads the word embeddings.
  if (w.decoder_b != nullptr && w.decoder_w == nullptr) w.decoder_w = w.word_embeddings;
  return w;
}

}  // namespace model
MEZO_END_NAMESPACE
