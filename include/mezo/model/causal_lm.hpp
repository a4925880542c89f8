// A Llama-family decoder (Llama 1–3.x, SmolLM, Qwen2) with its LM head: the
// model MeZO fine-tunes in the paper's large-model setting. Loads a Hugging
// Face folder (config.json + model.safetensors or sharded) or a GGUF file
// (quantized tensors dequantized into fp32 masters: MeZO's ε = 1e-3 is far
// below a Q4 step), keeps every tensor in one contiguous fp32 buffer exposed
// as a ParamSet, and evaluates the LM head only where asked: at the queried
// positions and for the asked ids (a prompt's two label words need 2 of
// 49,152 rows of a tied head).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "mezo/config.hpp"
#include "mezo/io/gguf.hpp"
#include "mezo/model/batch.hpp"
#include "mezo/model/decoder_config.hpp"
#include "mezo/model/language_model.hpp"

MEZO_BEGIN_NAMESPACE

// The keys and values of the tokens one CausalLM has read so far, so that
// generating a token costs a forward of that token alone (CausalLM::decode).
// Starts empty; the first decode() ties it to its model, clear() unties it.
// The entries are the weights' at the time they were computed: after a
// training step (or enabling PEFT, merging LoRA), clear() and decode again.
class MEZO_API KvCache {
 public:
  KvCache();
  KvCache(KvCache&&) noexcept;
  KvCache& operator=(KvCache&&) noexcept;
  ~KvCache();

  // Tokens decoded since the last clear() (a prefix-tuning prefix not counted).
  std::int64_t tokens() const;
  // Forgets every token and the model; the memory is kept for reuse.
  void clear();

 private:
  friend class CausalLM;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class MEZO_API CausalLM final : public LanguageModel {
 public:
  // `path`: a folder with config.json and model.safetensors (or
  // model.safetensors.index.json and its shards), or a .gguf file.
  static CausalLM load(const std::filesystem::path& path, const ModelOptions& options = {});
  // A model of `config`'s shape with random weights (N(0, 0.02²) matrices,
  // unit norm gains, zero biases), for benchmarks and tests.
  static CausalLM random(const DecoderConfig& config, std::uint64_t seed,
                         const ModelOptions& options = {});

  CausalLM(CausalLM&&) noexcept;
  CausalLM& operator=(CausalLM&&) noexcept;
  ~CausalLM() override;

  const DecoderConfig& config() const;
  // How the checkpoint stored its tensors, e.g. "Q4_1 ×180, F32 ×61, Q8_0 ×1".
  const std::string& stored_types() const;

  ModelFamily family() const override { return ModelFamily::causal_lm; }
  const char* architecture() const override;
  std::int64_t vocab_size() const override;
  std::int64_t max_sequence_length() const override;
  // Every tensor under its Hugging Face name, in the family table's order
  // (a tied head once, as the embedding).
  const ParamSet& params() const override;
  const ParamSet& peft_params() const override;
  // Parameter-efficient fine-tuning, as MaskedLM's (mezo/model/peft.hpp):
  // the trainable tensors go to peft_params() and the base is never written.
  // LoRA adapts the projections by role (q, k, v, o, gate, up, down; the
  // default q and v), factors named "model.layers.L.self_attn.q_proj.lora_A
  // .weight" (A: rank × in) and "...lora_B.weight" (B: out × rank);
  // train_head adds the final norm and an untied LM head. Prefix tuning adds
  // m keys and values per layer shaped for grouped-query attention
  // ("model.layers.L.self_attn.prefix_key" / "prefix_value", m × kv_heads·
  // head_dim); keys are stored after RoPE at positions 0..m−1 and every
  // sequence then takes positions m, m+1, ..., so the real-activation init
  // is exactly a key/value cache of m random tokens. Throws mezo::Error for
  // bad options or enabling a method twice.
  void enable_lora(const LoraOptions& options) override;
  void enable_prefix(const PrefixOptions& options) override;
  // LoRA export (LanguageModel::merge_lora): merged, save_gguf writes the
  // adapted model as a plain checkpoint that llama.cpp runs.
  void merge_lora() override;
  void unmerge_lora() override;
  bool lora_merged() const override;
  // The vocabulary ids whose keys and values initialised the prefix (empty
  // for a random init), in position order.
  std::span<const std::int32_t> prefix_token_ids() const;

  // Next-token logits: out[q × n + j] is the score of vocab_ids[j] (all ids
  // when empty) as the token after queries[q]. Positions are 0, 1, ... from
  // each row's start (right padding); causal attention. Throws mezo::Error
  // for a bad batch, a query outside its row's real tokens, or a bad id.
  void logits(const TokenBatch& batch, std::span<const TokenQuery> queries,
              std::span<const std::int32_t> vocab_ids, std::span<float> out) override;

  // Incremental decoding: reads `ids` after the tokens already in `cache`,
  // appends their keys and values to it, and writes the next-token logits
  // after the last of them (vocab_size() floats) to `next_logits`. Equal to
  // logits() over the whole sequence up to float rounding (the attention sums
  // are split at the cache boundary). Uses the trained model (PEFT adapters
  // when enabled), as logits() does. Throws mezo::Error for empty `ids`, an
  // id out of range, a sequence longer than max_sequence_length(), an output
  // of the wrong size, or a cache another model filled; the cache is then
  // unchanged.
  void decode(KvCache& cache, std::span<const std::int32_t> ids, std::span<float> next_logits);

  // config.json + model.safetensors (F32, Hugging Face names; a tied head is
  // not written, as transformers does), each file atomically.
  void save_pretrained(const std::filesystem::path& dir) const override;

  // A GGUF v3 file that llama.cpp runs: the family table's GGUF names, q/k
  // rows permuted back for llama.cpp's RoPE, llama.cpp's metadata keys, and
  // the tokenizer.* and general.* metadata of the GGUF file the model was
  // loaded from, carried over (a model loaded from a Hugging Face folder has
  // none to carry). Matrices are stored as `matrix_type` (F32, F16 or Q8_0; a
  // matrix whose rows are not whole Q8_0 blocks is stored F16), norms and
  // biases as F32. Written atomically.
  void save_gguf(const std::filesystem::path& path, GgmlType matrix_type = GgmlType::f32) const;

 private:
  struct Impl;
  explicit CausalLM(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

MEZO_END_NAMESPACE
