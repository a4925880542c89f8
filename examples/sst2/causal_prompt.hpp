// Causal-LM prompts, as in the MeZO paper's OPT setting (its reference code's
// SST2Template): the prompt "{sentence} It was" is followed by a candidate,
// " terrible" (label 0) or " great" (label 1), and the model scores each
// candidate's tokens after the prompt. No begin token unless the model's
// tokenizer adds one (SpecialTokens::add_begin: Llama 3 yes, SmolLM2 no).
#pragma once

#include <cstdint>
#include <vector>

#include "mezo/text/tokenizer.hpp"
#include "prompt.hpp"

namespace sst2 {

class CausalPrompt final : public Prompt {
 public:
  // The template must contain {sentence}; it may end in {mask}, which marks
  // where the candidate goes and is otherwise implied at the end. Candidates
  // may be several tokens; each is tokenised on its own (so " great" keeps
  // its leading space), which gives the same ids as tokenising prompt and
  // candidate together whenever the candidate starts a new word. Throws
  // mezo::Error for {mask} anywhere but at the end, a candidate with no
  // tokens, or a max length that leaves no room for the sentence.
  CausalPrompt(const mezo::Tokenizer& tokenizer, PromptOptions options);

  // [begin] + prompt; query_position is its last token. The sentence is cut
  // from the tail so that the prompt plus the longest candidate fit max_length.
  EncodedExample encode(const Example& example) const override;

  // The token ids of each label's candidate.
  const std::vector<std::vector<std::int32_t>>& candidates() const { return candidates_; }

 private:
  const mezo::Tokenizer& tokenizer_;
  std::vector<std::int32_t> before_, after_;  // template text around {sentence}
  std::vector<std::vector<std::int32_t>> candidates_;
  std::size_t fixed_ = 0;  // tokens besides the sentence's, longest candidate included
};

}  // namespace sst2
