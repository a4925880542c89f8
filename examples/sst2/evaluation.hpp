// Accuracy of a scorer on encoded examples (dev and test evaluations).
#pragma once

#include <string>
#include <vector>

#include "prompt.hpp"
#include "scorer.hpp"

namespace sst2 {

struct Evaluation {
  // The fraction of the examples whose highest-scoring label is theirs (ties
  // go to the lower label).
  double accuracy = 0.0;
  // The fraction answered with each label: a calibration check (a model that
  // answers one label for nearly everything scores about that label's share).
  std::vector<double> answered;
};

// Scores `examples`. In an MPI job every rank must call it: the examples are
// scored in chunks spread over the ranks and the counts summed, so the result
// does not depend on the number of ranks.
Evaluation evaluate(LabelScorer& scorer, const std::vector<EncodedExample>& examples);
double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples);

// The fraction of `examples` whose gold label is each of 0..num_labels-1.
std::vector<double> label_shares(const std::vector<EncodedExample>& examples,
                                 std::size_t num_labels);

// "' terrible' 42.0%, ' great' 58.0%": one share per label word.
std::string describe_shares(const std::vector<std::string>& label_words,
                            const std::vector<double>& shares);

}  // namespace sst2
