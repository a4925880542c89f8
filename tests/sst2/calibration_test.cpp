// Calibrated zero-shot (examples/sst2/evaluation.hpp calibrate()): the bias on
// the label margin that maximises dev accuracy, checked against a brute-force
// scan of biases, and its test accuracy.
#include <gtest/gtest.h>

#include <random>

#include "evaluation.hpp"

namespace {

std::vector<sst2::EncodedExample> with_labels(const std::vector<int>& labels) {
  std::vector<sst2::EncodedExample> out;
  for (const int l : labels) out.push_back({{}, -1, l});
  return out;
}

double accuracy(const std::vector<double>& margins, const std::vector<int>& labels, double b) {
  int correct = 0;
  for (std::size_t i = 0; i < margins.size(); ++i) correct += (margins[i] + b > 0) == labels[i];
  return double(correct) / double(margins.size());
}

// A model that leans to label 1 (margins shifted up by 2): the bias undoes it.
TEST(Calibration, BiasMaximisesDevAccuracyAndCarriesToTest) {
  std::mt19937 gen(4);
  std::normal_distribution<double> noise(0.0, 1.0);
  const auto make = [&](int n, std::vector<int>& labels) {
    sst2::Evaluation e;
    for (int i = 0; i < n; ++i) {
      labels.push_back(i % 2);
      e.margins.push_back((i % 2 ? 1.0 : -1.0) + 2.0 + noise(gen));
    }
    return e;
  };
  std::vector<int> dev_labels, test_labels;
  const sst2::Evaluation dev = make(400, dev_labels), test = make(600, test_labels);
  const sst2::Calibration c =
      sst2::calibrate(dev, with_labels(dev_labels), test, with_labels(test_labels));

  double best = 0;
  for (double b = -6; b <= 6; b += 1e-3) best = std::max(best, accuracy(dev.margins, dev_labels, b));
  EXPECT_DOUBLE_EQ(c.dev_accuracy, best);
  EXPECT_DOUBLE_EQ(c.dev_accuracy, accuracy(dev.margins, dev_labels, c.bias));
  EXPECT_DOUBLE_EQ(c.test_accuracy, accuracy(test.margins, test_labels, c.bias));
  EXPECT_NEAR(c.bias, -2.0, 0.5) << "the shift the margins were given";
  EXPECT_GT(c.test_accuracy, accuracy(test.margins, test_labels, 0.0) + 0.2);
}

// Already calibrated margins keep a bias near 0 (ties go to the smallest |b|).
TEST(Calibration, SeparableMarginsKeepTheSmallestBias) {
  sst2::Evaluation dev;
  dev.margins = {-3, -2, -1, 1, 2, 3};
  const std::vector<int> labels = {0, 0, 0, 1, 1, 1};
  const auto examples = with_labels(labels);
  const sst2::Calibration c = sst2::calibrate(dev, examples, dev, examples);
  EXPECT_EQ(c.bias, 0.0);
  EXPECT_EQ(c.dev_accuracy, 1.0);
}

}  // namespace
