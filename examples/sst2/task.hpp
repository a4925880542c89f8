// SST-2 as a model sees it: the prompt that encodes a sentence and the scorer
// that turns the model's output into label scores. make_task is the one place
// where the model's family decides them:
//   masked LM with an MLM head:    MaskedPrompt + the MLM head at the mask
//   masked LM without (MiniLM):    the sentence alone + the cosine head
//   causal LM:                     CausalPrompt + the LM head after the prompt
#pragma once

#include <memory>
#include <vector>

#include "answer_generation.hpp"
#include "evaluation.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/text/tokenizer.hpp"
#include "options.hpp"
#include "prompt.hpp"
#include "scorer.hpp"

namespace sst2 {

struct Task {
  std::unique_ptr<Prompt> prompt;
  // The training loss's scores (and, but for generation tasks, the answers).
  std::unique_ptr<LabelScorer> scorer;
  // A generation task's (SQuAD, DROP): what answers; null for the others.
  std::unique_ptr<AnswerGenerator> generator;

  // The generator's exact match and F1, or the scorer's accuracy: in both,
  // Evaluation::accuracy is the metric a run selects its best step by. In an
  // MPI job every rank must call it.
  Evaluation evaluate(const std::vector<EncodedExample>& examples) const;
  const char* metric() const { return generator ? "F1" : "accuracy"; }
};

// The task for `model` (which the scorer keeps a reference to, as the prompt
// does to `tokenizer`) under o.head, o.prompt and o.cosine_scale. Throws
// mezo::Error for a head the model cannot have, a template or label words
// the family refuses, or a --max-length beyond the model's longest sequence.
Task make_task(mezo::LanguageModel& model, const mezo::Tokenizer& tokenizer, const TrainOptions& o);

}  // namespace sst2
