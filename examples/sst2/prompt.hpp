// Prompts: an example as the token ids a language model scores. For SST-2,
// one implementation per model family: MaskedPrompt (masked_prompt.hpp: the
// label word goes where the mask is) and CausalPrompt (causal_prompt.hpp: the
// label word follows the prompt); for the other tasks (--task), RenderedPrompt
// (rendered_prompt.hpp: a prompt the task's template wrote, then each
// candidate). task.cpp picks one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/data/labeled_text.hpp"

namespace sst2 {

// One example before tokenisation.
struct Example {
  // SST-2: the sentence as the file has it. A --task: the whole prompt its
  // template wrote (tasks.hpp).
  std::string text;
  std::int32_t label = 0;  // the right label, or candidate
  // A --task: the prompt followed by each candidate answer, as the template
  // writes them (the candidate's tokens are what these add to the prompt's).
  // Empty for SST-2, whose prompt adds its label words.
  std::vector<std::string> verbalized;
  // A generation task (SQuAD, DROP): every accepted answer, which judge what
  // the model generates; verbalized[0] is the prompt followed by the first.
  std::vector<std::string> gold_answers;
};

std::vector<Example> to_examples(const std::vector<mezo::LabeledExample>& labeled);

struct PromptOptions {
  // "{sentence}" is replaced by the sentence and "{mask}" marks where the
  // label word goes; the text around them is tokenised piece by piece.
  // Empty = the default of the model family.
  std::string template_text;
  std::vector<std::string> label_words;  // one per label; empty = the default
  int max_length = 128;                  // tokens, specials (and a decoder's label word) included
};

struct EncodedExample {
  std::vector<std::int32_t> ids;  // specials included
  // The position whose scores decide the label: the mask (masked LM), or the
  // last prompt token, after which the label word would come (causal LM).
  std::int64_t query_position = -1;
  std::int32_t label = 0;
  // Each candidate's token ids when they are the example's own (a --task);
  // empty: the prompt's shared candidates (SST-2's label words).
  std::vector<std::vector<std::int32_t>> candidates;
  std::vector<std::string> gold_answers;  // Example::gold_answers
};

class Prompt {
 public:
  virtual ~Prompt() = default;
  virtual EncodedExample encode(const Example& example) const = 0;
  // The template and label words in use (the defaults filled in).
  const std::string& template_text() const { return options_.template_text; }
  const std::vector<std::string>& label_words() const { return options_.label_words; }

 protected:
  explicit Prompt(PromptOptions options) : options_(std::move(options)) {}
  PromptOptions options_;
};

// The first `limit` examples (all when limit <= 0), encoded by `prompt`.
std::vector<EncodedExample> encode_all(const std::vector<Example>& examples,
                                       const Prompt& prompt, std::int64_t limit);

// A template cut at its placeholders: the text before the first, between the
// two, and after the last.
struct TemplateParts {
  std::string before, between, after;
  bool sentence_first = true;  // {sentence} comes before {mask}
  bool has_mask = true;        // false: only {sentence} (then between is empty)
};

inline constexpr std::string_view kSentenceSlot = "{sentence}";
inline constexpr std::string_view kMaskSlot = "{mask}";

// Throws mezo::Error naming the template when it lacks {sentence}, or lacks
// {mask} while `mask_required`.
TemplateParts split_template(const std::string& text, bool mask_required);

// SST-2 sentences end in a space before the tab; a trailing space would
// become a token of its own (byte-level BPE's "Ġ"), so it is trimmed, as the
// reference code's .strip() does.
std::string trimmed(const std::string& text);

// `text` without the ASCII whitespace at its ends, as Python's str.strip()
// has it for ASCII text (the reference's templates and answers use it).
std::string stripped(const std::string& text);

}  // namespace sst2
