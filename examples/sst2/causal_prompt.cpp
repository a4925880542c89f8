#include "causal_prompt.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

PromptOptions with_defaults(PromptOptions options) {
  if (options.template_text.empty()) options.template_text = "{sentence} It was";
  if (options.label_words.empty()) options.label_words = {" terrible", " great"};
  return options;
}

bool adds_begin(const mezo::Tokenizer& tokenizer) {
  const auto& special = tokenizer.special_tokens();
  return special.add_begin && special.begin >= 0;
}

}  // namespace

CausalPrompt::CausalPrompt(const mezo::Tokenizer& tokenizer, PromptOptions options)
    : Prompt(with_defaults(std::move(options))), tokenizer_(tokenizer) {
  const TemplateParts parts = split_template(options_.template_text, /*mask_required=*/false);
  std::string after = parts.has_mask ? parts.between : parts.after;
  if (parts.has_mask && (!parts.sentence_first || !parts.after.empty())) {
    fail(
        fmt::format("template '{}': for a causal LM {} may only come last (the candidate "
                    "follows the prompt; leaving it out means the same)",
                    options_.template_text, kMaskSlot));
  }
  before_ = tokenizer_.encode(parts.before);
  after_ = tokenizer_.encode(after);
  std::size_t longest = 0;
  for (const std::string& word : options_.label_words) {
    candidates_.push_back(tokenizer_.encode(word));
    if (candidates_.back().empty()) fail(fmt::format("label word '{}' has no tokens", word));
    longest = std::max(longest, candidates_.back().size());
  }
  fixed_ = (adds_begin(tokenizer_) ? 1 : 0) + before_.size() + after_.size() + longest;
  if (static_cast<std::size_t>(options_.max_length) < fixed_ + 1) {
    fail(
        fmt::format("max length {} leaves no room for the sentence in template '{}' followed "
                    "by a {}-token candidate",
                    options_.max_length, options_.template_text, longest));
  }
}

EncodedExample CausalPrompt::encode(const Example& example) const {
  auto sentence = tokenizer_.encode(trimmed(example.text));
  const std::size_t budget = static_cast<std::size_t>(options_.max_length) - fixed_;
  if (sentence.size() > budget) sentence.resize(budget);  // tail truncation
  EncodedExample out;
  out.label = example.label;
  if (adds_begin(tokenizer_)) out.ids.push_back(tokenizer_.special_tokens().begin);
  out.ids.insert(out.ids.end(), before_.begin(), before_.end());
  out.ids.insert(out.ids.end(), sentence.begin(), sentence.end());
  out.ids.insert(out.ids.end(), after_.begin(), after_.end());
  out.query_position = static_cast<std::int64_t>(out.ids.size()) - 1;
  return out;
}

}  // namespace sst2
