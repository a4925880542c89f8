#include "answer_metrics.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

namespace sst2 {
namespace {

constexpr const char* kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";  // string.punctuation

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // \w matches letters of other scripts too
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(normalize_answer(text))};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

std::string normalize_answer(std::string_view text) {
  // lower, then punctuation out (the script's order: remove_punc(lower(s))).
  std::string s;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (std::strchr(kPunctuation, c) == nullptr || c == '\0') s += c;
  }
  // \b(a|an|the)\b → " ": an article between word boundaries.
  std::string no_articles;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (i == 0 || !is_word_char(s[i - 1])) {
      for (const std::string_view article : {"the", "an", "a"}) {
        const std::size_t end = i + article.size();
        if (s.compare(i, article.size(), article) == 0 && (end == s.size() || !is_word_char(s[end]))) {
          no_articles += ' ';
          i = end;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) no_articles += s[i++];
  }
  // ' '.join(text.split())
  std::string out;
  for (std::size_t i = 0; i < no_articles.size();) {
    while (i < no_articles.size() && is_space(no_articles[i])) ++i;
    const std::size_t start = i;
    while (i < no_articles.size() && !is_space(no_articles[i])) ++i;
    if (i > start) {
      if (!out.empty()) out += ' ';
      out.append(no_articles, start, i - start);
    }
  }
  return out;
}

double exact_match(std::string_view prediction, const std::vector<std::string>& golds) {
  const std::string p = normalize_answer(prediction);
  return std::any_of(golds.begin(), golds.end(),
                     [&](const std::string& g) { return normalize_answer(g) == p; })
             ? 1.0
             : 0.0;
}

double answer_f1(std::string_view prediction, const std::vector<std::string>& golds) {
  const auto predicted = words(prediction);
  double best = 0.0;
  for (const std::string& gold : golds) {
    const auto truth = words(gold);
    std::map<std::string, int> counts;
    for (const auto& w : truth) ++counts[w];
    int same = 0;
    for (const auto& w : predicted)
      if (auto it = counts.find(w); it != counts.end() && it->second > 0) --it->second, ++same;
    if (same == 0) continue;
    const double precision = static_cast<double>(same) / static_cast<double>(predicted.size());
    const double recall = static_cast<double>(same) / static_cast<double>(truth.size());
    best = std::max(best, 2 * precision * recall / (precision + recall));
  }
  return best;
}

}  // namespace sst2
