// Label scorers for decoders (causal LMs), the MeZO paper's OPT objective
// (its reference code's train_as_classification): the score of candidate k,
// tokens c_k1..c_km, is the mean log-probability of its tokens after the prompt,
//   s_k = (1/m) Σ_j log p(c_kj | prompt, c_k1 .. c_k(j-1)),
// and training minimises the cross-entropy of softmax(s) over the candidates.
//
//  - Next-token scorer, when every candidate is one token: s_k = z_k − log Σ_v
//    exp(z_v), z the LM head's logits at the last prompt token. The
//    normaliser is the same for every candidate, so softmax(s) = softmax(z
//    restricted to the candidates) and argmax s = argmax z: one forward of
//    the prompt and one head row per candidate give the exact cross-entropy
//    and prediction, and the scores returned are the raw logits z_k (they
//    differ from the s_k by that per-example constant). This holds only
//    because all candidates are scored at the same position with the same
//    normaliser: with a candidate of several tokens, each position has its
//    own normaliser and the full vocabulary is needed.
//  - Sequence scorer, for any candidates: one row per (example, candidate),
//    the prompt followed by the candidate's tokens but its last; at each
//    candidate position the log-softmax over the full vocabulary gives the
//    candidate token's log-probability; the score is their mean, s_k itself.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "mezo/model/language_model.hpp"
#include "scorer.hpp"

namespace sst2 {

using Candidates = std::vector<std::vector<std::int32_t>>;  // token ids per label

// The next-token scorer when every candidate is a single token, else the
// sequence scorer. `pad` is any valid id (padding is never attended to).
std::unique_ptr<LabelScorer> make_lm_scorer(mezo::LanguageModel& model, Candidates candidates,
                                            std::int32_t pad);
// Each scorer by itself (tests compare them). The next-token scorer throws
// mezo::Error for a candidate that is not exactly one token.
std::unique_ptr<LabelScorer> make_next_token_scorer(mezo::LanguageModel& model,
                                                    Candidates candidates, std::int32_t pad);
std::unique_ptr<LabelScorer> make_sequence_scorer(mezo::LanguageModel& model, Candidates candidates,
                                                  std::int32_t pad);

// For examples that bring their own `count` candidates (EncodedExample::
// candidates, a --task): per batch, the next-token scorer's computation when
// every candidate is one token (over the union of the batch's ids), else the
// sequence scorer's.
std::unique_ptr<LabelScorer> make_per_example_scorer(mezo::LanguageModel& model,
                                                     std::size_t count, std::int32_t pad);

// log softmax(logits)[id], in double: the log-probability of token `id`.
double log_probability(std::span<const float> logits, std::int32_t id);

}  // namespace sst2
