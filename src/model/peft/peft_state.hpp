// The state behind parameter-efficient fine-tuning, shared by both model
// families: the PEFT buffer, and where the LoRA factors and prefix vectors
// live in it. The families say where LoRA can go (LoraSite) and how big a
// prefix is (PrefixShape); everything else is here and in lora.cpp/prefix.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mezo/model/peft.hpp"
#include "mezo/params.hpp"

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

// One projection LoRA can adapt: W (out × in) of `target` in `layer`, named
// after its module ("model.layers.3.self_attn.q_proj") for the factors' names.
struct LoraSite {
  std::size_t layer;
  LoraTarget target;
  std::string module;
  std::int64_t in, out;
  const float* w;
};

// lora.cpp
// Validates `options` against the sites (every listed target must have one),
// lays out the chosen sites' factors in site order in `buffer` and
// initialises them (A Kaiming-uniform from the seed, B zero).
LoraState make_lora(std::span<const LoraSite> sites, std::size_t num_layers,
                    const LoraOptions& options, PeftBuffer& buffer);
// y (n × out) += scale · (x·Aᵀ)·Bᵀ, through cpu::linear (thread-count
// independent). t and u are scratch, grown as needed.
void add_lora(const LoraState& lora, const PeftBuffer& buffer, const LoraFactor& factor,
              const float* x, std::int64_t n, float* y, std::vector<float>& t,
              std::vector<float>& u);
void merge_lora(LoraState& lora, const PeftBuffer& buffer);
void unmerge_lora(LoraState& lora);
// Throws mezo::Error if the factors differ from their snapshot at the merge.
void check_merged_factors(const LoraState& lora, const PeftBuffer& buffer);

// What a model's prefix looks like.
struct PrefixShape {
  std::int64_t layers = 0;
  std::int64_t width = 0;          // floats per position: key/value heads × head size
  std::int64_t max_tokens = 0;     // positions a sequence of prefix tokens may take
  std::int64_t vocab_size = 0;
  std::int64_t excluded_id = -1;   // never drawn for the real-activation init (-1: none)
  std::string layer_name;          // fmt pattern of a layer's tensors, "...layer.{}.attention.prefix_"
};

// prefix.cpp
void validate_prefix(const PrefixShape& shape, const PrefixOptions& options);
// The `tokens` vocabulary ids of the real-activation init (never
// shape.excluded_id), from Philox keyed by seed.
std::vector<std::int32_t> draw_prefix_tokens(const PrefixShape& shape, int tokens,
                                             std::uint64_t seed);
// Lays out the prefix tensors ("<layer_name>key", "<layer_name>value" per
// layer, tokens × width each) in `buffer`; fills them with N(0, std²) for a
// random init (the model copies real activations in otherwise).
PrefixState make_prefix(const PrefixShape& shape, const PrefixOptions& options,
                        PeftBuffer& buffer);
// Copies captured activations into the prefix: `kv` holds, per layer, the
// keys then the values of the tokens ([layer][k, v][tokens × width]).
void fill_prefix(const PrefixState& prefix, std::span<const float> kv, std::int64_t width,
                 PeftBuffer& buffer);

}  // namespace model
MEZO_END_NAMESPACE
