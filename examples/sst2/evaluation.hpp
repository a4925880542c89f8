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
  // Two-label scorers: score(label 1) − score(label 0) per example, in order
  // (what calibrate() shifts); empty otherwise.
  std::vector<double> margins;
  // A generation task (answer_generation.hpp): the mean exact match and F1 of
  // the generated answers; `accuracy` then holds the F1, the metric the run
  // selects its best step by (run.json's "metric" says which it is).
  bool generated = false;
  double exact_match = 0.0, f1 = 0.0;
};

// Scores `examples`. In an MPI job every rank must call it: the examples are
// scored in chunks spread over the ranks and the counts summed, so the result
// does not depend on the number of ranks.
Evaluation evaluate(LabelScorer& scorer, const std::vector<EncodedExample>& examples);
double accuracy(LabelScorer& scorer, const std::vector<EncodedExample>& examples);

// Calibrated zero-shot, the baseline a bias on the label margin reaches: the
// bias b that maximises dev accuracy of "label 1 iff margin + b > 0" (the
// midpoint of the best gap between sorted dev margins; the smallest |b| among
// ties), and that rule's test accuracy. Two-label evaluations only.
struct Calibration {
  double bias = 0.0;
  double dev_accuracy = 0.0;
  double test_accuracy = 0.0;
};
Calibration calibrate(const Evaluation& dev, const std::vector<EncodedExample>& dev_examples,
                      const Evaluation& test, const std::vector<EncodedExample>& test_examples);

// The fraction of `examples` whose gold label is each of 0..num_labels-1.
std::vector<double> label_shares(const std::vector<EncodedExample>& examples,
                                 std::size_t num_labels);

// "' terrible' 42.0%, ' great' 58.0%": one share per label word.
std::string describe_shares(const std::vector<std::string>& label_words,
                            const std::vector<double>& shares);

}  // namespace sst2
