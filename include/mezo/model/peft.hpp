// Parameter-efficient MeZO (MeZO paper §3.3, ../shared/guide/MEZO.md §1): the
// options of LoRA and prefix tuning on a MaskedLM. The model keeps its base
// weights frozen and puts the trainable PEFT tensors in a buffer of their own;
// MaskedLM::peft_params() is the ParamSet a MeZO step perturbs, so z is drawn
// over the PEFT elements only and the base is never written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// The linear maps of a layer LoRA can adapt, by role (encoder module / decoder module).
enum class LoraTarget {
  query,             // q: attention.self.query / self_attn.q_proj
  key,               // k: attention.self.key / self_attn.k_proj
  value,             // v: attention.self.value / self_attn.v_proj
  attention_output,  // o: attention.output.dense / self_attn.o_proj
  intermediate,      // up: intermediate.dense / mlp.up_proj
  output,            // down: output.dense / mlp.down_proj
  gate,              // gate: mlp.gate_proj (decoders only)
};

// "query", "key", "value", "attention_output", "intermediate", "output", "gate".
MEZO_API const char* to_string(LoraTarget target) noexcept;
// The inverse of to_string, also taking the short role names q, k, v, o, up,
// down; throws mezo::Error naming the valid targets.
MEZO_API LoraTarget parse_lora_target(std::string_view name);

struct LoraOptions {
  // y = x·Wᵀ + b + (alpha / rank)·(x·Aᵀ)·Bᵀ with A (rank × in), B (out × rank).
  // rank 8, alpha 16 on query and value are the MeZO paper's LoRA setting
  // (after Hu et al.); the scale alpha / rank keeps the update's size roughly
  // independent of the rank.
  int rank = 8;
  float alpha = 16.0f;
  std::vector<LoraTarget> targets = {LoraTarget::query, LoraTarget::value};
  // A is Kaiming-uniform with a = √5 (U(−1/√in, 1/√in), what nn.Linear and
  // the LoRA reference use), B is zero: the adapted model starts equal to the
  // base model, bit for bit. A is drawn with Philox keyed by `seed`, so the
  // initial factors are a pure function of (seed, shapes) on every platform:
  // with the seed log, the seed is the whole checkpoint of a LoRA run.
  std::uint64_t seed = 0;
  // Also train the MLM head's own tensors (dense, LayerNorm, decoder bias and
  // an untied decoder; never a decoder tied to the word embeddings). They are
  // views onto the model's weights, so these head tensors do change; the
  // encoder stays frozen. Requires an MLM head.
  bool train_head = false;
};

enum class PrefixInit {
  // The keys and values the frozen model computes for `tokens` random
  // vocabulary tokens run through it as one sequence (the paper calls this
  // initialisation crucial; Li & Liang 2021 found the same).
  real_activations,
  // N(0, random_std²) for every element.
  random,
};

MEZO_API const char* to_string(PrefixInit init) noexcept;      // "real", "random"
MEZO_API PrefixInit parse_prefix_init(std::string_view name);  // throws mezo::Error

struct PrefixOptions {
  // m trainable key and value vectors per layer (all heads: hidden_size
  // floats each), prepended in attention: every query attends to the m prefix
  // positions and then its row's real keys. 5 is the paper's setting; 0 is an
  // empty prefix (the base model's forward, bit for bit).
  int tokens = 5;
  PrefixInit init = PrefixInit::real_activations;
  // Picks the random tokens (real_activations) or the random values, with
  // Philox: the initial prefix is a pure function of (seed, model).
  std::uint64_t seed = 0;
  // Small, so that a random prefix starts close to neutral: tiny keys give
  // its positions about the average attention weight, tiny values add
  // little to the context.
  float random_std = 0.02f;
};

MEZO_END_NAMESPACE
