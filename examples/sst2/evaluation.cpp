#include "evaluation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "cluster.hpp"

namespace sst2 {
namespace {
constexpr std::size_t kEvalBatch = 64;  // examples per forward
}

Evaluation evaluate(LabelScorer& scorer, const std::vector<EncodedExample>& examples) {
  const std::size_t L = scorer.num_labels();
  std::vector<const EncodedExample*> chunk;
  std::vector<float> logits;
  std::size_t correct = 0;
  std::vector<std::int64_t> answered(L, 0);
  const std::size_t stride = kEvalBatch * static_cast<std::size_t>(Cluster::size());
  for (std::size_t begin = kEvalBatch * static_cast<std::size_t>(Cluster::rank());
       begin < examples.size(); begin += stride) {
    chunk.clear();
    for (std::size_t i = begin; i < std::min(examples.size(), begin + kEvalBatch); ++i)
      chunk.push_back(&examples[i]);
    scorer.score(chunk, logits);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const auto row = logits.begin() + static_cast<std::ptrdiff_t>(i * L);
      const auto best = std::max_element(row, row + static_cast<std::ptrdiff_t>(L)) - row;
      correct += best == chunk[i]->label;
      ++answered[static_cast<std::size_t>(best)];
    }
  }
  correct = static_cast<std::size_t>(
      Cluster::sum(static_cast<std::int64_t>(correct), "evaluation count all-gather"));
  Evaluation result;
  if (examples.empty()) return result;
  const auto n = static_cast<double>(examples.size());
  result.accuracy = static_cast<double>(correct) / n;
  for (const std::int64_t count : answered)
    result.answered.push_back(static_cast<double>(Cluster::sum(count, "answer count all-gather")) /
                              n);
  return result;
}

double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples) {
  return evaluate(scorer, examples).accuracy;
}

std::vector<double> label_shares(const std::vector<EncodedExample>& examples,
                                 std::size_t num_labels) {
  std::vector<double> shares(num_labels, 0.0);
  for (const EncodedExample& e : examples) shares.at(static_cast<std::size_t>(e.label)) += 1.0;
  for (double& share : shares) share /= std::max<double>(1.0, static_cast<double>(examples.size()));
  return shares;
}

std::string describe_shares(const std::vector<std::string>& label_words,
                            const std::vector<double>& shares) {
  std::string text;
  for (std::size_t k = 0; k < shares.size(); ++k) {
    if (k > 0) text += ", ";
    text += fmt::format("'{}' {:.1f}%", k < label_words.size() ? label_words[k] : std::to_string(k),
                        100 * shares[k]);
  }
  return text;
}

}  // namespace sst2
