// Masked-LM prompts, as in LM-BFF / the MeZO paper's RoBERTa setting:
//   RoBERTa: <s>{sentence} It was<mask>.</s>     label words " terrible" / " great"
//   BERT:    [CLS] {sentence} it was [MASK] . [SEP]   label words "terrible" / "great"
// The model scores the label words at the mask; each must be one token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/text/tokenizer.hpp"
#include "prompt.hpp"

namespace sst2 {

class MaskedPrompt final : public Prompt {
 public:
  // What encode() gives: the prompt with its mask, or the sentence alone
  // between the begin and end specials (for similarity heads).
  enum class Input { prompt, sentence_only };

  // Throws mezo::Error if the template lacks {sentence} or {mask}, or a label
  // word is not exactly one token (naming the word and its pieces).
  MaskedPrompt(const mezo::Tokenizer& tokenizer, mezo::ModelType type, PromptOptions options,
               Input input = Input::prompt);

  // The sentence's tokens are cut from the tail so the whole fits max_length.
  EncodedExample encode(const Example& example) const override;
  // "{template with the label word in place of the mask}" between specials.
  std::vector<std::int32_t> encode_filled(std::size_t label) const;

  const std::vector<std::int32_t>& label_word_ids() const { return label_ids_; }

 private:
  EncodedExample encode_prompt(const Example& example) const;
  EncodedExample encode_sentence_only(const Example& example) const;
  std::vector<std::int32_t> sentence_ids(const std::string& text, std::size_t budget) const;

  const mezo::Tokenizer& tokenizer_;
  Input input_;
  std::vector<std::int32_t> before_, between_, after_;  // template text pieces
  bool sentence_first_ = true;                          // {sentence} comes before {mask}
  std::vector<std::int32_t> label_ids_;
};

}  // namespace sst2
