// Label scorers for encoders (masked LMs):
//  - mlm: the masked-LM head at the mask position, restricted to the label
//    words' ids (the paper's prompt-based head).
//  - cosine: for encoders without an MLM head (sentence encoders such as
//    all-MiniLM-L6-v2): scale · cos(mean-pooled sentence, mean-pooled
//    "It was <label word>." prompt). The scale (20) and the mean pooling are
//    what that model was trained with, so zero-shot it already separates the
//    classes; the label prompts are re-encoded at every call because they
//    depend on the (perturbed) weights. Mean pooling is MaskedLM's own, not
//    the LanguageModel interface's.
#pragma once

#include <memory>

#include "masked_prompt.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/model/masked_lm.hpp"
#include "scorer.hpp"

namespace sst2 {

std::unique_ptr<LabelScorer> make_mlm_scorer(mezo::LanguageModel& model, const MaskedPrompt& prompt,
                                             std::int32_t pad);
std::unique_ptr<LabelScorer> make_cosine_scorer(mezo::MaskedLM& model, const MaskedPrompt& prompt,
                                                float scale);

}  // namespace sst2
