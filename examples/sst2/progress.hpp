// Progress on the terminal: a redrawn one-line bar when stderr is a terminal,
// otherwise one plain line every `every` steps (logs stay readable).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace sst2 {

class Progress {
 public:
  Progress(std::int64_t first_step, std::int64_t total_steps, std::int64_t every);
  // After `step` (0-based) completed with this ℓ+; dev accuracy if known.
  void update(std::int64_t step, float loss, std::optional<double> dev_accuracy,
              double zero_grad_fraction);
  // Ends the bar's line.
  void finish();
  double steps_per_second() const;

 private:
  std::int64_t first_, total_, every_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::int64_t done_ = 0;
  std::optional<double> dev_;
};

}  // namespace sst2
