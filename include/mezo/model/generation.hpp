// Text generation with a CausalLM: the prompt is read once into a key/value
// cache (CausalLM::decode), then one token at a time is chosen and read —
// greedily or by seeded sampling — until a stop token or a length limit.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/model/causal_lm.hpp"

MEZO_BEGIN_NAMESPACE

struct GenerationOptions {
  std::int64_t max_new_tokens = 128;  // at most this many tokens after the prompt
  // 0: greedy (the highest logit; the lowest id on a tie). > 0: sampled from
  // softmax(logits / temperature).
  float temperature = 0.0f;
  // Sampling keeps only the top_k highest logits (0: all of them).
  std::int64_t top_k = 0;
  // Token i's draw is a function of (seed, i) alone: the same seed, prompt and
  // model give the same tokens on any number of threads.
  std::uint64_t seed = 0;
  // Generation ends after one of these (it is the last id returned).
  std::vector<std::int32_t> stop_ids;
};

enum class GenerationStop {
  stop_token,      // a stop id was generated
  max_new_tokens,  // max_new_tokens were generated
  context_full,    // the model's positions ran out
};

MEZO_API const char* to_string(GenerationStop stop) noexcept;  // "stop token", ...

struct Generation {
  std::vector<std::int32_t> ids;  // the generated tokens (the prompt not included)
  GenerationStop stop = GenerationStop::max_new_tokens;
};

// Called with each token as it is chosen (e.g. to print it); may be empty.
using TokenCallback = std::function<void(std::int32_t id)>;

// The continuation of `prompt` (ids as the model expects them, BOS included
// if its tokenizer adds one). Uses the trained model (PEFT adapters when
// enabled). Throws mezo::Error for an empty prompt or one that fills the
// model's positions, an id out of range, a negative or non-finite
// temperature, max_new_tokens < 0, top_k < 0, or a stop id out of range.
MEZO_API Generation generate(CausalLM& model, std::span<const std::int32_t> prompt,
                             const GenerationOptions& options = {},
                             const TokenCallback& on_token = {});

// The id a generation step takes from next-token `logits` (vocab floats):
// the argmax when temperature is 0, else a draw from the tempered softmax
// with the uniform number u in [0, 1). Exposed for tests and custom loops.
MEZO_API std::int32_t choose_token(std::span<const float> logits, float temperature,
                                   std::int64_t top_k, double u);

MEZO_END_NAMESPACE
