// The state behind MaskedLM's parameter-efficient fine-tuning: the PEFT
// buffer, and where the LoRA factors and prefix vectors live in it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/model/peft.hpp"
#include "mezo/params.hpp"
#include "model/weights.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

// The trainable PEFT tensors in one contiguous buffer, with the ParamSet over
// them. Tensors are located by offset, not pointer: adding one may move the
// buffer, after which the ParamSet is rebuilt (same object, same order).
class PeftBuffer {
 public:
  // Appends a zero-filled tensor of `size` floats; returns its offset.
  std::uint64_t add(std::string name, std::uint64_t size);
  // Appends a view onto memory the buffer does not own (the MLM head).
  void add_external(std::string name, float* data, std::uint64_t size);
  float* at(std::uint64_t offset) { return buffer_.data() + offset; }
  const float* at(std::uint64_t offset) const { return buffer_.data() + offset; }
  const ParamSet& params() const { return params_; }

 private:
  struct Entry {
    std::string name;
    std::uint64_t offset, size;
    float* external;  // null: lives in buffer_ at offset
  };
  void index();

  std::vector<Entry> entries_;
  std::vector<float> buffer_;
  ParamSet params_;
};

constexpr std::size_t kNumLoraTargets = 7;

struct LoraFactor {
  std::uint64_t a = 0, b = 0;  // offsets of A (rank × in) and B (out × rank)
  std::int64_t in = 0, out = 0;
  const float* w = nullptr;  // the adapted base matrix (out × in)
};

struct LoraState {
  bool enabled = false;
  int rank = 0;
  float scale = 0.0f;  // alpha / rank
  // factor index per layer and target (LoraTarget as index), -1 if not adapted.
  std::vector<std::array<int, kNumLoraTargets>> index;
  std::vector<LoraFactor> factors;
  bool merged = false;
  std::vector<float> saved_w;   // merged: the original adapted matrices, in factor order
  std::vector<float> snapshot;  // merged: A and B of every factor at the merge

  const LoraFactor* find(std::size_t layer, LoraTarget target) const {
    if (!enabled) return nullptr;
    const int i = index[layer][static_cast<std::size_t>(target)];
    return i < 0 ? nullptr : &factors[static_cast<std::size_t>(i)];
  }
};

struct PrefixState {
  bool enabled = false;
  std::int64_t tokens = 0;
  std::vector<std::uint64_t> keys, values;  // offsets per layer, (tokens × hidden) each
  std::vector<std::int32_t> token_ids;      // real-activation init: the tokens used
};

// lora.cpp
// Validates `options`, lays out and initialises the factors (A Kaiming-
// uniform, B zero) in `buffer`, and adds the head's views if asked.
LoraState make_lora(const TransformerConfig& config, const ModelWeights& weights,
                    const ParamSet& base, bool has_head, const LoraOptions& options,
                    PeftBuffer& buffer);
// y (n × out) += scale · (x·Aᵀ)·Bᵀ, through cpu::linear (thread-count
// independent). t and u are scratch, grown as needed.
void add_lora(const LoraState& lora, const PeftBuffer& buffer, const LoraFactor& factor,
              const float* x, std::int64_t n, float* y, std::vector<float>& t,
              std::vector<float>& u);
void merge_lora(LoraState& lora, const PeftBuffer& buffer);
void unmerge_lora(LoraState& lora);
// Throws mezo::Error if the factors differ from their snapshot at the merge.
void check_merged_factors(const LoraState& lora, const PeftBuffer& buffer);

// prefix.cpp
void validate_prefix(const TransformerConfig& config, const PrefixOptions& options);
// The `tokens` vocabulary ids of the real-activation init (never pad_token_id,
// which would change RoBERTa's position ids), from Philox keyed by seed.
std::vector<std::int32_t> draw_prefix_tokens(const TransformerConfig& config, int tokens,
                                             std::uint64_t seed);
// Lays out the prefix tensors in `buffer`; fills them with N(0, std²) for a
// random init (the caller copies real activations in otherwise).
PrefixState make_prefix(const TransformerConfig& config, const PrefixOptions& options,
                        PeftBuffer& buffer);

}  // namespace model
MEZO_END_NAMESPACE
