// `mezo-sst2 train`: prompt-based MeZO fine-tuning on SST-2, end to end.
#pragma once

#include "options.hpp"

namespace sst2 {

// Runs (or, with resume, continues) a training run; returns the exit status.
// Throws mezo::Error for bad input.
int train(const TrainOptions& options, bool resume);

}  // namespace sst2
