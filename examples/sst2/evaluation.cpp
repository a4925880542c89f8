#include "evaluation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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
  std::vector<double> margins(L == 2 ? examples.size() : 0, 0.0);
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
      if (L == 2) margins[begin + i] = double(row[1]) - double(row[0]);
    }
  }
  // Each example was scored on one rank, the others hold 0 for it.
  if (!margins.empty()) Cluster::sum(margins, "evaluation margins all-gather");
  correct = static_cast<std::size_t>(
      Cluster::sum(static_cast<std::int64_t>(correct), "evaluation count all-gather"));
  Evaluation result;
  if (examples.empty()) return result;
  const auto n = static_cast<double>(examples.size());
  result.accuracy = static_cast<double>(correct) / n;
  for (const std::int64_t count : answered)
    result.answered.push_back(static_cast<double>(Cluster::sum(count, "answer count all-gather")) /
                              n);
  result.margins = std::move(margins);
  return result;
}

namespace {

double accuracy_with_bias(const std::vector<double>& margins,
                          const std::vector<EncodedExample>& examples, double bias) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < margins.size(); ++i)
    correct += (margins[i] + bias > 0.0 ? 1 : 0) == examples[i].label;
  return margins.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(margins.size());
}

}  // namespace

Calibration calibrate(const Evaluation& dev, const std::vector<EncodedExample>& dev_examples,
                      const Evaluation& test, const std::vector<EncodedExample>& test_examples) {
  // The rule changes only where −b crosses a dev margin: try b = 0 and the
  // midpoints between neighbouring sorted margins, and beyond both ends.
  std::vector<double> sorted = dev.margins;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> candidates = {0.0};
  if (!sorted.empty()) {
    candidates.push_back(-(sorted.front() - 1.0));
    candidates.push_back(-(sorted.back() + 1.0));
  }
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i] > sorted[i - 1]) candidates.push_back(-(sorted[i] + sorted[i - 1]) / 2);
  Calibration best;
  best.dev_accuracy = -1.0;
  for (const double b : candidates) {
    const double acc = accuracy_with_bias(dev.margins, dev_examples, b);
    if (acc > best.dev_accuracy || (acc == best.dev_accuracy && std::abs(b) < std::abs(best.bias)))
      best.bias = b, best.dev_accuracy = acc;
  }
  best.test_accuracy = accuracy_with_bias(test.margins, test_examples, best.bias);
  return best;
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
