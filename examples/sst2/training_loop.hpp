// The MeZO steps of a run, from its first (0, or where a resumed run's seed
// log ends) to o.steps: each step's batch, the step itself (data-parallel in
// an MPI job), its metrics line and seed-log record, dev evaluations every
// o.eval_every steps, the progress line, and the stop after
// o.max_rejected_in_a_row rejected steps in a row.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "batch_sampler.hpp"
#include "mezo/mezo.hpp"
#include "options.hpp"
#include "prompt.hpp"
#include "run_record.hpp"
#include "scorer.hpp"
#include "task.hpp"

namespace sst2 {

struct TrainingRun {
  const TrainOptions& options;
  const mezo::ParamSet& trainable;
  mezo::Optimizer& optimizer;
  mezo::StepOptions step_options;
  const Task& task;  // its scorer gives the loss, its evaluate() the dev metric
  const std::vector<EncodedExample>& train;
  const std::vector<EncodedExample>& dev;
  std::optional<mezo::TrajectoryWriter>& seed_log;  // rank 0 only
  RunRecord& record;
};

// The examples of step t: sample_batch (batch_sampler.hpp).

// Runs steps [first_step, options.steps); returns the steps per second of
// this session. Throws mezo::Error after too many rejected steps in a row.
double run_steps(TrainingRun& run, std::int64_t first_step);

}  // namespace sst2
