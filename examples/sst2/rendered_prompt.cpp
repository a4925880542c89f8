#include "rendered_prompt.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

std::string excerpt(const std::string& text) {
  return text.size() <= 60 ? text : text.substr(0, 57) + "...";
}

}  // namespace

RenderedPrompt::RenderedPrompt(const mezo::Tokenizer& tokenizer, std::string description,
                               std::vector<std::string> answers, int max_length,
                               int generated_tokens)
    : Prompt({.template_text = std::move(description),
              .label_words = std::move(answers),
              .max_length = max_length}),
      tokenizer_(tokenizer),
      generated_tokens_(generated_tokens) {}

EncodedExample RenderedPrompt::encode(const Example& example) const {
  if (example.verbalized.empty()) fail(fmt::format("example '{}' has no candidates", excerpt(example.text)));
  const auto& special = tokenizer_.special_tokens();
  const bool bos = special.add_begin && special.begin >= 0;
  const auto prompt = tokenizer_.encode(example.text);
  EncodedExample out;
  out.label = example.label;
  out.gold_answers = example.gold_answers;
  std::size_t longest = 0;
  for (const std::string& verbalized : example.verbalized) {
    const auto full = tokenizer_.encode(verbalized);
    if (full.size() <= prompt.size() || !std::equal(prompt.begin(), prompt.end(), full.begin())) {
      fail(fmt::format("candidate '{}' of example '{}' adds no tokens after the prompt's or "
                       "changes them",
                       excerpt(verbalized.substr(std::min(example.text.size(), verbalized.size()))),
                       excerpt(example.text)));
    }
    out.candidates.emplace_back(full.begin() + static_cast<std::ptrdiff_t>(prompt.size()),
                                full.end());
    longest = std::max(longest, out.candidates.back().size());
  }
  longest = std::max(longest, static_cast<std::size_t>(generated_tokens_));
  const std::size_t room = static_cast<std::size_t>(options_.max_length) - (bos ? 1 : 0);
  if (longest + 1 > room) {
    fail(fmt::format("a {}-token candidate leaves no room for the prompt in --max-length {}",
                     longest, options_.max_length));
  }
  const std::size_t keep = std::min(prompt.size(), room - longest);  // left truncation
  if (bos) out.ids.push_back(special.begin);
  out.ids.insert(out.ids.end(), prompt.end() - static_cast<std::ptrdiff_t>(keep), prompt.end());
  out.query_position = static_cast<std::int64_t>(out.ids.size()) - 1;
  return out;
}

}  // namespace sst2
