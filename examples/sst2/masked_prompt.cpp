#include "masked_prompt.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

PromptOptions with_defaults(PromptOptions options, mezo::ModelType type) {
  const bool roberta = type == mezo::ModelType::roberta;
  if (options.template_text.empty()) {
    options.template_text = roberta ? "{sentence} It was{mask}." : "{sentence} it was {mask} .";
  }
  if (options.label_words.empty()) {
    options.label_words = roberta ? std::vector<std::string>{" terrible", " great"}
                                  : std::vector<std::string>{"terrible", "great"};
  }
  return options;
}

}  // namespace

MaskedPrompt::MaskedPrompt(const mezo::Tokenizer& tokenizer, mezo::ModelType type,
                           PromptOptions options, Input input)
    : Prompt(with_defaults(std::move(options), type)), tokenizer_(tokenizer), input_(input) {
  const TemplateParts parts = split_template(options_.template_text, /*mask_required=*/true);
  sentence_first_ = parts.sentence_first;
  before_ = tokenizer_.encode(parts.before);
  between_ = tokenizer_.encode(parts.between);
  after_ = tokenizer_.encode(parts.after);

  for (const std::string& word : options_.label_words) {
    const auto ids = tokenizer_.encode(word);
    if (ids.size() != 1) {
      std::vector<std::string> pieces;
      for (const auto id : ids) pieces.push_back(tokenizer_.id_to_token(id));
      fail(
          fmt::format("label word '{}' is {} tokens ({}), not one: choose a word the "
                      "vocabulary holds whole",
                      word, ids.size(), fmt::join(pieces, " ")));
    }
    label_ids_.push_back(ids[0]);
  }
  const int fixed = static_cast<int>(before_.size() + between_.size() + after_.size()) + 3;
  if (options_.max_length < fixed + 1) {
    fail(fmt::format("max length {} leaves no room for the sentence in template '{}'",
                     options_.max_length, options_.template_text));
  }
}

std::vector<std::int32_t> MaskedPrompt::sentence_ids(const std::string& text,
                                                     std::size_t budget) const {
  auto ids = tokenizer_.encode(trimmed(text));
  if (ids.size() > budget) ids.resize(budget);  // tail truncation, as the paper does
  return ids;
}

EncodedExample MaskedPrompt::encode(const Example& example) const {
  return input_ == Input::prompt ? encode_prompt(example) : encode_sentence_only(example);
}

EncodedExample MaskedPrompt::encode_prompt(const Example& example) const {
  const auto& special = tokenizer_.special_tokens();
  const std::size_t fixed =
      before_.size() + between_.size() + after_.size() + 3;  // begin, mask, end
  const auto sentence = sentence_ids(example.text, options_.max_length - fixed);
  EncodedExample out;
  out.label = example.label;
  auto& ids = out.ids;
  ids.push_back(special.begin);
  ids.insert(ids.end(), before_.begin(), before_.end());
  const auto put_mask = [&] {
    out.query_position = static_cast<std::int64_t>(ids.size());
    ids.push_back(special.mask);
  };
  if (sentence_first_) {
    ids.insert(ids.end(), sentence.begin(), sentence.end());
    ids.insert(ids.end(), between_.begin(), between_.end());
    put_mask();
  } else {
    put_mask();
    ids.insert(ids.end(), between_.begin(), between_.end());
    ids.insert(ids.end(), sentence.begin(), sentence.end());
  }
  ids.insert(ids.end(), after_.begin(), after_.end());
  ids.push_back(special.end);
  return out;
}

EncodedExample MaskedPrompt::encode_sentence_only(const Example& example) const {
  const auto& special = tokenizer_.special_tokens();
  EncodedExample out;
  out.label = example.label;
  out.ids.push_back(special.begin);
  const auto sentence = sentence_ids(example.text, options_.max_length - 2);
  out.ids.insert(out.ids.end(), sentence.begin(), sentence.end());
  out.ids.push_back(special.end);
  return out;
}

std::vector<std::int32_t> MaskedPrompt::encode_filled(std::size_t label) const {
  // The template without its sentence, the label word where the mask was:
  // "It was great." — what a similarity head compares sentences against.
  std::vector<std::int32_t> ids = {tokenizer_.special_tokens().begin};
  if (sentence_first_) {
    ids.insert(ids.end(), between_.begin(), between_.end());
    ids.push_back(label_ids_.at(label));
  } else {
    ids.insert(ids.end(), before_.begin(), before_.end());
    ids.push_back(label_ids_.at(label));
    ids.insert(ids.end(), between_.begin(), between_.end());
  }
  ids.insert(ids.end(), after_.begin(), after_.end());
  ids.push_back(tokenizer_.special_tokens().end);
  return ids;
}

}  // namespace sst2
