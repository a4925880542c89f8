#include "prompt.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mezo/error.hpp"

namespace sst2 {

TemplateParts split_template(const std::string& text, bool mask_required) {
  const auto s = text.find(kSentenceSlot), m = text.find(kMaskSlot);
  if (s == std::string::npos || (mask_required && m == std::string::npos)) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        mask_required
            ? fmt::format("template '{}' must contain {} and {}", text, kSentenceSlot, kMaskSlot)
            : fmt::format("template '{}' must contain {}", text, kSentenceSlot));
  }
  TemplateParts parts;
  if (m == std::string::npos) {
    parts.has_mask = false;
    parts.before = text.substr(0, s);
    parts.after = text.substr(s + kSentenceSlot.size());
    return parts;
  }
  parts.sentence_first = s < m;
  const std::size_t first = std::min(s, m), second = std::max(s, m);
  const std::size_t first_len = parts.sentence_first ? kSentenceSlot.size() : kMaskSlot.size();
  const std::size_t second_len = parts.sentence_first ? kMaskSlot.size() : kSentenceSlot.size();
  parts.before = text.substr(0, first);
  parts.between = text.substr(first + first_len, second - first - first_len);
  parts.after = text.substr(second + second_len);
  return parts;
}

std::string trimmed(const std::string& text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  const auto begin = text.find_first_not_of(" \t\r\n");
  return end == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
}

std::string stripped(const std::string& text) {
  const char* space = " \t\n\r\f\v";
  const auto begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

std::vector<Example> to_examples(const std::vector<mezo::LabeledExample>& labeled) {
  std::vector<Example> out;
  out.reserve(labeled.size());
  for (const auto& e : labeled) out.push_back({e.text, e.label, {}, {}});
  return out;
}

std::vector<EncodedExample> encode_all(const std::vector<Example>& examples,
                                       const Prompt& prompt, std::int64_t limit) {
  std::vector<EncodedExample> out;
  const std::size_t n = limit > 0 ? std::min<std::size_t>(examples.size(), limit) : examples.size();
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(prompt.encode(examples[i]));
  return out;
}

}  // namespace sst2
