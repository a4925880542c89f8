#include "model/llama/gguf_export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <list>

#include "mezo/error.hpp"
#include "model/llama/rope_frequencies.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

namespace {

bool describes_the_file(const std::string& key) {
  return key == "general.architecture" || key == "general.alignment" ||
         key == "general.file_type" || key == "general.quantization_version";
}

// llama.cpp's general.file_type (enum llama_ftype) for a file whose matrices
// are `type`: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7.
std::uint32_t file_type(GgmlType type) {
  switch (type) {
    case GgmlType::f16:
      return 1;
    case GgmlType::q8_0:
      return 7;
    default:
      return 0;
  }
}

}  // namespace

std::vector<std::pair<std::string, GgufValue>> carried_gguf_metadata(const GgufFile& file) {
  std::vector<std::pair<std::string, GgufValue>> carried;
  for (const auto& [key, value] : file.metadata()) {
    if ((key.starts_with("tokenizer.") || key.starts_with("general.")) && !describes_the_file(key))
      carried.emplace_back(key, value);
  }
  return carried;
}

void write_decoder_gguf(const std::filesystem::path& path, const DecoderConfig& c,
                        const DecoderWeights& weights,
                        const std::vector<std::pair<std::string, GgufValue>>& carried,
                        GgmlType matrix_type) {
  if (matrix_type != GgmlType::f32 && matrix_type != GgmlType::f16 &&
      matrix_type != GgmlType::q8_0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("save_gguf: matrices can be stored as F32, F16 or Q8_0, not {}",
                            to_string(matrix_type)));
  }
  const std::string arch = to_string(c.arch);
  std::vector<std::pair<std::string, GgufValue>> metadata;
  metadata.emplace_back("general.architecture", GgufValue::of_string(arch));
  for (const auto& entry : carried)
    if (entry.first.starts_with("general.")) metadata.push_back(entry);
  const auto u32 = [&](const std::string& key, std::int64_t value) {
    metadata.emplace_back(arch + "." + key,
                          GgufValue::of_uint32(static_cast<std::uint32_t>(value)));
  };
  u32("context_length", c.max_position_embeddings);
  u32("embedding_length", c.hidden_size);
  u32("block_count", c.num_hidden_layers);
  u32("feed_forward_length", c.intermediate_size);
  u32("attention.head_count", c.num_attention_heads);
  u32("attention.head_count_kv", c.num_key_value_heads);
  metadata.emplace_back(arch + ".rope.freq_base", GgufValue::of_float32(c.rope_theta));
  metadata.emplace_back(arch + ".attention.layer_norm_rms_epsilon",
                        GgufValue::of_float32(c.rms_norm_eps));
  u32("rope.dimension_count", c.head_dim);
  if (c.head_dim * c.num_attention_heads != c.hidden_size) {
    u32("attention.key_length", c.head_dim);
    u32("attention.value_length", c.head_dim);
  }
  u32("vocab_size", c.vocab_size);
  if (c.arch == DecoderArch::gemma3) {
    // llama.cpp reads only the window; the rest it assumes (decoder_config.hpp).
    const auto llama_cpp_scalar = static_cast<float>(
        c.num_hidden_layers == 62 ? c.hidden_size / c.num_attention_heads : c.head_dim);
    if (c.sliding_window_pattern != 6 || c.rope_local_theta != 10000.0f ||
        c.query_pre_attn_scalar != llama_cpp_scalar) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("save_gguf: llama.cpp's gemma3 takes every sixth layer as global, "
                              "a local RoPE base of 10000 and query_pre_attn_scalar {}; this "
                              "model has {}, {} and {}, which a GGUF file cannot say",
                              llama_cpp_scalar, c.sliding_window_pattern, c.rope_local_theta,
                              c.query_pre_attn_scalar));
    }
    u32("attention.sliding_window", c.sliding_window);
  }
  metadata.emplace_back("general.file_type", GgufValue::of_uint32(file_type(matrix_type)));
  for (const auto& entry : carried)
    if (entry.first.starts_with("tokenizer.")) metadata.push_back(entry);

  // Tensors that need new values (permuted rows, RoPE factors) live here
  // until written; a std::list never moves them.
  std::list<std::vector<float>> owned;
  std::vector<GgufTensorToWrite> tensors;
  for (std::size_t i = 0; i < weights.table().size(); ++i) {
    const TensorSpec& spec = weights.table()[i];
    std::span<const float> data(weights.data(i), static_cast<std::size_t>(spec.num_elements()));
    if (spec.rope_permuted_heads > 0) {
      auto& copy = owned.emplace_back(data.begin(), data.end());
      const std::int64_t cols = spec.shape.size() > 1 ? spec.shape[1] : 1;
      permute_rope_rows(copy.data(), spec.rope_permuted_heads,
                        spec.shape[0] / spec.rope_permuted_heads, cols, /*to_hf=*/false);
      data = copy;
    }
    GgmlType type = GgmlType::f32;
    if (spec.shape.size() == 2 && matrix_type != GgmlType::f32) {
      type = matrix_type == GgmlType::q8_0 && spec.shape[1] % 32 != 0 ? GgmlType::f16 : matrix_type;
    }
    tensors.push_back({spec.gguf_name, spec.shape, data, type});
  }
  if (!c.rope_freq_factors.empty() || c.rope_scaling.llama3) {
    // Llama 3.1's scaling as llama.cpp reads it: per-frequency divisors.
    auto& factors = owned.emplace_back(c.rope_freq_factors.empty() ? rope_freq_factors(c)
                                                                   : c.rope_freq_factors);
    tensors.push_back(
        {"rope_freqs.weight", {static_cast<std::int64_t>(factors.size())}, factors, GgmlType::f32});
  }
  write_gguf(path, metadata, tensors);
}

}  // namespace model::llama
MEZO_END_NAMESPACE
