// A decoder's weights: every tensor of the family's table in one contiguous
// fp32 buffer (so one perturbation pass covers the model), filled from a
// Hugging Face folder, a GGUF file (dequantized) or at random.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/hf_checkpoint.hpp"
#include "mezo/io/gguf.hpp"
#include "mezo/io/safetensors.hpp"
#include "mezo/model/decoder_config.hpp"
#include "mezo/params.hpp"
#include "model/llama/tensor_table.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

class DecoderWeights {
 public:
  // Throws mezo::Error naming the file and tensor for a missing tensor, a
  // shape that disagrees with the config, or a NaN/inf value.
  DecoderWeights(const DecoderConfig& config, const detail::HfCheckpoint& checkpoint,
                 bool untie_head);
  // Dequantizes every tensor straight into the buffer (no second copy of the
  // model) and undoes llama.cpp's q/k row permutation.
  DecoderWeights(const DecoderConfig& config, const GgufFile& file, bool untie_head);
  // N(0, 0.02²) matrices from the counter-based generator (a pure function
  // of seed and element index), unit norm gains, zero biases.
  DecoderWeights(const DecoderConfig& config, std::uint64_t seed, bool untie_head);

  DecoderWeights(DecoderWeights&&) noexcept = default;
  DecoderWeights& operator=(DecoderWeights&&) noexcept = default;

  const ParamSet& params() const { return params_; }
  const std::vector<TensorSpec>& table() const { return table_; }
  const LayerPointers& layer(std::size_t l) const { return layers_[l]; }
  std::size_t num_layers() const { return layers_.size(); }
  const float* embed() const { return global_[Slot::embed]; }
  const float* final_norm() const { return global_[Slot::final_norm]; }
  // The LM head: its own matrix, or the token embeddings when tied.
  const float* lm_head() const {
    return global_[Slot::lm_head] != nullptr ? global_[Slot::lm_head] : global_[Slot::embed];
  }
  float* data(std::size_t table_index) { return buffer_.data() + offsets_[table_index]; }
  const float* data(std::size_t table_index) const {
    return buffer_.data() + offsets_[table_index];
  }
  // How the source stored the tensors, e.g. "Q4_1 ×180, Q8_0 ×1, F32 ×61".
  const std::string& stored_types() const { return stored_types_; }

 private:
  DecoderWeights(const DecoderConfig& config, bool untie_head);  // lays out, zero-filled
  void index();
  void check_finite(std::size_t table_index, const std::string& file) const;

  std::vector<TensorSpec> table_;
  std::vector<std::uint64_t> offsets_;
  std::vector<float> buffer_;
  ParamSet params_;
  std::vector<LayerPointers> layers_;
  LayerPointers global_;
  std::string stored_types_;
};

}  // namespace model::llama
MEZO_END_NAMESPACE
