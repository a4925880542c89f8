// A run folder's model and options: what `train` starts or resumes from, and
// what `export` rebuilds weights from (the model, the options run.json
// recorded, and the seed log replayed onto them).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mezo/mezo.hpp"
#include "options.hpp"
#include "run_record.hpp"

namespace sst2 {

// The options of the run: the command line's for a new run (into a folder
// that holds none), run.json's when resuming (with the state it recorded).
struct RunStart {
  TrainOptions options;
  RunState state;
  std::optional<nlohmann::json> previous;  // run.json of the resumed run
};

// Throws mezo::Error for a folder that holds a run (new) or none (resume),
// and for bad options.
RunStart start_run(const TrainOptions& cli, bool resume);

struct LoadedModel {
  std::unique_ptr<mezo::Tokenizer> tokenizer;
  std::unique_ptr<mezo::LanguageModel> model;
  std::string digest;  // of the weights file(s), to recognise them on --resume
};

// Loads o.model_dir; for a resumed run, checks that it is the model the run
// started from. Warns loudly about a random model.
LoadedModel load_checked(const TrainOptions& o, const std::optional<nlohmann::json>& previous);

// What --peft trains on `model`: every weight, or the LoRA factors / prefix
// vectors, initialised from the run seed (so the seed log, replayed onto that
// deterministic start, is the whole checkpoint of a PEFT run).
const mezo::ParamSet& trainable_params(mezo::LanguageModel& model, const TrainOptions& o);

// A fresh copy of the run's model holding the weights after `steps` steps:
// the seed log's records of steps 0 … steps − 1 replayed onto the initial
// weights (a run's best_step counts steps the same way).
std::unique_ptr<mezo::LanguageModel> load_weights_at(const TrainOptions& o,
                                                     const mezo::Perturbation& perturbation,
                                                     std::int64_t steps);

}  // namespace sst2
