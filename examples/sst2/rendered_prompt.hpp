// Prompts of the --task tasks (tasks.hpp) for causal LMs, tokenised as the
// MeZO reference code's encode_prompt does: the prompt text alone, and the
// prompt followed by each candidate; candidate k's tokens are the last
// len(tokens(verbalized k)) − len(tokens(prompt)) tokens of the latter, the
// prompt's tokens come first and the model scores the candidate after them.
// (Both tokenisations share the prompt's tokens whenever the candidate starts
// a new pre-token — after "\n" or " ", as in every built-in template; the
// prompt's own tokens are used, and a candidate whose text would merge with
// the prompt's end is refused.) A prompt longer than max_length with its
// longest candidate loses tokens from the left (after BOS), as the
// reference's left truncation does. For a generation task the prompt also
// leaves room for the answer it will generate (kMaxAnswerTokens), as the
// reference's generation does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mezo/text/tokenizer.hpp"
#include "prompt.hpp"

namespace sst2 {

class RenderedPrompt final : public Prompt {
 public:
  // `description` names the template in reports ("the MeZO paper's RTE
  // template"); `answers` names the candidates (label words or "choice 1"...).
  RenderedPrompt(const mezo::Tokenizer& tokenizer, std::string description,
                 std::vector<std::string> answers, int max_length, int generated_tokens = 0);

  // Throws mezo::Error for an example without candidates, a candidate that
  // adds no tokens or changes the prompt's tokens, or one longer than
  // max_length leaves room for.
  EncodedExample encode(const Example& example) const override;

 private:
  const mezo::Tokenizer& tokenizer_;
  int generated_tokens_;  // the room a generation task keeps after the prompt
};

}  // namespace sst2
