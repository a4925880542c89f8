#include <fmt/format.h>

#include <algorithm>
#include <mezo/error.hpp>
#include <numeric>

#include "commands.hpp"

namespace lm {

// The model's k most likely next tokens after the prompt (causal LMs), or at
// the mask token the prompt holds (masked LMs).
int top(const Common& common, const std::string& prompt, int k) {
  const Loaded loaded = load(common, /*with_model=*/true, /*with_tokenizer=*/true);
  mezo::LanguageModel& model = *loaded.model;
  const auto ids = encode_for_model(*loaded.tokenizer, prompt);
  if (ids.empty()) throw mezo::Error(mezo::ErrorCode::invalid_argument, "the prompt has no tokens");
  std::int64_t position = static_cast<std::int64_t>(ids.size()) - 1;
  if (model.family() == mezo::ModelFamily::masked_lm) {
    const std::int32_t mask = loaded.tokenizer->special_tokens().mask;
    const auto it = std::find(ids.begin(), ids.end(), mask);
    if (mask < 0 || it == ids.end()) {
      throw mezo::Error(mezo::ErrorCode::invalid_argument,
                        "a masked LM scores a mask token: put the tokenizer's mask token (e.g. "
                        "<mask> or [MASK]) in the prompt");
    }
    position = it - ids.begin();
  }
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const mezo::TokenBatch batch = mezo::TokenBatch::pad(rows, 0);
  const mezo::TokenQuery query{0, position};
  std::vector<float> logits(static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, {&query, 1}, {}, logits);
  const double lse = log_sum_exp(logits);
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  const auto shown = std::min<std::size_t>(static_cast<std::size_t>(k), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                    [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b]; });
  fmt::print("prompt ids: {}\n", fmt::join(ids, " "));
  fmt::print("{:>4}  {:>8}  {:>10}  {}\n", "rank", "id", "log-prob", "token");
  for (std::size_t r = 0; r < shown; ++r) {
    const std::int32_t id = order[r];
    const std::int32_t one[] = {id};
    fmt::print("{:>4}  {:>8}  {:>10.4f}  {}\n", r + 1, id, logits[id] - lse,
               quoted(loaded.tokenizer->decode(one)));
  }
  return 0;
}

}  // namespace lm
