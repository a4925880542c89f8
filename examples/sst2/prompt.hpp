// Prompts: turning an SST-2 sentence into the token ids a masked LM scores,
// as in LM-BFF / the MeZO paper:
//   RoBERTa: <s>{sentence} It was<mask>.</s>     label words " terrible" / " great"
//   BERT:    [CLS] {sentence} it was [MASK] . [SEP]   label words "terrible" / "great"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mezo/data/labeled_text.hpp"
#include "mezo/model/config.hpp"
#include "mezo/text/tokenizer.hpp"

namespace sst2 {

struct PromptOptions {
  // "{sentence}" and "{mask}" are replaced by the sentence and the mask token;
  // the text around them is tokenised piece by piece. Empty = the default for
  // the model type (above).
  std::string template_text;
  std::vector<std::string> label_words;  // one per label; empty = the default
  int max_length = 128;                  // tokens, specials included
};

struct EncodedExample {
  std::vector<std::int32_t> ids;  // specials included
  std::int64_t mask_position = -1;
  std::int32_t label = 0;
};

class PromptEncoder {
 public:
  // Throws mezo::Error if the template lacks {sentence} or {mask}, or a label
  // word is not exactly one token (naming the word and its pieces).
  PromptEncoder(const mezo::Tokenizer& tokenizer, mezo::ModelType type, PromptOptions options);

  // The prompt for one sentence; the sentence's tokens are cut from the tail
  // so the whole prompt fits max_length.
  EncodedExample encode(const mezo::LabeledExample& example) const;
  // The sentence alone between the begin and end specials (for similarity heads).
  EncodedExample encode_plain(const mezo::LabeledExample& example) const;
  // "{template with the label word in place of the mask}" between specials.
  std::vector<std::int32_t> encode_filled(std::size_t label) const;

  const std::vector<std::int32_t>& label_word_ids() const { return label_ids_; }
  const std::vector<std::string>& label_words() const { return options_.label_words; }
  const std::string& template_text() const { return options_.template_text; }

 private:
  std::vector<std::int32_t> sentence_ids(const std::string& text, std::size_t budget) const;

  const mezo::Tokenizer& tokenizer_;
  PromptOptions options_;
  std::vector<std::int32_t> before_, between_, after_;  // template text pieces
  bool sentence_first_ = true;                          // {sentence} comes before {mask}
  std::vector<std::int32_t> label_ids_;
};

}  // namespace sst2
