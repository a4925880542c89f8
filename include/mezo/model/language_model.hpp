// The one contract a training loop sees, whatever the model family: the
// parameters to perturb, parameter-efficient variants, scores at queried
// positions for chosen vocabulary ids, and saving. MaskedLM (BERT/RoBERTa
// encoders with their MLM head) and CausalLM (Llama/Qwen2 decoders with their
// LM head) implement it; load_model picks the family from the checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mezo/config.hpp"
#include "mezo/model/batch.hpp"
#include "mezo/model/peft.hpp"
#include "mezo/params.hpp"

MEZO_BEGIN_NAMESPACE

enum class ModelFamily {
  masked_lm,  // scores the token at a position (prompts with a <mask>)
  causal_lm,  // scores the token after a position (next-token prediction)
};

MEZO_API const char* to_string(ModelFamily family) noexcept;  // "masked LM", "causal LM"

// The arithmetic of a CPU forward's projections: the q/k/v/o and MLP matrix
// products of every layer, nearly all of its work. The master weights stay
// fp32 in both modes, so perturbations, restores, updates and replay() are
// exact either way; only the forward's rounding differs.
enum class ComputePrecision {
  fp32,  // fp32 products (the default)
  // The products' inputs (activations and weights) rounded to bf16, nearest
  // with ties to even, and accumulated in fp32 (oneDNN's bf16 matmul, on
  // AVX512_BF16 or AMX where the CPU has them). Norms, softmax, the residual
  // stream, RoPE, LoRA's low-rank factors, the head (an encoder's MLM head, a
  // decoder's LM head) and the loss stay fp32. The bits are as independent of
  // the thread count as fp32's. Loading a model with it throws mezo::Error
  // (unsupported) when libmezo was built without oneDNN or oneDNN has no fast
  // bf16 matmul for the CPU (it needs AVX-512 at least).
  bf16,
};

MEZO_API const char* to_string(ComputePrecision precision) noexcept;  // "fp32", "bf16"
// "fp32" or "bf16" → the precision; throws mezo::Error (invalid_argument) naming the text.
MEZO_API ComputePrecision parse_compute_precision(std::string_view text);
// Whether models can be loaded with `precision` here (this libmezo, this
// CPU); when not, `why_not` (if given) receives the error loading one would
// throw. fp32 always can.
MEZO_API bool compute_available(ComputePrecision precision, std::string* why_not = nullptr);

class MEZO_API LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  virtual ModelFamily family() const = 0;
  // "roberta", "bert", "llama", "qwen2".
  virtual const char* architecture() const = 0;
  virtual std::int64_t vocab_size() const = 0;
  // The longest sequence a batch may hold.
  virtual std::int64_t max_sequence_length() const = 0;

  // Every base tensor, in the order that numbers z's elements (full-parameter MeZO).
  virtual const ParamSet& params() const = 0;
  // The trainable PEFT tensors after enable_lora / enable_prefix (empty before).
  virtual const ParamSet& peft_params() const = 0;
  virtual void enable_lora(const LoraOptions& options) = 0;
  virtual void enable_prefix(const PrefixOptions& options) = 0;
  // Export of a LoRA model: merge_lora() folds (alpha / rank)·B·A into each
  // adapted W, so that the base weights alone (save_pretrained, a decoder's
  // save_gguf) are the adapted model, and keeps a copy of the original
  // matrices (the adapted ones only), so that unmerge_lora() restores them
  // bit for bit rather than subtracting (which would leave rounding in the
  // frozen base). While merged the forward uses W alone, and a forward that
  // finds the LoRA factors changed since the merge throws mezo::Error:
  // training a merged model would perturb factors that never reach the
  // forward (the reference RoBERTa code's "MeZO (LoRA)" trap). Throws
  // mezo::Error without LoRA, or when already (un)merged.
  virtual void merge_lora() = 0;
  virtual void unmerge_lora() = 0;
  virtual bool lora_merged() const = 0;

  // Scores (logits) for each query: out[q × n + j] is the score of
  // vocab_ids[j] (or of id j, n = vocab_size(), when vocab_ids is empty) at
  // queries[q] — the masked-LM head's logits at that position for an
  // encoder, the LM head's next-token logits for a decoder. out.size() must
  // be queries.size() × n. Throws mezo::Error for a bad batch, query or id.
  virtual void logits(const TokenBatch& batch, std::span<const TokenQuery> queries,
                      std::span<const std::int32_t> vocab_ids, std::span<float> out) = 0;

  // Writes a Hugging Face folder (config.json + model.safetensors, F32) with
  // the current weights, atomically file by file.
  virtual void save_pretrained(const std::filesystem::path& dir) const = 0;
};

struct ModelOptions {
  int num_threads = 0;  // 0 = all hardware threads
  // Give the LM head its own matrix even when the checkpoint ties it to the
  // token embeddings (the MeZO paper trains an untied RoBERTa decoder).
  bool untie_head = false;
  // The projections' arithmetic on the CPU (see ComputePrecision).
  ComputePrecision compute = ComputePrecision::fp32;
};

// Loads a model: a Hugging Face folder (config.json's model_type: roberta,
// bert → MaskedLM; llama, qwen2 → CausalLM) or a GGUF file
// (general.architecture llama or qwen2 → CausalLM). Throws mezo::Error naming
// the path and what is wrong or unsupported.
MEZO_API std::unique_ptr<LanguageModel> load_model(const std::filesystem::path& path,
                                                   const ModelOptions& options = {});

MEZO_END_NAMESPACE
