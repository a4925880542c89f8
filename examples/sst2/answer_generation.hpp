// Generation tasks (SQuAD, DROP) as the MeZO reference evaluates and trains
// them (large_models/run.py): the answer is the model's greedy continuation
// of the prompt, at most kMaxAnswerTokens tokens, ending at the first newline
// token or the end token, decoded and stripped; it is scored by exact match
// and F1 against every gold answer (answer_metrics.hpp). Training minimises
// AnswerNll, or the answers' −F1 itself (AnswerGenerator::negative_f1).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "evaluation.hpp"
#include "mezo/model/causal_lm.hpp"
#include "mezo/objective.hpp"
#include "mezo/text/tokenizer.hpp"
#include "prompt.hpp"

namespace sst2 {

class AnswerGenerator {
 public:
  // Keeps references to both. Throws mezo::Error when the tokenizer has no
  // token for "\n".
  AnswerGenerator(mezo::CausalLM& model, const mezo::Tokenizer& tokenizer);

  // The model's answer to `example` (its ids are the prompt).
  std::string answer(const EncodedExample& example);

  // Mean exact match and F1 over `examples` (Evaluation::exact_match, f1;
  // `accuracy` holds the F1, what a run selects its best step by). In an MPI
  // job every rank must call it: the examples are spread over the ranks.
  Evaluation evaluate(const std::vector<EncodedExample>& examples);

  // The F1 objective (--objective f1, the MeZO paper's non-differentiable
  // one: "MeZO (non-diff)" in its Table 3): −F1 of the model's answer to each
  // example against its golds, into out; no gradient exists for it, a MeZO
  // step needs only its values. The batch's loss is mezo::mean_loss(out).
  void negative_f1(std::span<const EncodedExample* const> examples, std::span<double> out);

 private:
  mezo::CausalLM& model_;
  const mezo::Tokenizer& tokenizer_;
  std::vector<std::int32_t> stop_ids_;  // "\n" as the tokenizer writes it alone, and the end token
};

// The training loss of a generation task: the mean over the batch of −s_i,
// s_i the scorer's one score per example (make_per_example_scorer with one
// candidate, the gold answer): the mean log-probability of the answer's
// tokens after the prompt. (The reference averages over all answer tokens of
// the batch at once; this averages per example first, so that the loss is a
// mean over examples and shards over MPI ranks.)
class AnswerNll final : public mezo::Objective {
 public:
  std::string_view name() const override { return "answer_nll"; }
  float operator()(mezo::Logits logits, std::span<const std::int32_t> labels) const override;
  void example_losses(mezo::Logits logits, std::span<const std::int32_t> labels,
                      std::span<double> out) const override;
};

}  // namespace sst2
