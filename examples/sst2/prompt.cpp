#include "prompt.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

const char* kSentence = "{sentence}";
const char* kMask = "{mask}";

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

// SST-2 sentences end in a space before the tab; a trailing space would
// become a token of its own (RoBERTa's "Ġ"), so it is trimmed.
std::string trimmed(const std::string& text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  const auto begin = text.find_first_not_of(" \t\r\n");
  return end == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
}

}  // namespace

PromptEncoder::PromptEncoder(const mezo::Tokenizer& tokenizer, mezo::ModelType type,
                             PromptOptions options)
    : tokenizer_(tokenizer), options_(std::move(options)) {
  const bool roberta = type == mezo::ModelType::roberta;
  if (options_.template_text.empty()) {
    options_.template_text = roberta ? "{sentence} It was{mask}." : "{sentence} it was {mask} .";
  }
  if (options_.label_words.empty()) {
    options_.label_words = roberta ? std::vector<std::string>{" terrible", " great"}
                                   : std::vector<std::string>{"terrible", "great"};
  }
  const std::string& t = options_.template_text;
  const auto s = t.find(kSentence), m = t.find(kMask);
  if (s == std::string::npos || m == std::string::npos) {
    fail(fmt::format("template '{}' must contain {} and {}", t, kSentence, kMask));
  }
  sentence_first_ = s < m;
  const std::size_t first = std::min(s, m), second = std::max(s, m);
  const std::size_t first_len =
      sentence_first_ ? std::string(kSentence).size() : std::string(kMask).size();
  const std::size_t second_len =
      sentence_first_ ? std::string(kMask).size() : std::string(kSentence).size();
  before_ = tokenizer_.encode(t.substr(0, first));
  between_ = tokenizer_.encode(t.substr(first + first_len, second - first - first_len));
  after_ = tokenizer_.encode(t.substr(second + second_len));

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
                     options_.max_length, t));
  }
}

std::vector<std::int32_t> PromptEncoder::sentence_ids(const std::string& text,
                                                      std::size_t budget) const {
  auto ids = tokenizer_.encode(trimmed(text));
  if (ids.size() > budget) ids.resize(budget);  // tail truncation, as the paper does
  return ids;
}

EncodedExample PromptEncoder::encode(const mezo::LabeledExample& example) const {
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
    out.mask_position = static_cast<std::int64_t>(ids.size());
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

EncodedExample PromptEncoder::encode_plain(const mezo::LabeledExample& example) const {
  const auto& special = tokenizer_.special_tokens();
  EncodedExample out;
  out.label = example.label;
  out.ids.push_back(special.begin);
  const auto sentence = sentence_ids(example.text, options_.max_length - 2);
  out.ids.insert(out.ids.end(), sentence.begin(), sentence.end());
  out.ids.push_back(special.end);
  return out;
}

std::vector<std::int32_t> PromptEncoder::encode_filled(std::size_t label) const {
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
