// generate(): the prompt through CausalLM::decode once, then one token at a
// time; choose_token() picks each from the next-token logits.
#include "mezo/model/generation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, "generate: " + message);
}

// A uniform double in [0, 1) from 53 bits of the counter-based stream:
// step i's draw depends on (seed, i) alone.
double uniform(std::uint64_t seed, std::int64_t step) {
  const rng::Philox4x32 block = rng::philox_block(seed, static_cast<std::uint64_t>(step));
  const std::uint64_t bits = (std::uint64_t{block.v[0]} << 32 | block.v[1]) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

void check_options(const GenerationOptions& options, std::int64_t vocab) {
  if (options.max_new_tokens < 0)
    fail(fmt::format("max_new_tokens must be >= 0, got {}", options.max_new_tokens));
  if (!std::isfinite(options.temperature) || options.temperature < 0.0f)
    fail(fmt::format("temperature must be finite and >= 0, got {}", options.temperature));
  if (options.top_k < 0) fail(fmt::format("top_k must be >= 0, got {}", options.top_k));
  for (const std::int32_t id : options.stop_ids) {
    if (id < 0 || id >= vocab)
      fail(fmt::format("stop id {} is outside the vocabulary [0, {})", id, vocab));
  }
}

}  // namespace

const char* to_string(GenerationStop stop) noexcept {
  switch (stop) {
    case GenerationStop::stop_token: return "stop token";
    case GenerationStop::max_new_tokens: return "max new tokens";
    case GenerationStop::context_full: return "context full";
  }
  return "?";
}

std::int32_t choose_token(std::span<const float> logits, float temperature, std::int64_t top_k,
                          double u) {
  if (logits.empty()) throw Error(ErrorCode::invalid_argument, "choose_token: no logits");
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("choose_token: the logit of id {} is NaN", i));
    }
  }
  const auto by_logit = [&](std::int32_t a, std::int32_t b) {  // higher first, then lower id
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  };
  const auto vocab = static_cast<std::int64_t>(logits.size());
  if (temperature == 0.0f) {
    std::int32_t best = 0;
    for (std::int32_t i = 1; i < vocab; ++i)
      if (by_logit(i, best)) best = i;
    return best;
  }
  // The candidates in a fixed order: by id, or by rank when cut to the top k.
  std::vector<std::int32_t> candidates(static_cast<std::size_t>(vocab));
  std::iota(candidates.begin(), candidates.end(), 0);
  if (top_k > 0 && top_k < vocab) {
    std::partial_sort(candidates.begin(), candidates.begin() + top_k, candidates.end(), by_logit);
    candidates.resize(static_cast<std::size_t>(top_k));
  }
  double max = -INFINITY;
  for (const std::int32_t i : candidates) max = std::max(max, double{logits[i]});
  std::vector<double> weights(candidates.size());
  double sum = 0.0;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    weights[j] = std::exp((logits[candidates[j]] - max) / temperature);
    sum += weights[j];
  }
  const double target = u * sum;
  double cumulative = 0.0;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    cumulative += weights[j];
    if (target < cumulative) return candidates[j];
  }
  return candidates.back();  // u·sum rounded up to the total
}

Generation generate(CausalLM& model, std::span<const std::int32_t> prompt,
                    const GenerationOptions& options, const TokenCallback& on_token) {
  const std::int64_t vocab = model.vocab_size();
  const std::int64_t positions = model.max_sequence_length();
  check_options(options, vocab);
  if (prompt.empty()) fail("the prompt has no tokens (a decoder needs at least one, e.g. BOS)");
  if (static_cast<std::int64_t>(prompt.size()) > positions) {
    fail(fmt::format("the prompt's {} tokens are more than the model's {} positions",
                     prompt.size(), positions));
  }
  Generation out;
  if (options.max_new_tokens == 0) return out;
  KvCache cache;
  std::vector<float> logits(static_cast<std::size_t>(vocab));
  model.decode(cache, prompt, logits);
  for (std::int64_t i = 0;; ++i) {
    const std::int32_t id = choose_token(logits, options.temperature, options.top_k,
                                         options.temperature > 0 ? uniform(options.seed, i) : 0.0);
    out.ids.push_back(id);
    if (on_token) on_token(id);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) {
      out.stop = GenerationStop::stop_token;
      break;
    }
    if (i + 1 == options.max_new_tokens) {
      out.stop = GenerationStop::max_new_tokens;
      break;
    }
    // The token just chosen takes the next position; none left, no next token.
    if (static_cast<std::int64_t>(prompt.size()) + i + 1 > positions) {
      out.stop = GenerationStop::context_full;
      break;
    }
    model.decode(cache, {&id, 1}, logits);
  }
  return out;
}

MEZO_END_NAMESPACE
