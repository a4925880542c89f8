// The Llama-family forward on the CPU, over the batch's real tokens only: the
// batch is packed row after row without padding, positions count from each
// row's start, attention is causal within each row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mezo/model/batch.hpp"
#include "mezo/model/decoder_config.hpp"
#include "model/llama/decoder_weights.hpp"
#include "model/llama/rope_frequencies.hpp"
#include "model/ops/ops.hpp"
#include "model/ops/projector.hpp"
#include "model/peft/peft_state.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

// The parameter-efficient tensors a forward applies; all null for the frozen
// base model.
struct Adapters {
  const LoraState* lora = nullptr;      // applied when enabled
  const PrefixState* prefix = nullptr;  // applied when enabled
  const PeftBuffer* buffer = nullptr;   // where their tensors live
  std::int64_t prefix_tokens() const {
    return prefix != nullptr && prefix->enabled ? prefix->tokens : 0;
  }
};

// The keys (after RoPE) and values of the positions a sequence has been
// through so far, per layer, for incremental decoding: a run with a cache
// takes the positions after them, attends to them first and appends its own.
// A prefix (prefix tuning) is the cache's first entries.
struct DecoderCache {
  std::vector<std::vector<float>> keys, values;  // [layer][length × kv_heads·head_dim]
  std::int64_t length = 0;                       // positions held
};

class DecoderForward {
 public:
  // Throws mezo::Error when `compute` is unavailable (cpu::Projector).
  explicit DecoderForward(ComputePrecision compute) : project_(compute) {}

  // Runs every layer; the last hidden states of the real tokens are then
  // hidden(row, position). With a prefix of m positions, a sequence's tokens
  // take positions m, m+1, ... as if the m prefix tokens came before it (the
  // prefix holds keys already rotated for positions 0..m−1, as a key/value
  // cache does), so the real-activation init equals prepending those tokens.
  // `capture`, if given, receives each layer's keys (after RoPE) and values,
  // [layer][k, v][Σ lengths × kv_heads·head_dim].
  // `cache`, if given, takes the place of the prefix: the batch (one row)
  // continues the cached positions and is appended to them. Nothing in the
  // cache changes when the run throws.
  void run(const DecoderConfig& config, const DecoderWeights& weights, const RopeTables& rope,
           const Adapters& adapters, const TokenBatch& batch, int threads,
           std::vector<float>* capture = nullptr, DecoderCache* cache = nullptr);

  // (hidden_size) floats: the last hidden state of a real token of the last run.
  const float* hidden(std::int64_t row, std::int64_t position) const;

 private:
  // Fills row_offsets_, positions_ and the token embeddings (times
  // embed_scale); returns Σ lengths.
  std::int64_t pack(const TokenBatch& batch, std::int64_t first_position, std::int64_t hidden_size,
                    const float* embed, float embed_scale);
  // x ← x + o(attention(rope(q), rope(k), v)) of rms_norm(x), for layer l
  // (Gemma 3: q and k RMS-normed per head before RoPE, the output RMS-normed
  // before the sum; a local layer's window and RoPE base).
  void attention_block(std::size_t l, std::int64_t n, const cpu::AttentionShape& shape,
                       const TokenBatch& batch, int threads, std::vector<float>* capture,
                       DecoderCache* cache);
  // x ← x + down(silu(gate(h)) · up(h)), h = rms_norm(x), for layer l
  // (Gemma 3: GELU_tanh for SiLU, the output RMS-normed before the sum).
  void mlp_block(std::size_t l, std::int64_t n);
  // y += LoRA(x) when layer l's `target` is adapted.
  void adapt(std::size_t l, LoraTarget target, const float* x, std::int64_t n, float* y);

  cpu::Projector project_;  // q, k, v, o, gate, up, down
  // The run's inputs, for the blocks.
  const DecoderConfig* config_ = nullptr;
  const DecoderWeights* weights_ = nullptr;
  const RopeTables* rope_ = nullptr;
  Adapters adapters_;
  // Activations, grown to the largest batch seen and then reused.
  std::vector<float> hidden_, normed_, q_, k_, v_, context_, projected_, gate_, up_, scratch_;
  std::vector<float> lora_t_, lora_u_;
  std::vector<std::int32_t> positions_;
  std::vector<std::int64_t> row_offsets_;
};

}  // namespace model::llama
MEZO_END_NAMESPACE
