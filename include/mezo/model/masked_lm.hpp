// A RoBERTa / BERT encoder with its masked-LM head: the minimal transformer
// forward that MeZO fine-tunes. Loads Hugging Face checkpoints (config.json +
// model.safetensors), keeps every trainable tensor in one contiguous fp32
// buffer exposed as a ParamSet, and evaluates the MLM head only where asked:
// at the requested positions and, optionally, for the requested vocabulary ids
// (a prompt's label words need 2 of 50,265 columns).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/model/batch.hpp"
#include "mezo/model/config.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/model/peft.hpp"
#include "mezo/params.hpp"

MEZO_BEGIN_NAMESPACE

struct MaskedLMOptions {
  int num_threads = 0;  // 0 = all hardware threads
  // Give the LM head its own decoder matrix even when the checkpoint ties it
  // to the word embeddings (the MeZO paper trains an untied decoder). Costs
  // vocab × hidden extra floats.
  bool untie_decoder = false;
  // The projections' arithmetic (mezo/model/language_model.hpp).
  ComputePrecision compute = ComputePrecision::fp32;
};

class MEZO_API MaskedLM final : public LanguageModel {
 public:
  // Loads `model_dir`/config.json and `model_dir`/model.safetensors.
  static MaskedLM load(const std::filesystem::path& model_dir, const MaskedLMOptions& options = {});
  static MaskedLM load(const TransformerConfig& config, const std::filesystem::path& safetensors,
                       const MaskedLMOptions& options = {});

  // A model of `config`'s shape with random weights (N(0, 0.02²) matrices,
  // zero biases, unit LayerNorm gains): for benchmarks and tests.
  static MaskedLM random(const TransformerConfig& config, std::uint64_t seed,
                         const MaskedLMOptions& options = {});

  MaskedLM(MaskedLM&&) noexcept;
  MaskedLM& operator=(MaskedLM&&) noexcept;
  ~MaskedLM() override;

  const TransformerConfig& config() const;

  // LanguageModel: scores are the MLM head's logits (mlm_logits).
  ModelFamily family() const override { return ModelFamily::masked_lm; }
  const char* architecture() const override;
  std::int64_t vocab_size() const override { return config().vocab_size; }
  std::int64_t max_sequence_length() const override;
  void logits(const TokenBatch& batch, std::span<const TokenQuery> queries,
              std::span<const std::int32_t> vocab_ids, std::span<float> out) override {
    mlm_logits(batch, queries, vocab_ids, out);
  }

  // Writes `dir`/config.json and `dir`/model.safetensors (the current
  // weights, HF names, F32), each atomically; creates `dir` if needed.
  void save_pretrained(const std::filesystem::path& dir) const override;
  // False for a checkpoint without the MLM head's tensors (an encoder such as
  // a sentence-transformers model): mlm_logits is then unavailable.
  bool has_mlm_head() const;
  // Every trainable tensor, under its Hugging Face name, in checkpoint order.
  const ParamSet& params() const override;
  std::uint64_t num_parameters() const { return params().num_elements(); }

  // MLM logits for each query: out[q × n + j] is the score of vocab_ids[j]
  // (or of id j, n = vocab size, when vocab_ids is empty) at queries[q].
  // out.size() must be queries.size() × n. Throws mezo::Error for ids outside
  // the vocabulary, a sequence longer than the position table allows, or a
  // query outside its row's real tokens.
  void mlm_logits(const TokenBatch& batch, std::span<const MaskQuery> queries,
                  std::span<const std::int32_t> vocab_ids, std::span<float> out);

  // The mean of each row's last hidden states over its real tokens (the
  // pooling sentence-transformers models are trained with), [rows × hidden].
  void mean_pooled(const TokenBatch& batch, std::span<float> out);

  // The encoder's last hidden states, [rows × seq_len × hidden] (padding
  // positions included, as the reference computes them).
  void last_hidden_state(const TokenBatch& batch, std::span<float> out);

  // ---- Parameter-efficient fine-tuning (options in mezo/model/peft.hpp) ----
  //
  // enable_lora / enable_prefix add trainable tensors to the PEFT buffer, a
  // contiguous fp32 buffer separate from the base weights, and change every
  // later forward (mlm_logits, mean_pooled, last_hidden_state). Both may be
  // enabled, once each; peft_params() lists the tensors in the order the
  // methods were enabled, and enabling the second one re-lays the buffer, so
  // take peft_params() after the last enable. Train with
  //   mezo::step(model.peft_params(), ...)
  // and params() (the base) is never perturbed or written (LoraOptions::
  // train_head adds the MLM head's own tensors, which then do change).
  // Throws mezo::Error for bad options (rank < 1, alpha not finite or <= 0,
  // an unknown or repeated target, tokens < 0, a prefix longer than the
  // position table allows), for enabling a method twice, and while LoRA is
  // merged.
  void enable_lora(const LoraOptions& options) override;
  void enable_prefix(const PrefixOptions& options) override;
  bool lora_enabled() const;
  bool prefix_enabled() const;
  // The trainable PEFT tensors (empty before any enable): LoRA factors named
  // "encoder.layer.L.attention.self.query.lora_A.weight" (A: rank × in) and
  // "...lora_B.weight" (B: out × rank); prefix tensors
  // "encoder.layer.L.attention.prefix_key" / "prefix_value" (tokens × hidden).
  const ParamSet& peft_params() const override;
  // The vocabulary ids whose activations initialised the prefix (empty for a
  // random init), in order: the prefix of layer L, row i, is the key/value the
  // frozen model computes at position i of this sequence.
  std::span<const std::int32_t> prefix_token_ids() const;

  // LoRA export (LanguageModel::merge_lora).
  void merge_lora() override;
  void unmerge_lora() override;
  bool lora_merged() const override;

 private:
  struct Impl;
  explicit MaskedLM(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

MEZO_END_NAMESPACE
