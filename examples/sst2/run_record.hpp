// What a run records about itself while it runs: its progress and dev
// evaluations (RunState, saved in run.json) and the metrics lines. Only rank
// 0 of an MPI job writes; the other ranks keep the same state in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "options.hpp"
#include "run_files.hpp"

namespace sst2 {

struct RunState {
  std::int64_t steps_done = 0;
  std::int64_t last_eval_step = 0;
  std::int64_t best_step = -1;
  double best_dev = -1.0;
  double zero_shot_dev = 0.0, zero_shot_test = 0.0;
  // {"bias", "dev_accuracy", "test_accuracy"} of evaluation.hpp's calibrate();
  // null for runs made before it (and for heads with more than two labels).
  nlohmann::json zero_shot_calibrated;
  nlohmann::json evaluations = nlohmann::json::array();
};

// run.json's "format": runs of another format are not resumed.
inline constexpr int kRunFormat = 1;

RunState state_from_json(const nlohmann::json& run);

class RunRecord {
 public:
  // Opens metrics.jsonl (rank 0): new, or cut to what a resumed run keeps
  // (steps before first_step, evaluations run.json has).
  RunRecord(const TrainOptions& o, std::string model_digest, RunState state,
            std::int64_t first_step);

  RunState& state() { return state_; }
  const RunState& state() const { return state_; }
  // Seconds since this record was opened (this session).
  double elapsed() const;

  void append_metrics(const nlohmann::json& line);
  // A dev evaluation after `steps_done` steps: the best so far, and a line.
  void record_dev(std::int64_t steps_done, double dev_accuracy);
  // Rewrites run.json atomically (rank 0), with `result` when given.
  void save(const std::optional<nlohmann::json>& result = std::nullopt) const;

 private:
  const TrainOptions& options_;
  std::string digest_;
  RunState state_;
  std::optional<MetricsLog> metrics_;  // rank 0 only
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sst2
