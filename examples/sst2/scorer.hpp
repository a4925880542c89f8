// Label scorers: the model's score for each label of each example, the
// logits the objectives see.
//  - MlmScorer: the masked-LM head at the mask position, restricted to the
//    label words' ids (the paper's prompt-based head).
//  - CosineScorer: for encoders without an MLM head (sentence encoders such as
//    all-MiniLM-L6-v2): scale · cos(mean-pooled sentence, mean-pooled
//    "It was <label word>." prompt). The scale (20) and the mean pooling are
//    what that model was trained with, so zero-shot it already separates the
//    classes; the label prompts are re-encoded at every call because they
//    depend on the (perturbed) weights.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "mezo/model/masked_lm.hpp"
#include "prompt.hpp"

namespace sst2 {

class LabelScorer {
 public:
  virtual ~LabelScorer() = default;
  virtual const char* name() const = 0;
  std::size_t num_labels() const { return num_labels_; }
  // logits[i × num_labels + k]: the score of label k for examples[i].
  virtual void score(std::span<const EncodedExample* const> examples,
                     std::vector<float>& logits) = 0;

 protected:
  explicit LabelScorer(std::size_t num_labels) : num_labels_(num_labels) {}
  std::size_t num_labels_;
};

std::unique_ptr<LabelScorer> make_mlm_scorer(mezo::MaskedLM& model, const PromptEncoder& prompts);
std::unique_ptr<LabelScorer> make_cosine_scorer(mezo::MaskedLM& model, const PromptEncoder& prompts,
                                                float scale);

}  // namespace sst2
