// SST-2 as a model sees it: the prompt that encodes a sentence and the scorer
// that turns the model's output into label scores. make_task is the one place
// where the model's family decides them:
//   masked LM with an MLM head:    MaskedPrompt + the MLM head at the mask
//   masked LM without (MiniLM):    the sentence alone + the cosine head
//   causal LM:                     CausalPrompt + the LM head after the prompt
#pragma once

#include <memory>

#include "mezo/model/language_model.hpp"
#include "mezo/text/tokenizer.hpp"
#include "options.hpp"
#include "prompt.hpp"
#include "scorer.hpp"

namespace sst2 {

struct Task {
  std::unique_ptr<Prompt> prompt;
  std::unique_ptr<LabelScorer> scorer;
};

// The task for `model` (which the scorer keeps a reference to, as the prompt
// does to `tokenizer`) under o.head, o.prompt and o.cosine_scale. Throws
// mezo::Error for a head the model cannot have, a template or label words
// the family refuses, or a --max-length beyond the model's longest sequence.
Task make_task(mezo::LanguageModel& model, const mezo::Tokenizer& tokenizer, const TrainOptions& o);

}  // namespace sst2
