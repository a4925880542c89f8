#include "model/llama/decoder_weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string summarize(const std::map<std::string, int>& counts) {
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [type, n] : counts) sorted.emplace_back(-n, type);
  std::sort(sorted.begin(), sorted.end());
  std::string text;
  for (const auto& [n, type] : sorted) {
    if (!text.empty()) text += ", ";
    text += fmt::format("{} ×{}", type, -n);
  }
  return text;
}

}  // namespace

DecoderWeights::DecoderWeights(const DecoderConfig& config, bool untie_head)
    : table_(tensor_table(config, untie_head)) {
  std::uint64_t offset = 0;
  for (const TensorSpec& spec : table_) {
    offsets_.push_back(offset);
    offset += static_cast<std::uint64_t>(spec.num_elements());
  }
  buffer_.assign(offset, 0.0f);
}

void DecoderWeights::index() {
  const std::size_t no_decay = ParamSet::no_decay_group, decay = ParamSet::decay_group;
  layers_.assign(static_cast<std::size_t>(
                     std::count_if(table_.begin(), table_.end(),
                                   [](const TensorSpec& s) { return s.slot == Slot::attn_norm; })),
                 LayerPointers{});
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    float* p = data(i);
    params_.add(spec.hf_name, p, static_cast<std::uint64_t>(spec.num_elements()),
                spec.weight_decay ? decay : no_decay);
    LayerPointers& where = spec.layer < 0 ? global_ : layers_[static_cast<std::size_t>(spec.layer)];
    where.at[static_cast<std::size_t>(spec.slot)] = p;
  }
}

void DecoderWeights::check_finite(std::size_t i, const std::string& file) const {
  // A NaN or ±inf weight would make every loss non-finite and every MeZO
  // step a rejected one: refuse the checkpoint instead, saying where.
  const float* begin = data(i);
  const float* end = begin + table_[i].num_elements();
  const float* bad = std::find_if(begin, end, [](float v) { return !std::isfinite(v); });
  if (bad != end) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: tensor '{}' holds {} at element {}: the checkpoint is damaged",
                            file, table_[i].hf_name, *bad, bad - begin));
  }
}

DecoderWeights::DecoderWeights(const DecoderConfig& config, const detail::HfCheckpoint& checkpoint,
                               bool untie_head)
    : DecoderWeights(config, untie_head) {
  std::map<std::string, int> types;
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    auto found = checkpoint.find(spec.hf_name);
    if (found.info == nullptr && spec.slot == Slot::lm_head && config.tie_word_embeddings) {
      // An untied head starts as a copy of the tied one the checkpoint implies.
      found = checkpoint.find(table_[0].hf_name);
    }
    if (found.info == nullptr) {
      throw Error(ErrorCode::invalid_format, fmt::format("{}: tensor '{}' is missing",
                                                         checkpoint.path().string(), spec.hf_name));
    }
    if (found.info->shape != spec.shape) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' has shape {} but the config implies {}",
                              found.file->path().string(), spec.hf_name,
                              shape_text(found.info->shape), shape_text(spec.shape)));
    }
    found.file->read_f32(*found.info, {data(i), static_cast<std::size_t>(spec.num_elements())});
    if (spec.plus_one) {  // the 1 + w Gemma's RMSNorm applies, in fp32 as transformers adds it
      std::for_each(data(i), data(i) + spec.num_elements(), [](float& w) { w = 1.0f + w; });
    }
    check_finite(i, found.file->path().string());
    ++types[to_string(found.info->dtype)];
  }
  stored_types_ = summarize(types);
  index();
}

DecoderWeights::DecoderWeights(const DecoderConfig& config, const GgufFile& file, bool untie_head)
    : DecoderWeights(config, untie_head) {
  std::map<std::string, int> types;
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    const GgufTensorInfo* info = file.find_tensor(spec.gguf_name);
    if (info == nullptr && spec.slot == Slot::lm_head && config.tie_word_embeddings) {
      info = file.find_tensor(table_[0].gguf_name);  // untied copy of the tied head
    }
    if (info == nullptr) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' is missing", file.path().string(), spec.gguf_name));
    }
    if (info->shape() != spec.shape) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tensor '{}' has shape {} (GGUF dims reversed) but the metadata "
                              "implies {}",
                              file.path().string(), spec.gguf_name, shape_text(info->shape()),
                              shape_text(spec.shape)));
    }
    file.read_f32(*info, {data(i), static_cast<std::size_t>(spec.num_elements())});
    if (spec.rope_permuted_heads > 0) {
      const std::int64_t rows = spec.shape[0];
      const std::int64_t cols = spec.shape.size() > 1 ? spec.shape[1] : 1;
      permute_rope_rows(data(i), spec.rope_permuted_heads, rows / spec.rope_permuted_heads, cols,
                        /*to_hf=*/true);
    }
    check_finite(i, file.path().string());
    ++types[to_string(info->type)];
  }
  stored_types_ = summarize(types);
  index();
}

DecoderWeights::DecoderWeights(const DecoderConfig& config, std::uint64_t seed, bool untie_head)
    : DecoderWeights(config, untie_head) {
  const std::uint64_t key = rng::stream_key(seed, rng::Stream::decoder_random_weights, 0);
  for (std::size_t i = 0; i < table_.size(); ++i) {
    const TensorSpec& spec = table_[i];
    float* p = data(i);
    const auto count = static_cast<std::uint64_t>(spec.num_elements());
    const bool is_norm = spec.plus_one || spec.slot == Slot::attn_norm ||
                         spec.slot == Slot::mlp_norm || spec.slot == Slot::final_norm;
    if (is_norm) {
      std::fill_n(p, count, 1.0f);
    } else if (spec.shape.size() == 2) {
      for (std::uint64_t j = 0; j < count; ++j)
        p[j] = 0.02f * rng::gaussian_z(key, offsets_[i] + j);
    }  // biases stay 0
  }
  stored_types_ = "random F32";
  index();
}

}  // namespace model::llama
MEZO_END_NAMESPACE
