#include "mezo/objective.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

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

void Objective::example_losses(Logits, std::span<const std::int32_t>, std::span<double>) const {
  throw Error(
      ErrorCode::unsupported,
      fmt::format("objective '{}' is not a mean of per-example losses, so a batch cannot be "
                  "split across data-parallel ranks; implement Objective::example_losses",
                  name()));
}

float mean_loss(std::span<const double> example_losses) {
  if (example_losses.empty()) {
    throw Error(ErrorCode::invalid_argument, "mean_loss: no per-example losses to average");
  }
  double total = -0.0;
  for (const double term : example_losses) total += term;
  return static_cast<float>(total / static_cast<double>(example_losses.size()));
}

namespace {
void check_out(std::string_view objective, Logits logits, std::span<double> out) {
  if (static_cast<std::int64_t>(out.size()) != logits.rows) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: room for {} per-example losses, {} rows of logits", objective,
                            out.size(), logits.rows));
  }
}
}  // namespace

void CrossEntropy::example_losses(Logits logits, std::span<const std::int32_t> labels,
                                  std::span<double> out) const {
  check_shapes(name(), logits, labels);
  check_out(name(), logits, out);
  for (std::int64_t r = 0; r < logits.rows; ++r) {
    const float* row = logits.data + r * logits.cols;
    double max_logit = -std::numeric_limits<double>::infinity();
    for (std::int64_t c = 0; c < logits.cols; ++c) max_logit = std::fmax(max_logit, row[c]);
    double sum_exp = 0.0;
    for (std::int64_t c = 0; c < logits.cols; ++c) sum_exp += std::exp(row[c] - max_logit);
    double term = max_logit + std::log(sum_exp) - row[labels[r]];
    // A NaN anywhere in the row must surface: fmax skips NaN, so add it back.
    for (std::int64_t c = 0; c < logits.cols; ++c) {
      if (std::isnan(row[c])) term = std::numeric_limits<double>::quiet_NaN();
    }
    out[static_cast<std::size_t>(r)] = term;
  }
}

float CrossEntropy::operator()(Logits logits, std::span<const std::int32_t> labels) const {
  std::vector<double> terms(static_cast<std::size_t>(std::max<std::int64_t>(logits.rows, 0)));
  example_losses(logits, labels, terms);
  return mean_loss(terms);
}

void NegativeAccuracy::example_losses(Logits logits, std::span<const std::int32_t> labels,
                                      std::span<double> out) const {
  check_shapes(name(), logits, labels);
  check_out(name(), logits, out);
  for (std::int64_t r = 0; r < logits.rows; ++r) {
    const float* row = logits.data + r * logits.cols;
    std::int64_t best = 0;
    bool nan = false;
    for (std::int64_t c = 0; c < logits.cols; ++c) {
      nan = nan || std::isnan(row[c]);
      if (row[c] > row[best]) best = c;
    }
    // −0.0 rather than 0.0 for a miss: an all-wrong batch then means −0.0,
    // the value −(0 / rows) this objective has always returned.
    out[static_cast<std::size_t>(r)] = nan ? std::numeric_limits<double>::quiet_NaN()
                                       : best == labels[r] ? -1.0
                                                           : -0.0;
  }
}

float NegativeAccuracy::operator()(Logits logits, std::span<const std::int32_t> labels) const {
  std::vector<double> terms(static_cast<std::size_t>(std::max<std::int64_t>(logits.rows, 0)));
  example_losses(logits, labels, terms);
  return mean_loss(terms);
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
