// Label scorers: the model's score for each label of each example, the
// logits the objectives (cross-entropy, accuracy) see. One implementation per
// head: encoder_scorers.hpp (masked-LM head, cosine surrogate) and
// decoder_scorers.hpp (LM head); task.cpp picks one for the model.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mezo/model/batch.hpp"
#include "prompt.hpp"

namespace sst2 {

class LabelScorer {
 public:
  virtual ~LabelScorer() = default;
  // "mlm", "cosine", "lm": the head, as the run's summary names it.
  virtual const char* name() const = 0;
  std::size_t num_labels() const { return num_labels_; }
  // logits[i × num_labels + k]: the score of label k for examples[i].
  virtual void score(std::span<const EncodedExample* const> examples,
                     std::vector<float>& logits) = 0;

 protected:
  explicit LabelScorer(std::size_t num_labels) : num_labels_(num_labels) {}
  std::size_t num_labels_;
};

// The examples' ids, padded with `pad` to the longest.
mezo::TokenBatch to_batch(std::span<const EncodedExample* const> examples, std::int32_t pad);

}  // namespace sst2
