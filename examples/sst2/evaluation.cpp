#include "evaluation.hpp"

#include <algorithm>

#include "cluster.hpp"

namespace sst2 {
namespace {
constexpr std::size_t kEvalBatch = 64;  // examples per forward
}

double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples) {
  std::vector<const EncodedExample*> chunk;
  std::vector<float> logits;
  std::size_t correct = 0;
  const std::size_t stride = kEvalBatch * static_cast<std::size_t>(Cluster::size());
  for (std::size_t begin = kEvalBatch * static_cast<std::size_t>(Cluster::rank());
       begin < examples.size(); begin += stride) {
    chunk.clear();
    for (std::size_t i = begin; i < std::min(examples.size(), begin + kEvalBatch); ++i)
      chunk.push_back(&examples[i]);
    scorer.score(chunk, logits);
    const std::size_t L = scorer.num_labels();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const auto row = logits.begin() + static_cast<std::ptrdiff_t>(i * L);
      const auto best = std::max_element(row, row + static_cast<std::ptrdiff_t>(L)) - row;
      correct += best == chunk[i]->label;
    }
  }
  correct = static_cast<std::size_t>(
      Cluster::sum(static_cast<std::int64_t>(correct), "evaluation count all-gather"));
  return examples.empty() ? 0.0
                          : static_cast<double>(correct) / static_cast<double>(examples.size());
}

}  // namespace sst2
