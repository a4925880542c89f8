#include "mezo/objective.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <utility>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

namespace {
void check_shapes(std::string_view objective, Logits logits, std::span<const std::int32_t> labels) {
  if (logits.rows <= 0 || logits.cols <= 0 || logits.data == nullptr) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: logits must be a non-empty [rows x cols] array, got [{} x {}]",
                            objective, logits.rows, logits.cols));
  }
  if (static_cast<std::int64_t>(labels.size()) != logits.rows) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {} labels for {} rows of logits",
                                                         objective, labels.size(), logits.rows));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= logits.cols) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: label {} of row {} is outside [0, {})", objective, labels[i], i,
                              logits.cols));
    }
  }
}
}  // namespace

float CrossEntropy::operator()(Logits logits, std::span<const std::int32_t> labels) const {
  check_shapes(name(), logits, labels);
  double total = 0.0;
  for (std::int64_t r = 0; r < logits.rows; ++r) {
    const float* row = logits.data + r * logits.cols;
    double max_logit = -std::numeric_limits<double>::infinity();
    for (std::int64_t c = 0; c < logits.cols; ++c) max_logit = std::fmax(max_logit, row[c]);
    double sum_exp = 0.0;
    for (std::int64_t c = 0; c < logits.cols; ++c) sum_exp += std::exp(row[c] - max_logit);
    total += max_logit + std::log(sum_exp) - row[labels[r]];
    // A NaN anywhere in the row must surface: fmax skips NaN, so add it back.
    for (std::int64_t c = 0; c < logits.cols; ++c) {
      if (std::isnan(row[c])) total = std::numeric_limits<double>::quiet_NaN();
    }
  }
  return static_cast<float>(total / static_cast<double>(logits.rows));
}

float NegativeAccuracy::operator()(Logits logits, std::span<const std::int32_t> labels) const {
  check_shapes(name(), logits, labels);
  std::int64_t correct = 0;
  for (std::int64_t r = 0; r < logits.rows; ++r) {
    const float* row = logits.data + r * logits.cols;
    std::int64_t best = 0;
    for (std::int64_t c = 0; c < logits.cols; ++c) {
      if (std::isnan(row[c])) return std::numeric_limits<float>::quiet_NaN();
      if (row[c] > row[best]) best = c;
    }
    correct += best == labels[r];
  }
  return -static_cast<float>(static_cast<double>(correct) / static_cast<double>(logits.rows));
}

CallableObjective::CallableObjective(std::string name, Function function)
    : name_(std::move(name)), function_(std::move(function)) {
  if (!function_) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("CallableObjective '{}': empty function", name_));
  }
}

float CallableObjective::operator()(Logits logits, std::span<const std::int32_t> labels) const {
  return function_(logits, labels);
}

MEZO_END_NAMESPACE
