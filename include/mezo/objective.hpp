// Objectives: turn a batch of class logits and labels into the scalar loss a
// MeZO step compares. Lower is better for every objective.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// Row-major [rows × cols] logits on the host: one row per example, one column
// per class (e.g. the label words' MLM scores).
struct Logits {
  const float* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

class MEZO_API Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string_view name() const = 0;
  // Throws mezo::Error if the shapes disagree or a label is out of range.
  // Non-finite logits give a non-finite loss, which mezo::step rejects.
  virtual float operator()(Logits logits, std::span<const std::int32_t> labels) const = 0;
  // One term per row whose mean_loss() is operator()'s value, bit for bit.
  // This is what lets data-parallel training (mezo::DataParallel) combine
  // shards of a batch into the very loss one process computes on the whole
  // batch. The default throws mezo::Error (unsupported): an objective that is
  // not a mean over examples (e.g. a CallableObjective) cannot be sharded.
  virtual void example_losses(Logits logits, std::span<const std::int32_t> labels,
                              std::span<double> out) const;
};

// The mean of per-example losses as every built-in objective takes it: summed
// in order in double (from −0.0, so all −0.0 terms stay −0.0), divided by the
// count, rounded to float once. NaN if any term is NaN; throws for no terms.
MEZO_API float mean_loss(std::span<const double> example_losses);

// Mean over the batch of −log softmax(logits)[label].
class MEZO_API CrossEntropy final : public Objective {
 public:
  std::string_view name() const override { return "cross_entropy"; }
  float operator()(Logits logits, std::span<const std::int32_t> labels) const override;
  void example_losses(Logits logits, std::span<const std::int32_t> labels,
                      std::span<double> out) const override;  // −log softmax[label] per row
};

// −(fraction of rows whose argmax is the label); ties go to the lowest class.
// Piecewise constant, so a step's projected gradient is exactly 0 unless a
// prediction flips between the +ε and −ε forwards.
class MEZO_API NegativeAccuracy final : public Objective {
 public:
  std::string_view name() const override { return "negative_accuracy"; }
  float operator()(Logits logits, std::span<const std::int32_t> labels) const override;
  void example_losses(Logits logits, std::span<const std::int32_t> labels,
                      std::span<double> out) const override;  // −1 correct, −0 wrong, NaN
};

// Any user function of (logits, labels).
class MEZO_API CallableObjective final : public Objective {
 public:
  using Function = std::function<float(Logits, std::span<const std::int32_t>)>;
  CallableObjective(std::string name, Function function);
  std::string_view name() const override { return name_; }
  float operator()(Logits logits, std::span<const std::int32_t> labels) const override;

 private:
  std::string name_;
  Function function_;
};

MEZO_END_NAMESPACE
